"""The thin HTTP core over httpx: auth, timeouts, retries, errors, SSE, streamed transfers."""
