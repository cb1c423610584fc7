"""Kernel histograms in TensorBoard: written every `histogram_every` epochs, read back with TensorBoard's
own reader, and holding exactly the weights they claim to (compared with numpy)."""

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from conftest import REPO, made_up_rows, write_rows
from looptrain.config import Config
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.models.mlp import mlp
from looptrain.runfolder.history import kernels, read_history, read_weights
from looptrain.runfolder.summaries import Summaries, histogram, kernel_tags
from looptrain.train import train

RESULTS = {"loss": 0.7, "binary_crossentropy": 0.7, "regularization_loss": 0.0, "accuracy": 0.5,
           "learning_rate": 1e-3, "val_binary_crossentropy": 0.7, "val_accuracy": 0.5, "val_auc": 0.5}


def histograms(folder):
    """{tag: {step: (left edges, right edges, counts)}} for the `kernel/` tags, via EventAccumulator."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: {event.step: tuple(make_ndarray(event.tensor_proto).T) for event in accumulator.Tensors(tag)}
            for tag in accumulator.Tags()["tensors"] if tag.startswith("kernel/")}


def assert_describes(histogram, kernel):
    """Every weight counted once, and the buckets spanning exactly the smallest to the largest."""
    left, right, counts = histogram
    assert counts.sum() == kernel.size
    assert left[0] == pytest.approx(kernel.min(), rel=1e-6) and right[-1] == pytest.approx(kernel.max(), rel=1e-6)


@pytest.mark.parametrize("every, steps", [(2, [0, 2, 4]), (1, [0, 1, 2, 3, 4]), (0, None)])
def test_histograms_come_every_m_epochs_and_hold_the_kernels(tmp_path, every, steps):
    model = mlp([8, 4])
    summaries = Summaries(tmp_path, model, histogram_every=every)
    for epoch in range(5):
        summaries.write(epoch, RESULTS)
    summaries.close()

    written = histograms(tmp_path / "train")
    if steps is None:
        assert written == {}
        return
    assert sorted(written) == ["kernel/dense", "kernel/dense_1", "kernel/dense_2"]
    expected = [values for values in model.get_weights() if values.ndim == 2]
    for tag, kernel in zip(sorted(written), expected):
        assert sorted(written[tag]) == steps
        for buckets in written[tag].values():
            assert_describes(buckets, kernel)
    assert histograms(tmp_path / "validation") == {}


@pytest.mark.parametrize("values", [np.random.default_rng(0).normal(size=(512, 512)), np.full((4, 3), 0.25)],
                         ids=["a 512x512 kernel", "one value only"])
def test_our_histogram_is_the_one_tensorboards_own_op_writes(tmp_path, values):
    # Ours twice: op by op, and in a graph as `Summaries` writes it, where AutoGraph turns its test
    # for a single value into a `tf.cond`.
    writers = [("ours", histogram), ("ours-in-a-graph", tf.function(histogram)), ("tensorboard", tf.summary.histogram)]
    for folder, write in writers:
        writer = tf.summary.create_file_writer(str(tmp_path / folder))
        with writer.as_default(step=0):
            write("kernel/dense", tf.constant(values, tf.float32))
        writer.close()
    *ours, (theirs,) = (histograms(tmp_path / folder)["kernel/dense"].values() for folder, _ in writers)
    for (mine,) in ours:
        for columns, expected in zip(mine, theirs):  # left edges, right edges, counts
            np.testing.assert_allclose(columns, expected, rtol=1e-12)


def test_the_tags_are_the_weights_files_layer_names_whatever_was_built_before(tmp_path):
    mlp([3, 3])  # takes `dense` to `dense_2` in this process, so `layer.name` is no longer `dense`
    model = mlp([6, 5])
    assert model.layers[0].name != "dense"
    model.save_weights(tmp_path / "best.weights.h5")
    in_file = kernels(read_weights(tmp_path / "best.weights.h5"))
    assert list(kernel_tags(model)) == [f"kernel/{name}" for name in in_file] == ["kernel/dense", "kernel/dense_1",
                                                                                 "kernel/dense_2"]


def test_a_short_run_writes_the_best_epochs_kernels(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(300))
    experiment = load_experiment(REPO / "experiments" / "tiny.py", {
        "n_validation": 100, "n_train": 200, "batch_size": 100, "max_epochs": 3, "histogram_every": 1})
    train(experiment, data_path, tmp_path / "run", DotsReporter())

    written = histograms(tmp_path / "run" / "train")
    assert sorted(written) == ["kernel/dense", "kernel/dense_1"]
    assert all(sorted(by_step) == [0, 1, 2] for by_step in written.values())
    # The saved weights are the best epoch's; so are the histograms of that epoch.
    best_epoch = int(np.argmin(read_history(tmp_path / "run" / "history.csv")["val_binary_crossentropy"]))
    saved = kernels(read_weights(tmp_path / "run" / "best.weights.h5"))
    for name, kernel in saved.items():
        assert_describes(written[f"kernel/{name}"][best_epoch], kernel)


def test_histogram_every_is_a_count_of_epochs():
    assert Config().histogram_every == 100
    with pytest.raises(InputError, match="'histogram_every' must not be negative"):
        Config(histogram_every=-1)
