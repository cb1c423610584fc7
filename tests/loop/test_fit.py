"""The loop around the epoch: scripted results in, history and best weights out."""

import keras
import numpy as np

from looptrain.loop.fit import run_epochs


def scripted_epochs(kernel, results):
    """A stand-in for `looptrain.loop.epoch`: each epoch adds 1 to the kernel (after epoch e it holds e + 1)
    and returns the next scripted results."""
    results = iter(results)

    def run_epoch():
        kernel.assign_add([[1.0]])
        return next(results)

    return run_epoch


def one_weight_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].kernel.assign([[0.0]])
    return model, model.layers[0].kernel


def test_restores_the_best_epochs_weights_and_stops_after_patience():
    model, kernel = one_weight_model()
    validation = [0.70, 0.66, 0.64, 0.65, 0.63, 0.64, 0.66, 0.67, 0.70, 0.71]
    results = [{"val_binary_crossentropy": value, "binary_crossentropy": 0.5, "learning_rate": 0.01}
               for value in validation]
    reported = []
    history = run_epochs(model, scripted_epochs(kernel, results), max_epochs=100, patience=3,
                         report=lambda epoch, results, best: reported.append((epoch, best)))

    assert history.best_epoch == 4
    assert len(history.epochs) == 4 + 3 + 1  # stopped exactly `patience` epochs after the best
    assert [r["val_binary_crossentropy"] for r in history.epochs] == validation[:8]
    np.testing.assert_array_equal(kernel.numpy(), [[5.0]])  # the weights at the end of epoch 4
    np.testing.assert_array_equal(history.final_weights[0], [[8.0]])  # and a copy of the last epoch's
    assert reported[-1] == (7, 4)
    assert all(r["learning_rate"] == 0.01 and r["seconds"] > 0 for r in history.epochs)


def test_a_loss_that_is_no_longer_a_number_stops_the_run_with_the_best_weights_and_the_history_before_it():
    model, kernel = one_weight_model()
    nan = float("nan")
    results = [{"val_binary_crossentropy": validation, "binary_crossentropy": data_loss, "regularization_loss": 0.1}
               for validation, data_loss in [(0.70, 0.5), (0.60, 0.5), (0.65, 0.5), (nan, nan)]]
    history = run_epochs(model, scripted_epochs(kernel, results), max_epochs=100, patience=50)

    assert history.fault == "epoch 3: the loss is no longer a number (the data loss is nan)"
    assert len(history.epochs) == 3 and history.best_epoch == 1
    np.testing.assert_array_equal(kernel.numpy(), [[2.0]])  # the weights at the end of epoch 1
