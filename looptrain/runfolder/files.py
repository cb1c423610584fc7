"""Writing a file whole or not at all, and a write the filesystem refuses, said in one line.

Every file a run leaves is first written under a temporary name beside its place and then renamed
into it, so that a reader, or a run killed at any moment, sees the old file or the new one, never
half of one. When the write fails (no space left on the device, a read-only filesystem, a file too
large, a permission refused), the temporary file is removed and the failure becomes a `WriteFailed`
naming the file and the reason in the operating system's own words, which the command prints as one
line. What is not here: which folders and files looptrain may replace (`ownership`).
"""

import contextlib
import errno
import os
import re
from pathlib import Path

from looptrain.errors import WriteFailed

# The reasons a write fails that a person can act on, in the words the operating system uses for
# them. TensorFlow reports a failed write as an error whose message carries these words, not an errno.
REASONS = [os.strerror(number) for number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS,
                                              errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR,
                                              errno.ENOENT, errno.EIO)]


def write_whole(path: Path, write) -> None:
    """`write(temporary_path)`, then rename it to `path`. The temporary name keeps the suffix, which
    Keras and matplotlib go by (`.weights.h5`, `.png`)."""
    temporary = path.with_name("partial." + path.name)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException as error:
        # Where the folder is missing, or is a file, there is no temporary file to remove either.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            temporary.unlink()
        if isinstance(error, OSError):
            raise failed(path, error) from None
        raise


def failed(path, error: Exception) -> WriteFailed:
    """The one-line `WriteFailed` for a write of `path` that raised `error`."""
    return WriteFailed(f"cannot write {path}: {reason(error)}")


def reason(error: Exception) -> str:
    """Why a write failed: the operating system's words for an OSError's errno (h5py's own message is
    long), or the ones a TensorFlow error's message carries."""
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno)
    message = str(error)
    for words in REASONS:
        if words in message:
            return words
    # Otherwise the message's first line, without TensorFlow's {{function_node ...}} prefix and its
    # [Op:...] suffix.
    first = re.sub(r"^\{\{.*?\}\}\s*|\s*\[Op:\w+\]$", "", message.strip().splitlines()[0] if message.strip() else "")
    return first or type(error).__name__
