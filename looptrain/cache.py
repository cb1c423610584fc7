"""The data cache: synthetic HIGGS files written once, whole, and checked by their SHA-256 on every use.

The synthetic rows (`looptrain.synthetic`) reach the loader the way real rows do, as a HIGGS-layout
gzip CSV, so that one loader reads both. Making a file of a million rows takes a while, so it is kept
in a cache folder, `$LOOPTRAIN_CACHE` or `~/.cache/looptrain`, with a sidecar holding its SHA-256. The
downloaded HIGGS file lives in the same folder (`data.download_higgs`). What is not here: how the
rows are made (`synthetic`) and how they are read (`data`).
"""

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from looptrain import synthetic


def cache_dir() -> Path:
    """Where generated and downloaded data live: $LOOPTRAIN_CACHE, else ~/.cache/looptrain."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "looptrain"
    return Path(os.environ.get("LOOPTRAIN_CACHE", default))


def write_synthetic(path, n_rows: int, seed: int) -> Path:
    """Write n_rows synthetic rows to path as a HIGGS-layout .csv.gz; the same arguments give the same bytes.

    The rows go to a temporary file in the same folder, which is renamed over path only once it is
    complete, so a crash or a concurrent reader never sees half a file under the final name.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as raw:
            # mtime=0 and an empty file name keep the gzip header free of anything that varies. Level 1
            # compresses ten times faster than the default 9, for a file only an eighth larger.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=1) as compressed:
                for rows in synthetic.chunks(n_rows, seed):
                    compressed.write(csv_text(rows))
            raw.flush()
            os.fsync(raw.fileno())
        # mkstemp makes the file private; a data file should be readable as open() would have made it.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def synthetic_file(n_rows: int, seed: int, folder) -> Path:
    """Return the path of the synthetic file for (n_rows, seed) in folder, writing it if missing or damaged.

    A sidecar file holds the sha256 of the finished file. It is checked on every call, so a file that
    was truncated, altered, or left without its sidecar is written again; a sound file is left alone.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"higgs-synthetic-{synthetic.VERSION}-{n_rows}rows-seed{seed}.csv.gz"
    sidecar = path.with_name(path.name + ".sha256")
    if path.is_file() and sidecar.is_file() and sidecar.read_text().strip() == sha256(path):
        return path
    write_synthetic(path, n_rows, seed)
    # The sidecar is written last, so a crash before this line leaves a file that the next call rewrites.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=sidecar.name + ".", suffix=".partial")
    with os.fdopen(handle, "w") as text:
        text.write(sha256(path) + "\n")
    os.replace(temporary, sidecar)
    return path


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
