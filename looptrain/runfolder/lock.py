"""One folder, one process: the lock a run holds on its folder while it writes there.

The lock is the operating system's own (`flock` on the file `.lock` in the folder), so it ends with
the process that holds it, however that process ends: a crash, SIGKILL, a reboot. The file also
records who holds it (process, machine, since when), so that a second command can say who is in its
way. A process that ends normally removes the file; a file left behind with its lock free was left
by a process that no longer runs, and the next one takes the folder over and says so. What is not
here: which folders looptrain may write at all (`ownership`).
"""

import datetime
import fcntl
import json
import os
import socket
from pathlib import Path

from looptrain.errors import InputError
from looptrain.runfolder import files
from looptrain.runfolder.ownership import LOCK


class FolderLock:
    """`with FolderLock(folder) as lock:` holds `folder` (made if missing) for this process; a folder
    another process holds is refused with one line. `lock.taken_over` says whose stale lock it
    replaced, if any."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LOCK
        self.taken_over = None

    def __enter__(self):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise files.failed(self.folder, error) from None
        try:
            while True:
                descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(descriptor)
                    raise busy(self.folder, describe(read_holder(self.path))) from None
                # The holder before may have removed the file between our open and our lock: then the
                # lock is on a file no one else will ever open, and we try again with a new one.
                if os.path.exists(self.path) and os.fstat(descriptor).st_ino == os.stat(self.path).st_ino:
                    break
                os.close(descriptor)
            previous = read_holder(self.path)
            if previous:
                self.taken_over = (f"{self.folder} was left locked by {describe(previous)}, which no longer runs: "
                                   f"taking it over")
            try:
                os.ftruncate(descriptor, 0)
                os.write(descriptor, (json.dumps(holder()) + "\n").encode())
            except OSError:
                # The file is looptrain's and empty or cut short: removed while still held, as on exit,
                # so that a refused write leaves nothing behind.
                self.path.unlink(missing_ok=True)
                os.close(descriptor)  # and with it the lock
                raise
        except OSError as error:
            raise files.failed(self.path, error) from None
        self.descriptor = descriptor
        return self

    def __exit__(self, *exception):
        self.path.unlink(missing_ok=True)  # removed while still held, so that no one takes over a live lock
        os.close(self.descriptor)


def holder() -> dict:
    """Who this process is, for whoever finds the folder locked."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.datetime.now().isoformat(timespec="seconds")}


def read_holder(path: Path) -> dict | None:
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):  # no file, or an empty one: a lock being written, or none at all
        return None
    return content if isinstance(content, dict) else None


def describe(holder: dict | None) -> str:
    if not holder:
        return "another process"
    where = "" if holder.get("host") == socket.gethostname() else f" on {holder.get('host')}"
    return f"process {holder.get('pid')}{where} (since {holder.get('since')})"


def check_free(folder: Path) -> None:
    """Refuse `folder` if a live process holds it; take nothing and write nothing. A command asks
    this of every folder it will write before its first run trains."""
    path = folder / LOCK
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # no lock file: no one holds it
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise busy(folder, describe(read_holder(path))) from None
    finally:
        os.close(descriptor)


def busy(folder: Path, holder: str) -> InputError:
    return InputError(f"{folder} is being written by {holder}: wait for it to end, or choose another --logdir")
