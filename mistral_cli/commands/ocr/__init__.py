"""`mcli ocr`: the command (group.py) and `--output-dir`, pages and images as files (output_dir.py)."""
