"""`mcli batch`: the group (group.py), its inputs (inputs.py), runs that happen once (run.py),
following a job (watch.py) and its results (results.py)."""
