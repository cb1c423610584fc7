"""The one exception type for bad input: the command line turns it into a one-line message and exit code 2.

Anything else that goes wrong is a bug in looptrain, and keeps its traceback.
"""


class InputError(Exception):
    """A problem with what the user gave us: an experiment file, a `--set` value, a data file."""
