"""Output formats: Rich tables and panels, live streaming text, raw JSON/JSONL."""
