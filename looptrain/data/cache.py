"""The data cache: synthetic HIGGS files written once, whole, and checked by their SHA-256 on every use.

The synthetic rows (`looptrain.data.simulation.synthetic`) reach the loader as a HIGGS-layout gzip
CSV, as real rows do, so that one loader reads both. A large file takes a while to make, so it is
kept in `$LOOPTRAIN_CACHE` or `~/.cache/looptrain` beside a sidecar holding its SHA-256; the
downloaded HIGGS file (`higgs.download_higgs`) lives there too. The folder may be the user's, so a
file under a synthetic file's name with no sidecar (looptrain writes the sidecar first) is refused. A
cache that cannot be written does not stop a run: the same rows, the same text, are made in memory
(`InMemory`). docs/data.md says how a run uses the cache. What is not here: how the rows are made
(`synthetic`) and how they are read (`higgs`).
"""

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from looptrain.data.simulation import synthetic
from looptrain.errors import InputError
from looptrain.runfolder import files


def cache_dir() -> Path:
    """Where generated and downloaded data live: $LOOPTRAIN_CACHE, else ~/.cache/looptrain."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "looptrain"
    return Path(os.environ.get("LOOPTRAIN_CACHE", default))


def write_synthetic(path, n_rows: int, seed: int) -> Path:
    """Write n_rows synthetic rows to path as a HIGGS-layout .csv.gz, whole; the same arguments give
    the same bytes."""
    path = Path(path)
    with staged(path) as temporary:
        write_rows(temporary, n_rows, seed)
    return path


def synthetic_file(n_rows: int, seed: int, folder, progress=None) -> Path:
    """Return the path of the synthetic file for (n_rows, seed) in folder, writing it if missing or damaged;
    `progress(rows_done, n_rows)`, if given, hears how the writing goes, a chunk at a time.

    A sidecar file holds the sha256 of the finished file. It is checked on every call, so a file that
    was truncated or altered is written again; a sound file is left alone. The sidecar is renamed into
    place before the file itself, so a file with none beside it is not looptrain's: it is refused. A
    folder that cannot be written is a `WriteFailed`.
    """
    folder = Path(folder)
    path = folder / f"higgs-synthetic-{synthetic.VERSION}-{n_rows}rows-seed{seed}.csv.gz"
    sidecar = path.with_name(path.name + ".sha256")
    if path.exists() and not sidecar.is_file():
        raise InputError(f"{path} is in looptrain's data cache, but looptrain did not write it (there is no "
                         f"{sidecar.name} beside it): move it away, or set LOOPTRAIN_CACHE to another folder")
    if path.is_file() and sidecar.read_text().strip() == sha256(path):
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with staged(path) as temporary:
            write_rows(temporary, n_rows, seed, progress)
            with staged(sidecar) as sidecar_temporary:
                sidecar_temporary.write_text(sha256(temporary) + "\n")
    except OSError as error:
        raise files.failed(path, error) from None
    return path


@dataclass(frozen=True)
class InMemory:
    """The rows of a synthetic file, made anew in memory where the cache cannot be written: the
    loader reads the same text the file would hold, so a run trains on the very same numbers."""

    n_rows: int
    seed: int
    why: str  # the failed write that made the cache unusable

    def __str__(self) -> str:
        return f"synthetic rows made in memory ({self.n_rows:,} rows, seed {self.seed})"

    @contextlib.contextmanager
    def open(self):
        """The rows as lines of text, as `gzip.open(file, "rt")` would give them."""
        yield (line for rows in synthetic.chunks(self.n_rows, self.seed)
               for line in io.StringIO(csv_text(rows).decode("ascii")))


@contextlib.contextmanager
def staged(path: Path):
    """A temporary file beside `path`, renamed to it if the block succeeds and removed if not. Its
    name is unique, so two processes making the same file at once never share one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp makes the file private; a data file should be readable as open() would have made it.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_rows(path: Path, n_rows: int, seed: int, progress=None) -> None:
    done = 0
    with open(path, "wb") as raw:
        # mtime=0 and an empty file name keep the gzip header free of anything that varies. Level 1
        # compresses many times faster than the default 9, for a file a little larger (docs/synthetic.md,
        # "Speed", has both).
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as compressed:
            for rows in synthetic.chunks(n_rows, seed):
                if progress is not None:
                    progress(done, n_rows)
                compressed.write(csv_text(rows))
                done += len(rows)
        raw.flush()
        os.fsync(raw.fileno())
    if progress is not None:
        progress(done, n_rows)


def csv_text(rows: np.ndarray) -> bytes:
    """Format rows as CSV lines: 7 significant digits, about float32's precision; labels print as 0 and 1."""
    line = ",".join(["%.7g"] * rows.shape[1]) + "\n"
    return ((line * len(rows)) % tuple(rows.ravel().tolist())).encode("ascii")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
