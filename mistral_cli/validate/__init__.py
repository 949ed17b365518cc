"""Local checks of whole input files (JSONL training and batch files) before anything is sent."""
