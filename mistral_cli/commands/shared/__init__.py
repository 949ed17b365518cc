"""What several tags' commands share: acting on several ids (several_ids.py) and the batched,
concurrent, in-order engine of the text analysis commands (text_groups.py), and the one watch
engine that follows a job until it ends (watching.py), with a small adapter per kind of job."""
