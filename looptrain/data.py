"""Where the rows come from, and how they become the tutorial's training and validation datasets.

A data file has the layout of UCI's `HIGGS.csv.gz`: gzip-compressed CSV, no header, 29 numbers a row,
the label (1 signal, 0 background) first, then the 28 features. Three sources give such a file:
`synthetic` (the project's own generator, the default, no network), `higgs` (the real 2.8 GB file,
downloaded once) and any local path. Whatever the source, the same loader reads it, as the tutorial
does. `resolve` also says what `--data` means for an IMDB experiment, and refuses a HIGGS source for
one (or `imdb` for a HIGGS one); the reviews themselves are `looptrain.reviews`' business. What is
not here: the model, the loop, and anything that prints (a short file is reported through the
`Data.shortfall` message, for the caller to show).
"""

import csv
import gzip
import math
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from looptrain import synthetic
from looptrain.config import Config
from looptrain.errors import InputError

N_FEATURES = 28

HIGGS_URL = "http://mlphysics.ics.uci.edu/data/higgs/HIGGS.csv.gz"  # the tutorial's address
HIGGS_SHA256 = "ea302c18164d4e3d916a1e2e83a9a8d07069fa6ebc7771e4c0540d54e593b698"

# What `--data` means for an IMDB experiment (`looptrain.reviews` loads them); the console says it too.
SYNTHETIC_REVIEWS, KERAS_IMDB = "synthetic reviews", "keras imdb"
REVIEW_SOURCES = {"synthetic": SYNTHETIC_REVIEWS, "imdb": KERAS_IMDB}


@dataclass
class Data:
    # The rows themselves, held in memory as tensors: 10,000 HIGGS rows are 1.1 MB, a million 112 MB.
    train_features: tf.Tensor  # (n_train, features)
    train_labels: tf.Tensor  # (n_train, 1): shaped like the model's output
    validation_features: tf.Tensor
    validation_labels: tf.Tensor
    batch_size: int
    shortfall: str | None = None  # a warning to show once when the file had fewer rows than asked

    @property
    def n_train(self) -> int:  # rows actually used for training (fewer than asked if the file is short)
        return int(self.train_labels.shape[0])

    @property
    def n_validation(self) -> int:
        return int(self.validation_labels.shape[0])

    @property
    def steps_per_epoch(self) -> int:  # full batches in one pass over the training rows
        return self.n_train // self.batch_size

    def train_batches(self) -> tf.data.Dataset:
        """Endless batches, the tutorial's `shuffle(N_TRAIN).repeat().batch(BATCH_SIZE)`: shuffling over
        the whole training set gives every epoch a fresh order of all of it."""
        rows = tf.data.Dataset.from_tensor_slices((self.train_features, self.train_labels))
        return rows.shuffle(self.n_train).repeat().batch(self.batch_size)

    def validation_batches(self) -> tf.data.Dataset:
        """One pass over the validation rows, batched."""
        rows = tf.data.Dataset.from_tensor_slices((self.validation_features, self.validation_labels))
        return rows.batch(self.batch_size)


def cache_dir() -> Path:
    """Where generated and downloaded data live: $LOOPTRAIN_CACHE, else ~/.cache/looptrain."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "looptrain"
    return Path(os.environ.get("LOOPTRAIN_CACHE", default))


def resolve(source: str, config: Config) -> Path | str:
    """Turn `--data synthetic | higgs | imdb | PATH` into what the experiment's loader reads: for a HIGGS
    experiment the path of a HIGGS-layout file, for an IMDB one which reviews (`reviews.load`)."""
    if config.dataset == "imdb":
        if source in REVIEW_SOURCES:
            return REVIEW_SOURCES[source]
        raise InputError(f"--data {source}: an IMDB experiment trains on reviews (use --data synthetic or imdb)")
    if source == "imdb":
        raise InputError("--data imdb: a HIGGS experiment trains on HIGGS rows (use --data synthetic, higgs or a path)")
    if source == "synthetic":
        return synthetic.cached(config.n_validation + config.n_train, config.synthetic_seed, cache_dir())
    if source == "higgs":
        return download_higgs()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"data file {path} does not exist (use --data synthetic, higgs or a path)")
    return path


def download_higgs(origin: str = HIGGS_URL, sha256: str = HIGGS_SHA256) -> Path:
    """Fetch the full HIGGS file once (2.8 GB), checking its SHA-256; later calls reuse the copy."""
    # get_file quietly falls back to /tmp/.keras when the folder it is given does not exist yet.
    cache_dir().mkdir(parents=True, exist_ok=True)
    try:
        return Path(keras.utils.get_file("HIGGS.csv.gz", origin, file_hash=sha256, hash_algorithm="sha256",
                                         cache_dir=str(cache_dir())))
    except Exception as error:  # get_file raises a bare Exception for network failures
        raise InputError(f"could not download HIGGS from {origin} ({error}); "
                         f"with a local copy, use --data PATH") from None


def pack_row(*row):
    """CsvDataset yields one tensor per column; stack the 28 features and split off the label."""
    # Labels shaped like the model's output, (rows, 1): Keras's metrics refuse (rows,) against it.
    label = tf.expand_dims(row[0], axis=1)
    features = tf.stack(row[1:], axis=1)
    return features, label


def load(path: Path, config: Config) -> Data:
    """Read the file the tutorial's way: validation rows first, then training rows, both cached."""
    # The tutorial passes `[float()]*29`, defaults that make every column optional, so an empty field
    # silently becomes 0.0. Passing the type instead makes every field required.
    rows = tf.data.experimental.CsvDataset(str(path), [tf.float32] * (N_FEATURES + 1), compression_type="GZIP")
    # Parsing row by row is slow; batching first lets `pack_row` work on 10,000 rows at a time.
    packed = rows.batch(10_000).map(pack_row).unbatch()

    validation = packed.take(config.n_validation).cache()
    train = packed.skip(config.n_validation).take(config.n_train).cache()
    # Counting runs through each set once, which also fills the caches: the file is read only here.
    n_validation, n_train = _count(validation, path), _count(train, path)

    needed = config.n_validation + config.batch_size
    if n_validation < config.n_validation or n_train < config.batch_size:
        raise InputError(f"data file {path} has {n_validation + n_train} rows; at least {needed} are needed "
                         f"({config.n_validation} for validation and one batch of {config.batch_size})")
    shortfall = None
    if n_train < config.n_train:
        shortfall = (f"data file {path} has {n_validation + n_train} rows, fewer than the "
                     f"{config.n_validation + config.n_train} asked: training on {n_train} rows, not {config.n_train}")
    # One batch of all the rows: the caches filled above give them without reading the file again.
    validation_features, validation_labels = validation.batch(n_validation).get_single_element()
    train_features, train_labels = train.batch(n_train).get_single_element()
    return Data(train_features, train_labels, validation_features, validation_labels, config.batch_size, shortfall)


def _count(dataset: tf.data.Dataset, path: Path) -> int:
    """Rows in `dataset`. Reading them all also proves that every row parses, every feature is a finite
    number (the parser takes "nan" and "inf") and every label is 0 or 1; where one does not, the error
    names the first bad row of the file."""
    def count_rows_and_bad_rows(state, row):
        features, label = row
        bad = ((label[0] != 0.0) & (label[0] != 1.0)) | ~tf.reduce_all(tf.math.is_finite(features))
        return state[0] + 1, state[1] + tf.cast(bad, tf.int32)

    try:
        rows, bad_rows = dataset.reduce((0, 0), count_rows_and_bad_rows)
    except tf.errors.OpError:
        raise InputError(first_problem(path)) from None
    if bad_rows:
        raise InputError(first_problem(path))
    return int(rows)


def first_problem(path: Path) -> str:
    """Read the file again, plainly, to say which row is wrong and how. TensorFlow's CSV reader says
    what is wrong but not where; this runs only after it has failed."""
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
    except (OSError, EOFError, UnicodeDecodeError) as error:  # gzip.BadGzipFile is an OSError
        return f"data file {path} is not a readable gzip-compressed CSV: {error}"
    return f"data file {path} could not be read as a HIGGS-layout .csv.gz"
