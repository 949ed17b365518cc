"""tests.fakeapi.spec is mistral_cli.sandbox.spec (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import spec as _module

sys.modules[__name__] = _module
