"""Shared logic of the generation commands (chat, agents, fim).

    args.py         the parsed options of one invocation, and their local checks
    options.py      Typer option aliases shared by `chat` and `agents`
    endpoints.py    what differs between chat, agents and fim: path, fields, default model
    request.py      the request body: sampling fields, response format, tools, prediction
    messages.py     message assembly: prompt and stdin, --messages, system prompt, tool results
    attachments.py  -a/--attach and --doc: images as data: URLs, documents uploaded for a signed URL
    session.py      the saved conversation a turn continues and is saved into
    answer.py       assembling a streamed answer from its chunks (the cheap per-chunk path)
    turn.py         one request/answer exchange: send, print, save, fail cleanly
    run.py          one-shot `chat` / `agents`: from options to a finished turn
    fim.py          `fim`: prompt and suffix (arguments, files, stdin, a cursor marker), one turn
    repl.py         the interactive loop of `chat -i`
    tools_allowed.py  --tool-exec: the allowed tools, their limits, the checks before sending
    tool_exec.py    running one local program: no shell, JSON on stdin, time and output capped
    tool_loop.py    the tool loop: answer, run the allowed calls, send the results, ask again
"""
