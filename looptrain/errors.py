"""Bad input, and how every command reports it: one line on stderr and exit code 2.

Anything else that goes wrong is a bug in looptrain, and keeps its traceback.
"""

import argparse


class InputError(Exception):
    """A problem with what the user gave us: an experiment file, a `--set` value, a data file."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its own errors (an unknown option, a value of the wrong type) in our one-line form."""

    def error(self, message):
        self.exit(2, f"looptrain: error: {message}\n")
