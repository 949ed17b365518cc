"""`mcli auth`: the group (group.py) and reading and checking a key (key.py)."""
