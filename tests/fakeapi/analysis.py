"""tests.fakeapi.analysis is mistral_cli.sandbox.analysis (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import analysis as _module

sys.modules[__name__] = _module
