"""Label noise: a fraction of the training rows' labels flipped, the rows drawn by the run's seed.

`Config.label_noise` of the training rows, the nearest whole number of them, have their label turned
from 0 to 1 or 1 to 0; the validation and test rows keep theirs, so that they still say how well the
network learned the true pattern. At 0.5 the labels say nothing about the features: flipping half
the rows, drawn at random, leaves each row's label a coin toss. The rows are drawn by numpy's
generator seeded with `Config.seed`, so that a seed sweep flips other rows at each seed and the same
seed flips the same rows again (on resume too). The data keeps which rows are which
(`Data.label_parts`), for the loop to measure the clean and the flipped rows apart. What is not
here: that measuring (`looptrain.loop.epoch`).
"""

import dataclasses

import numpy as np
import tensorflow as tf

from looptrain.data.higgs import Data


def flipped_rows(n_train: int, fraction: float, seed: int) -> np.ndarray:
    """The indices, in increasing order, of the `fraction` of `n_train` rows whose labels are flipped."""
    count = round(fraction * n_train)
    return np.sort(np.random.default_rng(seed).choice(n_train, size=count, replace=False))


def with_label_noise(data: Data, fraction: float, seed: int) -> Data:
    """`data` with the labels of `flipped_rows` flipped, and its training rows split by index into
    `label_parts`: "clean" and "flipped", a part with no rows left out (label_noise=1 has no clean
    rows). `fraction` 0 returns `data` as it is."""
    if not fraction:
        return data
    flipped = flipped_rows(data.n_train, fraction, seed)
    labels = data.train_labels.numpy().copy()
    labels[flipped] = 1 - labels[flipped]
    clean = np.setdiff1d(np.arange(data.n_train), flipped)
    parts = {part: tf.constant(rows, tf.int32) for part, rows in (("clean", clean), ("flipped", flipped)) if len(rows)}
    return dataclasses.replace(data, train_labels=tf.constant(labels), label_parts=parts)
