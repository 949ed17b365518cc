"""Test infrastructure for mcli: a fake Mistral API server validated against
the OpenAPI spec (tests/contract/openapi.yaml), plus keyring backends."""
from .responses import (bytes_response, empty_response, error_400, error_401_detail,
                        error_401_message, error_422, error_429, error_empty,
                        error_proxy_text, expected_bytes, json_response, pattern_bytes,
                        sse_response, text_response)
from .server import FakeAPI, RecordedRequest, Stub

__all__ = ["FakeAPI", "RecordedRequest", "Stub", "bytes_response", "empty_response",
           "error_400", "error_401_detail", "error_401_message", "error_422", "error_429",
           "error_empty", "error_proxy_text", "expected_bytes", "json_response",
           "pattern_bytes", "sse_response", "text_response"]
