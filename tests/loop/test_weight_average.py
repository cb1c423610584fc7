"""The weights' moving average (`weight_average`): validated, and kept as the best weights, while the
steps go on training the raw weights.

A twin without the average trains on the same batches in the same order, its weights noted after
every step; numpy averages them as Keras's `use_ema` does (the first update's weights, then
avg ← m·avg + (1 − m)·w after each update). Each epoch's validation cross-entropy must be that of
the numpy average (by Keras, on a third model holding it), the training numbers those of the twin
(the average never trains), and the run must end holding the average of its best epoch.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import assert_same_weights
from looptrain.data.higgs import Data
from looptrain.data.simulation import synthetic
from looptrain.loop import epoch, weight_average
from looptrain.loop.fit import run_epochs
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.models.mlp import mlp

ROWS, VALIDATION, BATCH, EPOCHS, MOMENTUM, SEED = 400, 200, 100, 6, 0.5, 7
RATE = 0.01  # a fast rate, so that 400 rows overfit within a few epochs and the best epoch comes early


def rows():
    table = synthetic.generate(VALIDATION + ROWS, seed=3).astype("float32")
    return table[VALIDATION:, 1:], table[VALIDATION:, :1], table[:VALIDATION, 1:], table[:VALIDATION, :1]


def epoch_orders(loop):
    """The rows' order in each epoch: as given under the step loop here, as the epoch in one graph
    draws it (the same function on a generator seeded alike) under the other."""
    if loop == "step":
        return [np.arange(ROWS)] * EPOCHS
    shuffling = tf.random.Generator.from_seed(SEED)
    return [epoch.epoch_order(shuffling, ROWS).numpy() for _ in range(EPOCHS)]


def averaged_run(model, loop):
    optimizer = make_optimizer(RATE, 0, weight_average=MOMENTUM)
    optimizer.build(model.trainable_variables)
    swap = weight_average.make_swap(model, optimizer)
    metrics = make_metrics()
    steps = make_steps(model, optimizer, metrics)
    train_features, train_labels, validation_features, validation_labels = rows()
    if loop == "step":
        train_batches = tf.data.Dataset.from_tensor_slices((train_features, train_labels)).repeat().batch(BATCH)
        validation = tf.data.Dataset.from_tensor_slices((validation_features, validation_labels)).batch(BATCH)
        run_epoch, _ = epoch.step_by_step(steps, metrics, optimizer, train_batches, validation, ROWS // BATCH, swap)
    else:
        data = Data(*map(tf.constant, rows()), batch_size=BATCH)
        run_epoch, _ = epoch.in_one_graph(steps, metrics, data, optimizer, SEED, jit_compile=loop == "epoch-xla",
                                          swap=swap)
    # Patience 1: the run stops early, so that the best epoch is not simply the last.
    return run_epochs(model, run_epoch, max_epochs=EPOCHS, patience=1,
                      evaluated=weight_average.evaluated_weights(model, optimizer))


def by_hand(model, loop):
    """The twin's training, step by step, and the numpy average of its weights at each epoch's end."""
    steps = make_steps(model, make_optimizer(RATE, 0), make_metrics())
    train_features, train_labels, _, _ = rows()
    average, averages, trained = None, [], []
    for order in epoch_orders(loop):
        for start in range(0, ROWS, BATCH):
            batch = order[start:start + BATCH]
            steps.train(train_features[batch], train_labels[batch])
            weights = [weight.astype("float64") for weight in model.get_weights()]
            average = weights if average is None else [
                MOMENTUM * mean + (1 - MOMENTUM) * weight for mean, weight in zip(average, weights)]
        averages.append(average)
        trained.append(model.get_weights())
    return averages, trained


def validation_loss(weights, model):
    _, _, features, labels = rows()
    model.set_weights([weight.astype("float32") for weight in weights])
    return float(keras.losses.BinaryCrossentropy(from_logits=True)(labels, model(features, training=False)))


@pytest.mark.parametrize("loop", ["step", "epoch", "epoch-xla"])  # XLA: the swap's assigns compiled too
def test_the_validation_and_the_best_weights_are_the_average_and_the_steps_train_the_weights(loop):
    keras.utils.set_random_seed(0)
    averaged, twin, scratch = mlp([32, 32]), mlp([32, 32]), mlp([32, 32])
    twin.set_weights(averaged.get_weights())
    history = averaged_run(averaged, loop)
    averages, trained = by_hand(twin, loop)

    epochs = len(history.epochs)
    assert history.best_epoch < epochs - 1  # the run ends holding an earlier epoch's weights
    np.testing.assert_allclose([results["val_binary_crossentropy"] for results in history.epochs],
                               [validation_loss(average, scratch) for average in averages[:epochs]], rtol=1e-5)
    for kept, average in zip(averaged.get_weights(), averages[history.best_epoch]):
        np.testing.assert_allclose(kept, average, rtol=1e-5, atol=1e-7)
    # The check has teeth: the raw weights of the best epoch validate otherwise.
    assert abs(validation_loss(trained[history.best_epoch], scratch)
               - history.epochs[history.best_epoch]["val_binary_crossentropy"]) > 1e-4


@pytest.mark.parametrize("loop", ["step", "epoch"])
def test_the_average_never_trains(loop):
    """The swap back after each validation: the epochs' training numbers and the weights that go on
    training are the twin's, who has no average at all."""
    keras.utils.set_random_seed(0)
    averaged, twin = mlp([32, 32]), mlp([32, 32])
    twin.set_weights(averaged.get_weights())
    optimizer = make_optimizer(RATE, 0, weight_average=MOMENTUM)
    optimizer.build(averaged.trainable_variables)
    swap = weight_average.make_swap(averaged, optimizer)
    metrics = make_metrics()
    data = Data(*map(tf.constant, rows()), batch_size=BATCH)
    if loop == "step":
        train_features, train_labels, validation_features, validation_labels = rows()
        run_epoch, _ = epoch.step_by_step(
            make_steps(averaged, optimizer, metrics), metrics, optimizer,
            tf.data.Dataset.from_tensor_slices((train_features, train_labels)).repeat().batch(BATCH),
            tf.data.Dataset.from_tensor_slices((validation_features, validation_labels)).batch(BATCH), ROWS // BATCH,
            swap)
    else:
        run_epoch, _ = epoch.in_one_graph(make_steps(averaged, optimizer, metrics), metrics, data, optimizer, SEED,
                                          jit_compile=False, swap=swap)
    for _ in range(EPOCHS):
        run_epoch()
    by_hand(twin, loop)
    assert_same_weights(averaged, twin)
