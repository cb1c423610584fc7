"""The end of a run: each set of weights scored on the test rows as Keras would score it, the model
left with its own weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import known_weights
from looptrain.loop.evaluate import evaluate
from looptrain.models.mlp import mlp


def rows(n, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 28)).astype("float32")
    labels = (features[:, :1] + rng.normal(size=(n, 1)) > 0).astype("float32")  # something to learn
    return tf.constant(features), tf.constant(labels)


@pytest.mark.parametrize("outputs", ["logits", "probabilities"])
def test_each_set_of_weights_scores_what_keras_scores_and_the_model_keeps_its_own(outputs):
    model = mlp([16, 16], dropout_rate=0.5, outputs=outputs)  # dropout: it must be off
    first, second = known_weights(model, seed=1), known_weights(model, seed=2)
    own = known_weights(model, seed=3)
    test, validation = rows(1_003, seed=4), rows(200, seed=5)  # 1,003: the last batch is short

    scored = evaluate(model, {"first": first, "second": second}, test, validation, outputs == "logits", batch_size=100)
    for now, before in zip(model.get_weights(), own):
        np.testing.assert_array_equal(now, before)

    for name, weights in [("first", first), ("second", second)]:
        model.set_weights(weights)
        predictions = model(test[0], training=False)
        bce = keras.metrics.BinaryCrossentropy(from_logits=outputs == "logits")
        bce.update_state(test[1], predictions)
        accuracy = keras.metrics.BinaryAccuracy(threshold=0.0 if outputs == "logits" else 0.5)
        accuracy.update_state(test[1], predictions)
        assert scored[name]["binary_crossentropy"] == pytest.approx(float(bce.result()), rel=1e-5)
        assert scored[name]["accuracy"] == pytest.approx(float(accuracy.result()))
        signal, background = (predictions.numpy()[test[1].numpy() == label] for label in (1, 0))
        pairs = signal[:, None] > background[None, :]
        assert scored[name]["auc"] == pytest.approx(pairs.mean() + 0.5 * (signal[:, None] == background).mean())
    assert scored["first"]["binary_crossentropy"] != scored["second"]["binary_crossentropy"]
