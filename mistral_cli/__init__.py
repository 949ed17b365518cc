"""mcli: the command line for the Mistral AI API."""

__version__ = "0.1.0"
