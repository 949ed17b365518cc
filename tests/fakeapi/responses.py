"""tests.fakeapi.responses is mistral_cli.sandbox.responses (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import responses as _module

sys.modules[__name__] = _module
