"""Gradient accumulation: four micro-batches of 125 rows make the update that one batch of their 500 rows makes.

Keras's accumulating Adam (`accumulate=4`) adds up four steps' gradients and applies their mean. Each
micro-batch's data loss is the mean over its own 125 rows, so the mean of the four is the mean over the
500; each micro-batch's loss carries the whole L2 penalty, so the mean of the four counts it once.
Update after update the weights must be where one step of 500 rows leaves them (rtol 1e-5), the
epoch's numbers the same, and the rate each update takes the schedule's at the update's number (a
decay over two updates makes a rate read at the micro-batch's number visibly wrong). Under the step
loop and under the epoch in one graph, with and without XLA; and with clipping, which Keras applies
to the update's mean gradient, not to each micro-batch's.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, assert_same_weights, made_up_rows, write_rows
from looptrain.data.higgs import Data
from looptrain.data.simulation import synthetic
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop import epoch
from looptrain.loop.fit import run_epochs
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.models.mlp import mlp
from looptrain.train import train as train_run

ROWS, VALIDATION, BATCH, ACCUMULATE, EPOCHS = 2000, 500, 500, 4, 2
DECAY_STEPS = 2  # the rate halves over two updates
CLIP = 0.05  # below every update's gradient norm here, so that every update is clipped
RESULTS = ("loss", "binary_crossentropy", "regularization_loss", "accuracy", "val_binary_crossentropy",
           "learning_rate")


def rows():
    table = synthetic.generate(VALIDATION + ROWS, seed=3).astype("float32")
    return table[VALIDATION:, 1:], table[VALIDATION:, :1], table[:VALIDATION, 1:], table[:VALIDATION, :1]


def twins():
    """Two models with the same initial weights and a strong L2 penalty, so that counting it four
    times, or a quarter of a time, would show."""
    keras.utils.set_random_seed(0)
    whole = mlp([64, 64, 64], regularizer=keras.regularizers.l2(0.01))
    micro = mlp([64, 64, 64], regularizer=keras.regularizers.l2(0.01))
    micro.set_weights(whole.get_weights())
    return whole, micro


def train(model, batch_size, accumulate, loop, clip):
    optimizer = make_optimizer(1e-3, DECAY_STEPS, clip_global_norm=clip, accumulate=accumulate)
    metrics = make_metrics()
    steps = make_steps(model, optimizer, metrics, batch_size)
    train_features, train_labels, validation_features, validation_labels = rows()
    if loop == "step":  # the rows in a fixed order: micro-batches are the quarters of each batch
        train_batches = tf.data.Dataset.from_tensor_slices((train_features, train_labels)).repeat().batch(batch_size)
        validation = tf.data.Dataset.from_tensor_slices((validation_features, validation_labels)).batch(batch_size)
        run_epoch, _ = epoch.step_by_step(steps, metrics, optimizer, train_batches, validation, ROWS // batch_size)
    else:  # the same seed draws the same orders of the rows for both
        data = Data(*map(tf.constant, rows()), batch_size=batch_size, accumulate=accumulate)
        run_epoch, _ = epoch.in_one_graph(steps, metrics, data, optimizer, seed=7, jit_compile=loop == "epoch-xla")
    history = run_epochs(model, run_epoch, max_epochs=EPOCHS, patience=100)
    return history, optimizer


# Clipping happens inside the optimizer, the same whichever loop calls the step: one loop is enough.
@pytest.mark.parametrize("loop, clip", [("step", 0.0), ("epoch", 0.0), ("epoch-xla", 0.0), ("epoch", CLIP)],
                         ids=["step", "epoch", "epoch-xla", "epoch-clipped"])
def test_four_micro_batches_of_125_rows_update_as_one_batch_of_500(loop, clip):
    whole, micro = twins()
    initial = whole.get_weights()
    whole_history, whole_optimizer = train(whole, BATCH, 1, loop, clip)
    micro_history, micro_optimizer = train(micro, BATCH // ACCUMULATE, ACCUMULATE, loop, clip)

    # As many updates, each of four micro-batches.
    assert int(whole_optimizer.iterations) == int(micro_optimizer.iterations) == EPOCHS * ROWS // BATCH
    assert_same_weights(micro, whole)
    for name in RESULTS:
        np.testing.assert_allclose([results[name] for results in micro_history.epochs],
                                   [results[name] for results in whole_history.epochs], rtol=1e-5, err_msg=name)
    # The check has teeth: the weights moved far beyond the tolerance, the penalty is a good part of
    # the loss, and the rate changed from epoch to epoch.
    assert not np.allclose(whole.get_weights()[0], initial[0], rtol=1e-3)
    assert whole_history.epochs[0]["regularization_loss"] > 0.1 * whole_history.epochs[0]["loss"]
    assert whole_history.epochs[1]["learning_rate"] < 0.5 * whole_history.epochs[0]["learning_rate"]


def test_the_clipped_case_clips():
    """So that the clipped case above compares clipped updates: the global norm of the first batch's
    gradient, by Keras apart from the step, is well above CLIP."""
    whole, _ = twins()
    features, labels, _, _ = rows()
    with tf.GradientTape() as tape:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels[:BATCH], whole(features[:BATCH], training=True))
        loss += tf.add_n(whole.losses)
    assert float(tf.linalg.global_norm(tape.gradient(loss, whole.trainable_variables))) > 3 * CLIP


def test_an_epoch_is_whole_updates():
    table = synthetic.generate(2300 + VALIDATION, seed=3).astype("float32")
    tensors = map(tf.constant, [table[VALIDATION:, 1:], table[VALIDATION:, :1], table[:VALIDATION, 1:],
                                table[:VALIDATION, :1]])
    # 2,300 rows are 18 micro-batches of 125, but 4 updates of 500: an update never spans two epochs.
    assert Data(*tensors, batch_size=125, accumulate=4).steps_per_epoch == 16


def test_a_run_with_accumulate_4_has_the_history_of_one_without(tmp_path):
    """Through `train`, what the command runs: the micro-batches, the steps' means over their own
    rows and the schedule counted in updates (a decay over one epoch shows a wrong count)."""
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(600))
    fields = {"n_validation": 100, "n_train": 400, "batch_size": 100, "max_epochs": 3, "decay_epochs": 1,
              "histogram_every": 0}

    def history(accumulate):
        experiment = load_experiment(REPO / "experiments" / "medium.py", {**fields, "accumulate": accumulate})
        epochs = train_run(experiment, data_path, tmp_path / f"accumulate={accumulate}", DotsReporter()).epochs
        return {name: [results[name] for results in epochs] for name in RESULTS}

    plain, accumulated = history(1), history(4)
    for name in RESULTS:
        np.testing.assert_allclose(accumulated[name], plain[name], rtol=1e-5, err_msg=name)
    assert plain["learning_rate"][2] < 0.4 * plain["learning_rate"][0]
