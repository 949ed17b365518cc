"""Test infrastructure for mcli: the fake Mistral API server (the package's sandbox,
mistral_cli/sandbox/, validated against the bundled OpenAPI spec) under its test names, plus
keyring backends. tests.fakeapi.X is the module mistral_cli.sandbox.X itself."""
from .responses import (bytes_response, empty_response, error_400, error_401_detail,
                        error_401_message, error_422, error_429, error_empty,
                        error_proxy_text, expected_bytes, json_response, pattern_bytes,
                        sse_response, text_response)
from .server import FakeAPI, RecordedRequest, Stub

__all__ = ["FakeAPI", "RecordedRequest", "Stub", "bytes_response", "empty_response",
           "error_400", "error_401_detail", "error_401_message", "error_422", "error_429",
           "error_empty", "error_proxy_text", "expected_bytes", "json_response",
           "pattern_bytes", "sse_response", "text_response"]
