"""`mcli fine-tuning`: the group (group.py), `create` (create.py, its option checks in parse.py)
and `watch` (watch.py)."""
