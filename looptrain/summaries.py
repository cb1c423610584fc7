"""TensorBoard summaries of each epoch's results, under the tag names Keras's own callback uses.

`train/` gets `epoch_loss`, `epoch_binary_crossentropy`, `epoch_regularization_loss`,
`epoch_accuracy` and `epoch_learning_rate`; `validation/` gets the `val_` results without the
prefix, so TensorBoard draws training and validation of the same metric on one chart.
Per-step summaries and histograms are left out: one point per epoch is what the tutorial plots.
"""

from pathlib import Path

import tensorflow as tf

TRAIN_NAMES = ["loss", "binary_crossentropy", "regularization_loss", "accuracy", "learning_rate"]
VALIDATION_NAMES = ["val_binary_crossentropy", "val_accuracy"]


class Summaries:
    def __init__(self, run_dir: Path):
        self.train = tf.summary.create_file_writer(str(run_dir / "train"))
        self.validation = tf.summary.create_file_writer(str(run_dir / "validation"))

    def write(self, epoch: int, results: dict) -> None:
        # An int64 step: a Python int would make a `tf.function` around this retrace every epoch.
        step = tf.constant(epoch, tf.int64)
        with self.train.as_default(step=step):
            for name in TRAIN_NAMES:
                tf.summary.scalar(f"epoch_{name}", results[name])
        with self.validation.as_default(step=step):
            for name in VALIDATION_NAMES:
                tf.summary.scalar(f"epoch_{name.removeprefix('val_')}", results[name])

    def close(self) -> None:
        for writer in (self.train, self.validation):
            writer.flush()  # the writers buffer; without this the last epochs may never reach disk
            writer.close()
