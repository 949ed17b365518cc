"""`mcli classifiers`: the group (group.py) and results as verdicts (verdicts.py)."""
