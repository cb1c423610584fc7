"""Where the rows come from, and how they become the tutorial's training and validation datasets.

A data file has the layout of UCI's `HIGGS.csv.gz`: gzip-compressed CSV, no header, 29 numbers a row,
the label (1 signal, 0 background) first, then the 28 features. Three sources give such a file:
`synthetic` (the project's own generator, the default, no network), `higgs` (the real file of 11
million rows, downloaded once) and any local path. Whatever the source, the same loader reads it,
splitting it as the tutorial does, but with numpy rather than `tf.data` (`read_rows` says why), and
keeping the file's last rows apart as the test rows (docs/data.md, "Test rows").
`resolve` also says what `--data` means for an IMDB experiment, and refuses a HIGGS source for one
(or `imdb` for a HIGGS one); the reviews themselves are `looptrain.data.reviews`' business. What is
not here: the model, the loop, and anything that prints (a short file is reported through the
`Data.shortfall` message, for the caller to show).
"""

import collections
import csv
import dataclasses
import errno
import gzip
import itertools
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from looptrain.config import Config
from looptrain.data import cache
from looptrain.data.columns import N_FEATURES
from looptrain.errors import InputError, WriteFailed
from looptrain.runfolder import files

HIGGS_URL = "http://mlphysics.ics.uci.edu/data/higgs/HIGGS.csv.gz"  # the tutorial's address
HIGGS_SHA256 = "ea302c18164d4e3d916a1e2e83a9a8d07069fa6ebc7771e4c0540d54e593b698"

# The errors of a write the disk refused, as opposed to a download that failed.
DISK_FAILURES = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM)

# What `--data` means for an IMDB experiment (`looptrain.data.reviews` loads them); the console says it too.
SYNTHETIC_REVIEWS, KERAS_IMDB = "synthetic reviews", "keras imdb"
REVIEW_SOURCES = {"synthetic": SYNTHETIC_REVIEWS, "imdb": KERAS_IMDB}

# The test rows a source gives when `n_test` is None. A file's: its last rows past the training rows,
# at most the HIGGS paper's test set, the last 500,000 of its 11,000,000 (HIGGS_ROWS); a file with no
# rows past its training rows has none. The synthetic source's: this many fresh rows of the generator,
# which put the standard error of a test cross-entropy near 0.002 (docs/data.md, "Test rows").
PAPER_TEST_ROWS, HIGGS_ROWS = 500_000, 11_000_000
SYNTHETIC_TEST_ROWS = 50_000


@dataclass
class Data:
    # The rows themselves, held in memory as tensors, so that an epoch reads no file (their size: docs,
    # performance page, "Memory").
    train_features: tf.Tensor  # (n_train, features)
    train_labels: tf.Tensor  # (n_train, 1): shaped like the model's output
    validation_features: tf.Tensor
    validation_labels: tf.Tensor
    batch_size: int  # the rows of one train step: a micro-batch when the optimizer accumulates
    shortfall: str | None = None  # a warning to show once when the file had fewer rows than asked
    # The test rows, which only the finished run's weights see (`looptrain.loop.evaluate`); None for none,
    # and then `no_test` says why, unless none were asked for.
    test_features: tf.Tensor | None = None
    test_labels: tf.Tensor | None = None
    no_test: str | None = None
    accumulate: int = 1  # steps per optimizer update (`Config.accumulate`): an epoch is whole updates
    # Under label noise, the training rows by index: {"clean": ..., "flipped": ...} (`label_noise`).
    label_parts: dict[str, tf.Tensor] = dataclasses.field(default_factory=dict)

    @property
    def n_train(self) -> int:  # rows actually used for training (fewer than asked if the file is short)
        return int(self.train_labels.shape[0])

    @property
    def n_validation(self) -> int:
        return int(self.validation_labels.shape[0])

    @property
    def n_test(self) -> int:
        return 0 if self.test_labels is None else int(self.test_labels.shape[0])

    @property
    def steps_per_epoch(self) -> int:  # the steps of the full updates in one pass over the training rows
        return self.n_train // (self.batch_size * self.accumulate) * self.accumulate

    def train_batches(self) -> tf.data.Dataset:
        """Endless batches, the tutorial's `shuffle(N_TRAIN).repeat().batch(BATCH_SIZE)`: shuffling over
        the whole training set gives every epoch a fresh order of all of it."""
        rows = tf.data.Dataset.from_tensor_slices((self.train_features, self.train_labels))
        return rows.shuffle(self.n_train).repeat().batch(self.batch_size)

    def validation_batches(self) -> tf.data.Dataset:
        """One pass over the validation rows, batched."""
        rows = tf.data.Dataset.from_tensor_slices((self.validation_features, self.validation_labels))
        return rows.batch(self.batch_size)

    def part_batches(self) -> dict[str, tf.data.Dataset]:
        """One pass over each of `label_parts`, batched, with the labels the rows train on. Each batch
        is gathered as it is read: no copy of the training rows is made."""
        return {part: tf.data.Dataset.from_tensor_slices(rows).batch(self.batch_size).map(
                    lambda batch: (tf.gather(self.train_features, batch), tf.gather(self.train_labels, batch)))
                for part, rows in self.label_parts.items()}


def resolve(source: str, config: Config, progress=None) -> Path | str | cache.InMemory:
    """Turn `--data synthetic | higgs | imdb | PATH` into what the experiment's loader reads: for a HIGGS
    experiment the path of a HIGGS-layout file (or, where the cache cannot be written, the synthetic
    rows made in memory), for an IMDB one which reviews (`reviews.load`). `progress(done, total)`
    hears how a synthetic file being made goes."""
    if config.dataset == "imdb":
        if source in REVIEW_SOURCES:
            return REVIEW_SOURCES[source]
        raise InputError(f"--data {source}: an IMDB experiment trains on reviews (use --data synthetic or imdb)")
    if source == "imdb":
        raise InputError("--data imdb: a HIGGS experiment trains on HIGGS rows (use --data synthetic, higgs or a path)")
    if source == "synthetic":
        # The generator's first rows do not depend on how many are made: the test rows come after the
        # tutorial's rows and leave them as they were.
        n_test = SYNTHETIC_TEST_ROWS if config.n_test is None else config.n_test
        n_rows = config.n_validation + config.n_train + n_test
        try:
            return cache.synthetic_file(n_rows, config.synthetic_seed, cache.cache_dir(), progress)
        except WriteFailed as failure:  # the rows can be made without the cache, for this run
            return cache.InMemory(n_rows, config.synthetic_seed, why=str(failure))
    if source == "higgs":
        return download_higgs()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"data file {path} does not exist (use --data synthetic, higgs or a path)")
    return path


def download_higgs(origin: str = HIGGS_URL, sha256: str = HIGGS_SHA256) -> Path:
    """Fetch the full HIGGS file once, checking its SHA-256; later calls reuse the copy. A file
    already under its name that is not that file is refused, never downloaded over."""
    folder = cache.cache_dir() / "datasets"  # where keras.utils.get_file keeps what it fetches
    path = folder / "HIGGS.csv.gz"
    if path.exists():
        if cache.sha256(path) == sha256:
            return path
        raise InputError(f"{path} is not the HIGGS file looptrain downloads (its SHA-256 differs; a download "
                         f"cut short, or another file): delete it to download again, or use --data PATH")
    try:
        # get_file quietly falls back to /tmp/.keras when the folder it is given does not exist yet.
        folder.mkdir(parents=True, exist_ok=True)
        return Path(keras.utils.get_file("HIGGS.csv.gz", origin, file_hash=sha256, hash_algorithm="sha256",
                                         cache_dir=str(cache.cache_dir())))
    except Exception as error:  # get_file raises a bare Exception for network failures
        if isinstance(error, OSError) and error.errno in DISK_FAILURES:  # the disk's, not the network's
            raise files.failed(path, error) from None
        raise InputError(f"could not download HIGGS from {origin} ({error}); "
                         f"with a local copy, use --data PATH") from None


def load(path: Path, config: Config) -> Data:
    """Read the file as the tutorial splits it: the first `n_validation` rows for validation, the next
    `n_train` for training; then the test rows, the file's last (`n_test`, or by default those past
    the training rows up to PAPER_TEST_ROWS). Only the first rows are parsed, but a file with test
    rows is read to its end: gzip cannot start in the middle. Every row used is checked: 29 numbers,
    finite features, a label of 0 or 1."""
    wanted = PAPER_TEST_ROWS if config.n_test is None else config.n_test
    try:
        with path.open() if isinstance(path, cache.InMemory) else gzip.open(path, "rt") as lines:
            validation = read_rows(lines, config.n_validation)
            train = read_rows(lines, config.n_train)
            rest, n_rest = last_lines(lines, wanted) if wanted else ([], 0)
            test = read_rows(iter(rest), len(rest))
    except (ValueError, OSError, EOFError, zlib.error):  # gzip.BadGzipFile is an OSError
        raise InputError(first_problem(path)) from None
    n_validation, n_train = len(validation[0]), len(train[0])
    needed = config.n_validation + config.batch_size
    if n_validation < config.n_validation or n_train < config.batch_size:
        raise InputError(f"data file {path} has {n_validation + n_train} rows; at least {needed} are needed "
                         f"({config.n_validation} for validation and one batch of {config.batch_size})")
    problem = test_rows_problem(f"data file {path}", n_validation + n_train + n_rest, config)
    if problem:
        raise InputError(problem)
    shortfall = None
    if n_train < config.n_train:
        shortfall = (f"data file {path} has {n_validation + n_train} rows, fewer than the "
                     f"{config.n_validation + config.n_train} asked: training on {n_train} rows, not {config.n_train}")
    no_test = without_test_rows(n_rest, config, f"data file {path} has no rows past its {n_validation:,} "
                                                f"validation and {n_train:,} training rows")
    return Data(*train, *validation, config.batch_size, shortfall,
                *(test if n_rest else (None, None)), no_test)


def without_test_rows(n_test: int, config: Config, why: str, advice: str = 'docs/data.md, "Test rows"') -> str | None:
    """The warning of a run whose data gave no test rows by default (`why` says what it lacks), or None
    where it gave some or none were asked for (`n_test=0`)."""
    if n_test or config.n_test is not None:
        return None
    return f"{why}, so this run has no test number ({advice})"


def count_rows(path: Path) -> int | None:
    """How many lines the gzip file at `path` holds, or None if it cannot be read (`load` says why)."""
    try:
        with gzip.open(path, "rt") as lines:
            return sum(1 for _ in lines)
    except (OSError, EOFError, zlib.error):
        return None


def last_lines(lines, n: int) -> tuple[list[str], int]:
    """The last `n` of `lines` (all of them if there are fewer) and how many there were."""
    kept, count = collections.deque(maxlen=n), 0
    for count, line in enumerate(lines, start=1):
        kept.append(line)
    return list(kept), count


def test_rows_problem(what: str, n_rows: int, config: Config) -> str | None:
    """Why the `n_test` asked for cannot be `what`'s last rows (it holds `n_rows`), or None if they can:
    they must lie past its validation and training rows. A default (None) always fits: it takes what
    there is."""
    needed = config.n_validation + config.n_train + (config.n_test or 0)
    if config.n_test is None or n_rows >= needed:
        return None
    return (f"n_test={config.n_test}: {what} has {n_rows:,} rows, and {config.n_test:,} test rows past its "
            f"{config.n_validation:,} validation and {config.n_train:,} training rows need {needed:,} "
            f"(fewer test rows, or fewer training rows)")


def read_rows(lines, n_rows: int, chunk_rows: int = 10_000) -> tuple[tf.Tensor, tf.Tensor]:
    """The next `n_rows` rows of `lines` (fewer if it ends first) as (features, labels) tensors of
    shapes (rows, 28) and (rows, 1): labels shaped like the model's output, as Keras's metrics want.
    Any row but 29 numbers, the features finite and the label 0 or 1, raises ValueError.

    The rows are parsed a chunk of `chunk_rows` lines at a time straight into the arrays that become
    the tensors, so the rows cost their own size and one chunk; larger chunks read no faster and
    leave more behind (docs/performance.md, "Memory", has the sizes and times). Not `tf.data`'s
    `CsvDataset`, the tutorial's reader: its cache keeps every row as tensors of its own, several
    times the row's size."""
    features, labels = aligned_empty((n_rows, N_FEATURES)), aligned_empty((n_rows, 1))
    done = 0
    while done < n_rows:
        chunk = list(itertools.islice(lines, min(chunk_rows, n_rows - done)))
        if not chunk:
            break  # the file has fewer rows than asked; a short file keeps its arrays' unused tail
        # Every field is required: no default stands in for an empty one (the tutorial's
        # `[float()]*29` silently turns an empty field into 0.0).
        rows = np.loadtxt(chunk, delimiter=",", dtype=np.float32, ndmin=2)
        if (len(rows) != len(chunk) or rows.shape[1] != N_FEATURES + 1  # a blank line; 29 numbers a row
                or not np.isfinite(rows).all() or not np.isin(rows[:, 0], (0.0, 1.0)).all()):
            raise ValueError("a bad row")
        features[done:done + len(rows)], labels[done:done + len(rows), 0] = rows[:, 1:], rows[:, 0]
        done += len(rows)
    return handed_over(features[:done]), handed_over(labels[:done])


def handed_over(array: np.ndarray) -> tf.Tensor:
    """A tensor of `array`'s memory, not a copy of it: DLPack hands the buffer to TensorFlow as it
    is. `tf.convert_to_tensor` would copy it, and for a moment hold several times its size
    (docs/performance.md, "Memory"). TensorFlow needs the buffer to start on a 64-byte boundary
    (`aligned_empty`)."""
    return tf.experimental.dlpack.from_dlpack(array.__dlpack__())


def aligned_empty(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialized float32 array whose data starts on a 64-byte boundary, as TensorFlow's CPU
    kernels require of any buffer they are handed (numpy only promises 16)."""
    size = shape[0] * shape[1]
    spare = np.empty(size + 16, np.float32)  # 16 float32s: 64 bytes of room to move the start
    start = (-spare.ctypes.data % 64) // 4
    return spare[start:start + size].reshape(shape)


def first_problem(path: Path) -> str:
    """Read the file again, plainly, to say which row is wrong and how: `read_rows` parses thousands
    of lines at once with numpy's `loadtxt` and says only that a chunk holds a bad row, and gzip only
    that the file is damaged. This runs only after one of them has failed."""
    try:
        with gzip.open(path, "rt", newline="") as text:
            for number, fields in enumerate(csv.reader(text), start=1):
                if len(fields) != N_FEATURES + 1:
                    return f"data file {path}, row {number}: {len(fields)} columns, expected {N_FEATURES + 1}"
                for column, field in enumerate(fields, start=1):
                    if not field.strip():
                        return f"data file {path}, row {number}: column {column} is empty"
                    try:
                        value = float(field)
                    except ValueError:
                        return f"data file {path}, row {number}: column {column} is not a number: {field!r}"
                    if not math.isfinite(value):
                        return f"data file {path}, row {number}: column {column} is {field}, not a finite number"
                if float(fields[0]) not in (0.0, 1.0):
                    return f"data file {path}, row {number}: the label (column 1) is {fields[0]}, not 0 or 1"
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        return f"data file {path} is not a readable gzip-compressed CSV: {error}"
    return f"data file {path} could not be read as a HIGGS-layout .csv.gz"
