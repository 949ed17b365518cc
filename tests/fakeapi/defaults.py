"""tests.fakeapi.defaults is mistral_cli.sandbox.defaults (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import defaults as _module

sys.modules[__name__] = _module
