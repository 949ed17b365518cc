"""The sandbox: a local Mistral API (the fake server the project's tests run against, made a
feature). `mcli sandbox serve` puts it on a port; `--server-url sandbox` runs a command against
it in-process (transport.py). Answers are stand-ins derived from the input, not a model's.
Nothing outside this package imports it except those two entry points, lazily."""
