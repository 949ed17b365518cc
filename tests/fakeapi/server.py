"""tests.fakeapi.server is mistral_cli.sandbox.server (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import server as _module

sys.modules[__name__] = _module
