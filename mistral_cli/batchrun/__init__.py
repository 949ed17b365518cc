"""Batch runs that happen once: a run's fingerprint and tag, its journal-backed procedure
(upload, create, adopt after a crash), and the reuse of earlier uploads of the same bytes.

    spec = RunSpec("batch create", endpoint, model, [LocalInput(path, "prompts.txt")])
    with open_run(env, spec, fresh=False) as run:     # resumes the same inputs' last run
        job = run.job()                                # uploads and creates once, or adopts

The layer sits beside `generation/`: it uses env, api, store and render, and commands call
it. Following a job and saving its results stay with the caller, which passes what it
learnt back (`run.ended(body)`, `run.saved(...)`) so a finished run can be shown again
without a request.
"""
