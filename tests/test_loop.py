"""The loop around the step: scripted validation results in, history and best weights out."""

import keras
import numpy as np
import tensorflow as tf
from types import SimpleNamespace

from looptrain.loop import run_epochs
from looptrain.step import Steps


class Scripted:
    """A stand-in metric whose result() walks through a scripted list, one value per epoch."""

    def __init__(self, values):
        self.values = iter(values)

    def result(self):
        return next(self.values)

    def reset_state(self):
        pass


def test_restores_the_best_epochs_weights_and_stops_after_patience():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    kernel = model.layers[0].kernel
    kernel.assign([[0.0]])

    def train_step(features, labels):  # one step per epoch: after epoch e the kernel holds e + 1
        kernel.assign_add([[1.0]])

    validation = [0.70, 0.66, 0.64, 0.65, 0.63, 0.64, 0.66, 0.67, 0.70, 0.71]
    metrics = {"val_binary_crossentropy": Scripted(validation), "binary_crossentropy": Scripted([0.5] * 10)}
    batch = (tf.zeros((1, 1)), tf.zeros((1, 1)))
    data = SimpleNamespace(train_batches=lambda: tf.data.Dataset.from_tensors(batch).repeat(),
                           validation_batches=lambda: tf.data.Dataset.from_tensors(batch), steps_per_epoch=1)
    reported = []
    history = run_epochs(model, keras.optimizers.Adam(0.01), Steps(train=train_step, evaluate=lambda f, l: None),
                         metrics, data, max_epochs=100, patience=3,
                         report=lambda epoch, results, best: reported.append((epoch, best)))

    assert history.best_epoch == 4
    assert len(history.epochs) == 4 + 3 + 1  # stopped exactly `patience` epochs after the best
    assert [r["val_binary_crossentropy"] for r in history.epochs] == validation[:8]
    np.testing.assert_array_equal(kernel.numpy(), [[5.0]])  # the weights at the end of epoch 4
    assert reported[-1] == (7, 4)
    assert all(np.isclose(r["learning_rate"], 0.01) for r in history.epochs)


def test_a_loss_that_is_no_longer_a_number_stops_the_run_with_the_best_weights_and_the_history_before_it():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    kernel = model.layers[0].kernel
    kernel.assign([[0.0]])

    def train_step(features, labels):  # after epoch e the kernel holds e + 1
        kernel.assign_add([[1.0]])

    nan = float("nan")
    metrics = {"val_binary_crossentropy": Scripted([0.70, 0.60, 0.65, nan]),
               "binary_crossentropy": Scripted([0.5, 0.5, 0.5, nan]),
               "regularization_loss": Scripted([0.1, 0.1, 0.1, 0.1])}
    batch = (tf.zeros((1, 1)), tf.zeros((1, 1)))
    data = SimpleNamespace(train_batches=lambda: tf.data.Dataset.from_tensors(batch).repeat(),
                           validation_batches=lambda: tf.data.Dataset.from_tensors(batch), steps_per_epoch=1)
    history = run_epochs(model, keras.optimizers.Adam(0.01), Steps(train=train_step, evaluate=lambda f, l: None),
                         metrics, data, max_epochs=100, patience=50)

    assert history.fault == "epoch 3: the loss is no longer a number (the data loss is nan)"
    assert len(history.epochs) == 3 and history.best_epoch == 1
    np.testing.assert_array_equal(kernel.numpy(), [[2.0]])  # the weights at the end of epoch 1
