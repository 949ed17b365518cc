"""The error tree: every error class of errors.py is drawn in its docstring (StoreError with
them), and a mid-stream error event is its own StreamError, not an APIError with status 200."""

from __future__ import annotations

import inspect

from mistral_cli import errors
from mistral_cli.http import client as client_mod


def test_every_error_class_of_errors_py_is_in_the_tree_drawing():
    classes = [name for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, errors.MCLIError)]
    missing = [name for name in classes if f" {name} (exit" not in errors.__doc__ and name != "MCLIError"]
    assert missing == []
    assert "StoreError" in classes


def test_the_store_error_is_the_tree_one():
    from mistral_cli.store import StoreError

    assert StoreError is errors.StoreError


def test_an_error_event_mid_stream_is_a_stream_error_not_an_api_error():
    error = client_mod._stream_error({"object": "error", "message": "model overloaded"})
    assert isinstance(error, errors.StreamError)
    assert not isinstance(error, errors.APIError)
    assert "model overloaded" in error.message and error.exit_code == errors.EXIT_ERROR
