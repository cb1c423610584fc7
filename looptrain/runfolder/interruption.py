"""Ctrl-C and SIGTERM during a run: the first asks the loop to stop after the current epoch, the
second ends the process at once.

A training run is worth hours, so the first signal does not raise `KeyboardInterrupt` in the middle
of whatever is running; it is only noted, and the loop asks (`stop_requested()`) once per epoch. The
run then saves a checkpoint and its files and exits 130 (SIGINT) or 143 (SIGTERM). A second signal
exits at once with the same code: every file a run writes is written whole and renamed into place,
or appended record by record, so stopping anywhere leaves no half-written file behind.
"""

import os
import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruption:
    """A context manager that notes the first SIGINT or SIGTERM; call it to ask whether one came."""

    def __init__(self):
        self.signal_number = None

    def __enter__(self):
        self.previous = {number: signal.signal(number, self.handle) for number in SIGNALS}
        return self

    def __exit__(self, *exception):
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def __call__(self) -> bool:
        return self.signal_number is not None

    def handle(self, number, frame):
        if self.signal_number is not None:
            os._exit(128 + number)  # the second signal: no clean-up, nothing more is written
        self.signal_number = number
        print(f"\n{signal.Signals(number).name}: stopping after this epoch and saving a checkpoint; "
              f"send it again to stop at once", file=sys.stderr, flush=True)
