"""The API: the operation table (operations.py), which sends any operation by name (`call`,
`fetch_object`, `generate`), and a plain function for each operation whose call does more
than that: build a body or a query, upload, download, walk pages.

No typer or rich here; each function takes the HTTPClient as its first argument.
"""
