"""What several tags' commands share: acting on several ids (several_ids.py) and the batched,
concurrent, in-order engine of the text analysis commands (text_batches.py)."""
