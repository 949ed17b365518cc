"""Typed pydantic models of API bodies, where typed access pays (jobs, their events and metrics).

Models keep unknown fields (`extra="allow"`) and take enum values the spec does not list, so
a newer server never breaks a command; `-o json` still prints the body exactly as decoded.
Imported only by the commands that use them: `mcli --help` never loads pydantic.
"""
