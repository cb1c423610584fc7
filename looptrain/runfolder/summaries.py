"""TensorBoard summaries of each epoch's results, under the tag names Keras's own callback uses, and
histograms of the model's kernels every `histogram_every` epochs.

`train/` gets `epoch_loss`, `epoch_binary_crossentropy`, `epoch_regularization_loss`,
`epoch_accuracy` and `epoch_learning_rate` (and under label noise `epoch_clean_binary_crossentropy`,
`epoch_flipped_accuracy` and the like); `validation/` gets the `val_` results without the
prefix, so TensorBoard draws training and validation of the same metric on one chart. `train/` also
gets `kernel/dense`, `kernel/dense_1`, ...: the distribution of each weight matrix, where L2 and
dropout show what they do to the weights. Per-step summaries are left out: one point per epoch is
what the tutorial plots. The scalars are handed to the writers at most once a second, for all the
epochs since the last time. A write the filesystem refuses (TensorFlow says so when its writer
flushes) is a `WriteFailed` naming the event folder; the events already written stay readable.
"""

import contextlib
import math
import time
from collections import Counter
from pathlib import Path

import keras
import tensorflow as tf
from tensorboard.plugins.histogram import metadata as histogram_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata

from looptrain.runfolder import files
from looptrain.runfolder.history import PART_COLUMNS

TRAIN_NAMES = ["loss", "binary_crossentropy", "regularization_loss", "accuracy", "learning_rate"]
VALIDATION_NAMES = ["val_binary_crossentropy", "val_accuracy"]
SCALAR = scalar_metadata.create_summary_metadata(display_name=None, description=None)


class Summaries:
    def __init__(self, run_dir: Path, model: keras.Model, histogram_every: int, label_parts=()):
        self.run_dir = run_dir
        # Under label noise, the measures of the parts of the training rows the run has ("clean", "flipped").
        self.train_names = TRAIN_NAMES + [name for name in PART_COLUMNS if name.partition("_")[0] in label_parts]
        with self.refused_write_fails("train"):
            self.train = tf.summary.create_file_writer(str(run_dir / "train"))
        with self.refused_write_fails("validation"):
            self.validation = tf.summary.create_file_writer(str(run_dir / "validation"))
        self.kernels = kernel_tags(model)
        self.histogram_every = histogram_every  # 0: never
        # Seven scalars one by one are some forty small operations, each a trip from Python into
        # TensorFlow; as one graph they are one trip, for as many epochs as are waiting. Traced now,
        # with the run's other one-off costs: traced at the first write, it paused an epoch mid-run.
        self.write_scalars = tf.function(self.scalars, input_signature=[
            tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, len(self.train_names + VALIDATION_NAMES)])
        ]).get_concrete_function()
        # The histograms likewise: a dozen operations a kernel, much faster as one graph than op by
        # op; tracing it once costs less than a Tiny run's histogram epochs would take op by op
        # (docs/performance.md, "Per-epoch costs", has the times).
        self.write_histograms = tf.function(self.histograms, input_signature=[
            tf.TensorSpec([], tf.int64)]).get_concrete_function() if histogram_every else None
        self.waiting_epochs, self.waiting_values = [], []
        # The first epoch goes out at once: TensorFlow prepares a graph at its first run, a one-off
        # cost that belongs with the run's others rather than a second into the epochs.
        self.last_written = -math.inf

    def write(self, epoch: int, results: dict) -> None:
        self.waiting_epochs.append(epoch)
        self.waiting_values.append([results[name] for name in self.train_names + VALIDATION_NAMES])
        # Even one trip costs a noticeable share of Tiny's epoch (docs/performance.md, "Per-epoch
        # costs"), so the scalars wait and go at most once a second. TensorBoard sees no difference:
        # the writers buffer events for up to two minutes before they reach the file.
        if time.monotonic() - self.last_written >= 1.0:
            self.write_waiting()
        # As Keras's `histogram_freq`: epochs 0, M, 2M, ...; a histogram of 800,000 weights is
        # worth its cost now and then, not every epoch.
        if self.histogram_every and epoch % self.histogram_every == 0:
            with self.refused_write_fails("train"):
                self.write_histograms(tf.constant(epoch, tf.int64))  # int64, the type summaries take steps in

    def write_waiting(self) -> None:
        if self.waiting_epochs:
            with self.refused_write_fails():
                self.write_scalars(tf.constant(self.waiting_epochs, tf.int64), tf.constant(self.waiting_values))
            self.waiting_epochs, self.waiting_values = [], []
        self.last_written = time.monotonic()

    @contextlib.contextmanager
    def refused_write_fails(self, folder: str = ""):
        """TensorFlow's error for a refused write, as the one-line `WriteFailed` naming where the
        events go: `folder` (train or validation), or the run folder when it may be either."""
        try:
            yield
        except tf.errors.OpError as error:
            raise files.failed(f"the TensorBoard events in {self.run_dir / folder}", error) from None

    def scalars(self, epochs: tf.Tensor, values: tf.Tensor) -> None:
        """`values[i]` is epoch `epochs[i]`'s, in the order of `train_names`, then VALIDATION_NAMES."""
        # What `tf.summary.scalar` writes, but under the tag as given: `scalar` would prefix the
        # loop's name scope ("while/epoch_loss") and TensorBoard would not match Keras's tags.
        for row in tf.range(tf.shape(epochs)[0]):
            with self.train.as_default(step=epochs[row]):
                for index, name in enumerate(self.train_names):
                    tf.summary.write(f"epoch_{name}", values[row, index], metadata=SCALAR)
            with self.validation.as_default(step=epochs[row]):
                for index, name in enumerate(VALIDATION_NAMES, start=len(self.train_names)):
                    tf.summary.write(f"epoch_{name.removeprefix('val_')}", values[row, index], metadata=SCALAR)

    def histograms(self, epoch: tf.Tensor) -> None:
        with self.train.as_default(step=epoch):
            for tag, kernel in self.kernels.items():
                histogram(tag, kernel)  # AutoGraph makes its test for a single value a `tf.cond`

    def close(self) -> None:
        """Write what waits and close the writers, which buffer: without this the last epochs may never
        reach disk. After a refused write the writers are closed all the same, and the error is raised."""
        try:
            self.write_waiting()
            with self.refused_write_fails():
                for writer in (self.train, self.validation):
                    writer.flush()
        finally:
            for writer in (self.train, self.validation):
                with contextlib.suppress(tf.errors.OpError):  # a writer that failed fails again on close
                    writer.close()


def histogram(tag: str, values: tf.Tensor, buckets: int = 30) -> None:
    """What `tf.summary.histogram` writes (30 equal buckets from the smallest value to the largest, as
    rows of left edge, right edge, count), counted with `tf.histogram_fixed_width`. TensorBoard's own
    op counts with a one-hot matrix of values × buckets in float64, thirty float64s for every weight,
    which for a 512×512 kernel would make the histograms the largest thing a run holds in memory."""
    values = tf.reshape(tf.cast(values, tf.float64), [-1])
    low, high = tf.reduce_min(values), tf.reduce_max(values)
    if low == high:  # one value only: as TensorBoard's op, all the count in the last bucket, of no width
        edges = tf.fill([buckets + 1], high)
        counts = tf.concat([tf.zeros([buckets - 1], tf.int32), [tf.size(values)]], axis=0)
    else:
        counts = tf.histogram_fixed_width(values, tf.stack([low, high]), nbins=buckets)
        edges = tf.linspace(low, high, buckets + 1)
    tf.summary.write(tag, tf.stack([edges[:-1], edges[1:], tf.cast(counts, tf.float64)], axis=1),
                     metadata=histogram_metadata.create_summary_metadata(display_name=tag, description=""))


def kernel_tags(model: keras.Model) -> dict[str, tf.Variable]:
    """Each layer's kernel under `kernel/<layer>`, the layer named by type and position as in the
    weights file (`dense`, `dense_1`, ...). Not `layer.name`: that counts every layer the process has
    built, so Large would be `dense_9` after Tiny, Small and Medium, and runs would not share tags."""
    tags, seen = {}, Counter()
    for layer in model.layers:
        kind = type(layer).__name__.lower()
        name = f"{kind}_{seen[kind]}" if seen[kind] else kind
        seen[kind] += 1
        if hasattr(layer, "kernel"):
            tags[f"kernel/{name}"] = layer.kernel
    return tags
