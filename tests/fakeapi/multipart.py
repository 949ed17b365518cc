"""tests.fakeapi.multipart is mistral_cli.sandbox.multipart (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import multipart as _module

sys.modules[__name__] = _module
