"""The interactive loop of `mcli chat -i`: driven with piped input in-process, line by line
through the Repl object, and as a real process under a pseudo-terminal (line editing,
Ctrl-C mid-answer, Ctrl-D, the history file)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from tests.fakeapi import error_400, sse_response
from tests.generation_helpers import (ScriptedInput, chat_requests, open_history, pdf_bytes, saved,
                                      text_chunks)
from tests.process_helpers import default_sigint

CHAT = "/v1/chat/completions"


def sent_contents(api) -> list[list[str]]:
    return [[m["content"] for m in r.json["messages"]] for r in chat_requests(api)]


# -- piped input, in-process ---------------------------------------------------------------------

def test_each_line_is_a_turn_in_one_conversation(api, cli):
    result = cli("chat", "-i", input="first\nsecond\n")
    assert result.exit_code == 0, result
    assert result.stdout == "Hello from the fake API!\nHello from the fake API!\n"
    assert sent_contents(api)[-1] == ["first", "Hello from the fake API!", "second"]
    conversation, records = saved("chat")
    assert len(records) == 4


def test_multi_line_input_with_backslash_and_triple_quotes(api, cli):
    text = 'one \\\ntwo\n"""\nblock a\n\nblock b\n"""\n"""inline"""\n'
    assert cli("chat", "-i", "--no-log", input=text).exit_code == 0
    users = [r.json["messages"][-1]["content"] for r in chat_requests(api)]
    assert users == ["one \ntwo", "block a\n\nblock b", "inline"]


def test_slash_commands(api, cli):
    text = "/model open-mistral-nemo\n/system Be brief.\nhi\n/system\n/help\n/nope\n/exit\nnever sent\n"
    result = cli("chat", "-i", input=text)
    assert result.exit_code == 0, result
    body = chat_requests(api)[-1].json
    assert body["model"] == "open-mistral-nemo"
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert len(chat_requests(api)) == 1
    assert "system: Be brief." in result.stderr
    assert "/model NAME" in result.stderr
    assert "unknown command /nope" in result.stderr


def test_clear_starts_a_new_conversation(api, cli):
    assert cli("chat", "-i", input="one\n/clear\ntwo\n").exit_code == 0
    assert sent_contents(api)[-1] == ["two"]
    store = open_history()
    try:
        assert store.count() == 2
    finally:
        store.close()



def test_a_failed_signed_url_request_does_not_end_the_loop(api, cli, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_bytes())
    assert cli("chat", "summarise", "-a", pdf).exit_code == 0
    api.add("GET", "/v1/files/{file_id}/url", error_400("file is gone"), times=1)
    result = cli("chat", "-i", "-c", input="first\nsecond\n")
    assert result.exit_code == 0, result
    assert "file is gone" in result.stderr
    assert sent_contents(api)[-1][-1] == "second"

def test_double_slash_sends_a_leading_slash(api, cli):
    assert cli("chat", "-i", "--no-log", input="//etc/hosts is a file\n").exit_code == 0
    assert sent_contents(api) == [["/etc/hosts is a file"]]


def test_prompt_argument_is_the_first_turn_and_continue_resumes(api, cli):
    assert cli("chat", "earlier").exit_code == 0
    assert cli("chat", "-i", "-c", "from the argument", input="from the loop\n").exit_code == 0
    assert sent_contents(api)[-1] == ["earlier", "Hello from the fake API!", "from the argument",
                                      "Hello from the fake API!", "from the loop"]


def test_an_error_is_reported_and_the_loop_goes_on(api, cli):
    api.add("POST", CHAT, error_400("Invalid model: nope"), times=1)
    result = cli("chat", "-i", input="first\nsecond\n")
    assert result.exit_code == 0, result
    assert "Invalid model: nope" in result.stderr
    assert result.stdout == "Hello from the fake API!\n"
    assert sent_contents(api)[-1] == ["second"]


def test_agents_have_an_interactive_mode_too(api, cli):
    result = cli("agents", "ag:1", "-i", input="/model x\nhello\n")
    assert result.exit_code == 0, result
    assert "an agent answers with its own model" in result.stderr
    assert api.last("POST", "/v1/agents/completions").json["agent_id"] == "ag:1"


def test_chat_alone_on_a_terminal_starts_the_loop(api, cli, monkeypatch):
    from mistral_cli.generation import repl

    monkeypatch.setattr(repl, "terminal_input", ScriptedInput("hello"))
    result = cli("chat", "--no-log", tty=True)
    assert result.exit_code == 0, result
    assert "new conversation" in result.stderr and sent_contents(api) == [["hello"]]


@pytest.mark.parametrize("args", [["-o", "json"], ["--tool-result", "a=1"], ["-a", "x.png"]])
def test_one_shot_only_options_are_refused(api, cli, args):
    result = cli("chat", "-i", *args)
    assert result.exit_code == 2 and "-i/--interactive" in result.stderr
    assert api.requests == []


# -- the Repl object with injected input ------------------------------------------------------------

def make_repl(cli_env, reader):
    from mistral_cli.generation.repl import Repl

    return Repl(cli_env, setup=None, session=None, read_line=reader)


def test_read_message_prompts_and_joins_lines():
    from mistral_cli.generation.repl import MORE, PROMPT

    reader = ScriptedInput("a \\", "b \\", "c")
    assert make_repl(None, reader).read_message() == "a \nb \nc"
    assert reader.prompts == [PROMPT, MORE, MORE]


def test_ctrl_c_at_the_prompt_keeps_the_loop_and_ctrl_d_leaves(api, cli, monkeypatch):
    from mistral_cli.generation import repl

    reader = ScriptedInput(KeyboardInterrupt(), "still here", EOFError())
    monkeypatch.setattr(repl, "line_reader", lambda env: reader)
    result = cli("chat", "-i")
    assert result.exit_code == 0, result
    assert sent_contents(api) == [["still here"]]


# -- a real terminal --------------------------------------------------------------------------------

class Terminal:
    """`mcli ARGS` under a pseudo-terminal: write keys, wait for output."""

    def __init__(self, *args: str, cwd: Path):
        env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
        pid, fd = pty.fork()
        if pid == 0:  # the child: a session leader whose controlling terminal is the pty
            os.chdir(cwd)
            default_sigint()  # Ctrl-C must work even when the tests run as a background job
            os.execve(sys.executable, [sys.executable, "-m", "mistral_cli", *args], env)
        self.pid, self.fd, self.seen, self.pos = pid, fd, b"", 0

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def expect(self, pattern: bytes, limit: float = 30.0) -> None:
        """Read until PATTERN appears after the previous match (LIMIT only stops a hung test)."""
        deadline = time.monotonic() + limit
        while (found := self.seen.find(pattern, self.pos)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {pattern!r}; output so far: {self.seen[-600:]!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                assert data, f"the process ended before {pattern!r}: {self.seen[-600:]!r}"
                self.seen += data
        self.pos = found + len(pattern)

    def wait(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.seen += os.read(self.fd, 4096)
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        raise AssertionError(f"mcli did not exit: {self.seen[-600:]!r}")


def test_terminal_session_with_line_editing_and_history_file(api, tmp_path):
    term = Terminal("chat", "-i", cwd=tmp_path)
    term.expect(b"/help for commands")
    term.expect(b"> ")
    term.send(b"hllo\x1b[D\x1b[D\x1b[De\r")  # a typo fixed with the left arrow: readline
    term.expect(b"Hello from the fake API!")
    term.expect(b"> ")
    term.send(b"\x04")  # Ctrl-D
    assert term.wait() == 0
    assert chat_requests(api)[-1].json["messages"] == [{"role": "user", "content": "hello"}]
    history = Path(os.environ["MCLI_DATA_DIR"]) / "repl_history"
    assert "hello" in history.read_text()


def test_ctrl_c_stops_the_answer_and_keeps_the_conversation(api, tmp_path):
    api.add("POST", CHAT, sse_response(text_chunks("first ", "second ", "third ", "fourth"), delay=0.4),
            times=1)
    term = Terminal("chat", "-i", cwd=tmp_path)
    term.expect(b"> ")
    term.send(b"tell me\r")
    term.expect(b"first ")
    term.send(b"\x03")  # Ctrl-C
    term.expect(b"(stopped)")
    term.expect(b"> ")
    term.send(b"go on\r")
    term.expect(b"Hello from the fake API!")
    term.send(b"/exit\r")
    assert term.wait() == 0
    assert b"Traceback" not in term.seen
    last = chat_requests(api)[-1].json["messages"]
    assert last[0] == {"role": "user", "content": "tell me"}
    assert last[1]["role"] == "assistant" and last[1]["content"].startswith("first ")
    assert last[2] == {"role": "user", "content": "go on"}
    _conversation, records = saved("chat")
    assert records[1].incomplete and not records[3].incomplete


def test_set_changes_chat_options_mid_conversation_and_show_lists_them(api, cli):
    """The SDK's chatbot example changes the temperature mid-conversation."""
    text = ("first\n/set temperature 0.2\n/set max-tokens 50\n/set --top-p 2\n/set nope 1\n"
            "second\n/set temperature none\n/show\nthird\n")
    result = cli("chat", "-i", "--temperature", "0.9", input=text)
    assert result.exit_code == 0, result
    bodies = [r.json for r in chat_requests(api)]
    assert [b.get("temperature") for b in bodies] == [0.9, 0.2, None]
    assert [b.get("max_tokens") for b in bodies] == [None, 50, 50]
    assert "top_p" not in bodies[1]
    assert "--top-p must be between" in result.stderr
    assert "unknown option 'nope'" in result.stderr
    assert "max-tokens: 50" in result.stderr and "model: mistral-small-latest" in result.stderr


@pytest.mark.parametrize(("text", "inside"), [
    ("first\nhalf \\\n", "a continued line (the last line ends in `\\`)"),
    ('first\n"""\nblock a\n\nblock b\n', 'a """ block that was never closed'),
])
def test_piped_input_ending_inside_a_message_is_exit_2_and_sends_nothing_of_it(api, cli, text, inside):
    result = cli("chat", "-i", "--no-log", input=text)
    assert result.exit_code == 2, result
    assert f"mcli: error: the input ended inside {inside}: that message" in result.stderr
    assert "was not sent" in result.stderr
    assert sent_contents(api) == [["first"]]  # the messages before it were sent and answered
