"""The test rows, scored once when the run has ended: `Model.evaluate`, for the best and the final weights.

Each set of weights is put into the model in turn, the model runs over the rows with
`training=False` (dropout off, the model as deployed) a batch at a time, and its outputs come to the
host once; numpy works out the numbers (`looptrain.loop.calibration`): the test rows' cross-entropy,
accuracy and exact AUC, how well calibrated the probabilities are, and the same after temperature
scaling fitted on the validation rows. It runs after the last epoch and never inside one, so the
epochs are as fast as without it, and the test rows cannot steer early stopping. Not here: which
rows are the test rows (the caller's), writing the numbers down (`looptrain.runfolder.scores`).
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

from looptrain.loop.calibration import as_logits, calibrated_scores


def evaluate(model: keras.Model, weights: dict[str, list], test: tuple, validation: tuple, from_logits: bool,
             batch_size: int) -> dict[str, dict]:
    """For each named set of `weights` (arrays in `model.weights`' order: {"best": ..., "final": ...}),
    its `calibration.calibrated_scores` on the `test` rows, with the temperature fitted on the
    `validation` rows; each is `(features, labels)`. The model ends with the weights it started with."""
    forward = inference(model)
    scored = {}
    for name, values in weights.items():
        with holding(model, values):
            test_logits = logits(forward, test[0], batch_size, from_logits)
            validation_logits = logits(forward, validation[0], batch_size, from_logits)
        scored[name] = calibrated_scores(test[1].numpy(), test_logits, validation[1].numpy(), validation_logits)
    return scored


def inference(model: keras.Model):
    """The model with dropout off, as one graph: traced once for a full batch and once for a short last one."""
    return tf.function(lambda features: model(features, training=False), reduce_retracing=True)


def logits(forward, features, batch_size: int, from_logits: bool) -> np.ndarray:
    """`forward`'s logits on `features` (as logits even where the model gives probabilities), a batch
    at a time, every batch sent before the first comes back to the host."""
    outputs = [forward(features[start:start + batch_size]) for start in range(0, len(features), batch_size)]
    return as_logits(np.concatenate([output.numpy() for output in outputs]), from_logits)


@contextlib.contextmanager
def holding(model: keras.Model, weights: list):
    """The model with `weights` inside the block, and with its own again after it."""
    own = [weight.numpy() for weight in model.weights]
    for weight, value in zip(model.weights, weights):
        weight.assign(value)
    try:
        yield model
    finally:
        for weight, value in zip(model.weights, own):
            weight.assign(value)
