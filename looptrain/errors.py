"""How a command ends when it does not simply finish, and the exit code each way gives.

Bad input (`InputError`) is one line on stderr and exit code 2. A run stopped by a signal
(`Interrupted`) has saved what it had and says how to resume; its exit code is the shell's for that
signal, 130 for SIGINT (Ctrl-C) and 143 for SIGTERM. A loss that stopped being a number
(`NumericalFault`) is one line naming the epoch and the culprit, and exit code 3. A cluster that lost
one of its workers (`WorkerLost`) is one line saying how to resume, and exit code 4. A file that could
not be written (`WriteFailed`: no space left, a read-only filesystem, a file too large, a permission
refused) is one line naming the file and the reason, and exit code 5; what was complete before is
kept. Anything else that goes wrong is a bug in looptrain, and keeps its traceback.
"""

import argparse


class InputError(Exception):
    """A problem with what the user gave us: an experiment file, a `--set` value, a data file."""

    exit_code = 2


class Interrupted(Exception):
    """SIGINT or SIGTERM stopped a run after its outputs and a checkpoint were written."""

    def __init__(self, signal_number: int, message: str):
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number  # the shell's convention: 130 for SIGINT, 143 for SIGTERM

    def __reduce__(self):  # so that a run in a process of its own can hand it to the command
        return Interrupted, (self.signal_number, str(self))


class NumericalFault(Exception):
    """A loss or a gradient became NaN or infinite; the run kept its best weights and its history so far."""

    exit_code = 3


class WorkerLost(Exception):
    """Under `--distribute multiworker`, another worker stopped answering; the run keeps its checkpoints."""

    exit_code = 4


class WriteFailed(Exception):
    """The filesystem refused a write: the message names the file and the reason."""

    exit_code = 5


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its own errors (an unknown option, a value of the wrong type) in our one-line form."""

    def error(self, message):
        self.exit(2, f"looptrain: error: {message}\n")
