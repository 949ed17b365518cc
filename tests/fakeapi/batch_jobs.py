"""tests.fakeapi.batch_jobs is mistral_cli.sandbox.batch_jobs (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import batch_jobs as _module

sys.modules[__name__] = _module
