"""Entry point for `python -m mistral_cli`."""

from mistral_cli.app import run

run()
