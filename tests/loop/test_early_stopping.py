"""Early stopping on scripted sequences: by hand, against Keras's own callback, and inside the loop."""

import keras
import numpy as np
import pytest

from looptrain.loop.early_stopping import EarlyStopping


def stopping_epoch(values, patience, min_delta=0.0):
    """(epoch at which ours stops or the last epoch, best epoch)."""
    stopper = EarlyStopping(patience, min_delta)
    for epoch, value in enumerate(values):
        stopper.update(epoch, value)
        if stopper.should_stop:
            return epoch, stopper.best_epoch
    return len(values) - 1, stopper.best_epoch


def keras_stopping_epoch(values, patience, min_delta=0.0):
    """The same question asked of keras.callbacks.EarlyStopping, driven by hand."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    callback = keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", mode="min", patience=patience,
                                             min_delta=min_delta, restore_best_weights=True)
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_binary_crossentropy": value})
        if model.stop_training:
            return epoch, callback.best_epoch
    return len(values) - 1, callback.best_epoch


def test_stops_exactly_patience_epochs_after_the_best():
    values = [0.70, 0.65, 0.60, 0.62, 0.61, 0.63, 0.64, 0.65, 0.66]
    assert stopping_epoch(values, patience=3) == (5, 2)  # best at 2; 3, 4, 5 do not improve


def test_an_improvement_resets_the_count():
    values = [0.70, 0.65, 0.66, 0.64, 0.65, 0.66, 0.67]
    assert stopping_epoch(values, patience=2) == (5, 3)


def test_min_delta_ignores_small_improvements():
    values = [0.700, 0.695, 0.691, 0.689, 0.650, 0.700]
    # With min_delta 0.02 only 0.650 (< 0.700 - 0.02) improves on the first value.
    assert stopping_epoch(values, patience=3, min_delta=0.02) == (3, 0)
    assert stopping_epoch(values, patience=4, min_delta=0.02) == (5, 4)
    assert stopping_epoch(values, patience=3) == (5, 4)


def test_nan_never_improves():
    assert stopping_epoch([0.7, float("nan"), float("nan")], patience=2) == (2, 0)


@pytest.mark.parametrize("patience, min_delta", [(0, 0.0), (1, 0.0), (3, 0.0), (5, 0.01), (10, 0.002)])
def test_agrees_with_keras_on_random_walks(patience, min_delta):
    rng = np.random.default_rng(patience)
    for _ in range(20):
        values = list(0.7 + np.cumsum(rng.normal(0.0, 0.01, size=60)))
        assert stopping_epoch(values, patience, min_delta) == keras_stopping_epoch(values, patience, min_delta)
