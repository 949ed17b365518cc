"""One plain function per API operation: build the request, return the decoded body.

No typer or rich here; each function takes the HTTPClient as its first argument.
"""
