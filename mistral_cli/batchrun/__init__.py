"""Batch runs that happen once: a run's fingerprint and tag, its journal-backed procedure
(upload, create, adopt what an earlier start sent), and the reuse of earlier uploads.

    spec = RunSpec("batch create", endpoint, model, [LocalInput(path, "prompts.txt")])
    with open_run(env, spec, fresh=False) as run:     # resumes the same inputs' last run
        job_id = run.ensure_job()                      # uploads and creates once, or adopts
        ...follow the job...; run.ended(final_body)    # the caller follows and reports back
        run.saving(folder); ...; run.saved(folder, paths)

The package sits in the layer of `generation/`: it uses env, api, store and render, and
commands call it. Following a job and saving its results stay with the caller, which
reports what it learnt, so a finished run is shown again from the journal without a request.
`route.py` is the `--via batch` route of the analysis commands on top of the procedure; the
caller lends it those steps (`route.Jobs`).
"""
