"""tests.fakeapi.ft_jobs is mistral_cli.sandbox.ft_jobs (one fake: the sandbox users run is the tests' server)."""
import sys

from mistral_cli.sandbox import ft_jobs as _module

sys.modules[__name__] = _module
