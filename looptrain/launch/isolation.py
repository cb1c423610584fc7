"""One piece of work in a fresh Python process, so that the memory it used goes back to the system.

TensorFlow and the memory allocator keep what a finished run used, so a command of several runs
trains each in a process of its own (docs/performance.md, "Several runs in one command"). The parent
names a function by its module and name and hands it picklable arguments; what the function returns,
or the error of looptrain's own it raises, comes back through a pipe. The child runs in a process
group of its own, so a Ctrl-C at the terminal reaches only the parent, which passes it on: the child
sees each signal once, as a single run would. The child also dies with its parent (Linux's
PR_SET_PDEATHSIG), and its run's folder lock with it (docs/resume-and-errors.md). What is not here:
what the work is.
"""

import ctypes
import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading

from looptrain.errors import InputError, Interrupted, NumericalFault, WorkerLost, WriteFailed

# What a child may raise to its parent: looptrain's own ways for a run to end. Anything else is a bug,
# whose traceback the child prints before it exits.
OUTCOMES = (InputError, Interrupted, NumericalFault, WorkerLost, WriteFailed)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class ProcessDied(Exception):
    """The child ended without a result: killed by a signal, or a bug whose traceback it printed."""

    def __init__(self, returncode: int):
        super().__init__(returncode)
        self.returncode = returncode
        # The shell's convention for a process a signal ended; 1 for a bug.
        self.exit_code = 128 - returncode if returncode < 0 else returncode


def in_own_process(function, *arguments):
    """`function(*arguments)`, run in a fresh process: its result, or the error it raised, raised here."""
    read_end, write_end = os.pipe()
    parent = os.getpid()
    process = subprocess.Popen([sys.executable, "-m", "looptrain.launch.isolation", str(write_end)], stdin=subprocess.PIPE,
                               pass_fds=[write_end], process_group=0, preexec_fn=lambda: die_with(parent))
    os.close(write_end)
    # Python lets only its main thread set signal handlers; called from another thread, the command
    # cannot pass signals on, and the child runs to its end.
    forwarding = threading.current_thread() is threading.main_thread()
    previous = {number: signal.signal(number, lambda number, frame: process.send_signal(number))
                for number in (signal.SIGINT, signal.SIGTERM)} if forwarding else {}
    try:
        process.stdin.write(pickle.dumps((function.__module__, function.__qualname__, arguments)))
        process.stdin.close()
        with os.fdopen(read_end, "rb") as results:
            outcome = results.read()
        process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if not outcome:
        raise ProcessDied(process.returncode)
    kind, value = pickle.loads(outcome)
    if kind == "raised":
        raise value
    return value


def die_with(parent: int) -> None:
    """In the child, before it runs: end when the parent ends, however it ends (Linux only)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took hold
            os._exit(1)


def child(write_end: int) -> None:
    # A signal the parent passes on before the work has set its own handlers ends the child quietly,
    # with the shell's code for it, rather than with a KeyboardInterrupt's traceback from an import.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda number, frame: sys.exit(128 + number))
    module, name, arguments = pickle.loads(sys.stdin.buffer.read())
    function = getattr(importlib.import_module(module), name)
    try:
        outcome = ("returned", function(*arguments))
    except OUTCOMES as error:
        error.__context__ = error.__cause__ = None  # a traceback's frames do not pickle, nor are they needed
        outcome = ("raised", error)
    with os.fdopen(write_end, "wb") as results:
        results.write(pickle.dumps(outcome))


if __name__ == "__main__":
    child(int(sys.argv[1]))
