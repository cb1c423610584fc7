"""The loss composition and the training flag, checked against numpy and against Keras itself."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import known_weights
from looptrain.loop.step import make_metrics, make_steps, regularization_loss
from looptrain.models.mlp import mlp

LAMBDA = 0.001


def batch(seed=1, rows=64):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 28)).astype("float32")
    labels = rng.integers(0, 2, size=(rows, 1)).astype("float32")
    return features, labels


def numpy_logits(weights, features):
    """The forward pass by hand: ELU hidden layers, a linear output."""
    activations = features.astype("float64")
    kernels, biases = weights[0::2], weights[1::2]
    for index, (kernel, bias) in enumerate(zip(kernels, biases)):
        activations = activations @ kernel + bias
        if index < len(kernels) - 1:
            activations = np.where(activations > 0, activations, np.expm1(activations))
    return activations


def numpy_bce_on_logits(labels, logits):
    return np.mean(np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits))))


def test_regularization_loss_is_lambda_times_sum_of_squared_kernels():
    model = mlp([16, 8], regularizer=keras.regularizers.l2(LAMBDA))
    weights = known_weights(model)
    expected = LAMBDA * sum(np.sum(kernel.astype("float64") ** 2) for kernel in weights[0:4:2])  # hidden kernels
    assert float(regularization_loss(model)) == pytest.approx(expected, rel=1e-5)


def test_a_model_without_regularizers_has_zero_regularization_loss():
    model = mlp([16])
    assert model.losses == []
    assert float(regularization_loss(model)) == 0.0


def test_train_step_returns_data_loss_and_penalty_and_reports_their_sum():
    model = mlp([16, 8], regularizer=keras.regularizers.l2(LAMBDA))
    weights = known_weights(model)
    features, labels = batch()
    metrics = make_metrics()
    steps = make_steps(model, keras.optimizers.SGD(0.0), metrics)  # rate 0: the weights stay known

    data_loss, regularization = steps.train(features, labels)

    expected_data = numpy_bce_on_logits(labels, numpy_logits(weights, features))
    expected_penalty = LAMBDA * sum(np.sum(kernel.astype("float64") ** 2) for kernel in weights[0:4:2])
    assert float(data_loss) == pytest.approx(expected_data, rel=1e-5)
    assert float(regularization) == pytest.approx(expected_penalty, rel=1e-5)
    assert float(metrics["loss"].result()) == pytest.approx(expected_data + expected_penalty, rel=1e-5)
    assert float(metrics["binary_crossentropy"].result()) == pytest.approx(expected_data, rel=1e-5)
    expected_accuracy = np.mean((numpy_logits(weights, features) > 0) == (labels == 1))
    assert float(metrics["accuracy"].result()) == pytest.approx(expected_accuracy)


def test_the_step_descends_the_data_gradient_plus_two_lambda_w():
    model = mlp([16, 8], regularizer=keras.regularizers.l2(LAMBDA))
    weights = known_weights(model)
    features, labels = batch()
    # Keras's own gradient of the data loss alone, as the reference.
    with tf.GradientTape() as tape:
        data_loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels, model(features, training=True))
    data_gradients = [g.numpy() for g in tape.gradient(data_loss, model.trainable_variables)]

    # Plain SGD with rate 1 moves each weight by exactly minus its gradient.
    steps = make_steps(model, keras.optimizers.SGD(1.0), make_metrics())
    steps.train(features, labels)
    step_gradients = [before - after for before, after in zip(weights, model.get_weights())]

    for index in (0, 2):  # the two regularized hidden kernels
        np.testing.assert_allclose(step_gradients[index], data_gradients[index] + 2 * LAMBDA * weights[index],
                                   rtol=1e-4, atol=1e-6)
    for index in (1, 3, 4, 5):  # biases and the output kernel carry no penalty
        np.testing.assert_allclose(step_gradients[index], data_gradients[index], rtol=1e-4, atol=1e-6)


def test_training_false_is_deterministic_and_equals_the_model_without_dropout():
    with_dropout = mlp([64, 64], dropout_rate=0.5)
    without = mlp([64, 64])
    without.set_weights(known_weights(with_dropout))
    features, _ = batch()
    first = with_dropout(features, training=False).numpy()
    np.testing.assert_array_equal(first, with_dropout(features, training=False).numpy())
    np.testing.assert_allclose(first, without(features, training=False).numpy(), rtol=1e-6)


def test_training_true_zeroes_about_rate_of_the_units_and_scales_the_rest():
    model = mlp([512], dropout_rate=0.5)
    known_weights(model)
    features, _ = batch(rows=256)
    dense, dropout = model.layers[0], model.layers[1]
    units = dense(features).numpy()
    dropped = dropout(units, training=True).numpy()
    zeroed = dropped == 0
    assert zeroed.mean() == pytest.approx(0.5, abs=0.01)  # 131,072 units: the mean is 0.5 ± 0.0014
    np.testing.assert_allclose(dropped[~zeroed], units[~zeroed] / (1 - 0.5), rtol=1e-6)


def test_train_step_runs_with_dropout_on_and_eval_step_with_it_off():
    model = mlp([64, 64], dropout_rate=0.5)
    known_weights(model)
    features, labels = batch()
    steps = make_steps(model, keras.optimizers.SGD(0.0), make_metrics())
    train_losses = {round(float(steps.train(features, labels)[0]), 6) for _ in range(5)}
    eval_logits = [steps.evaluate(features, labels).numpy() for _ in range(2)]
    assert len(train_losses) == 5  # a fresh dropout mask on every step
    np.testing.assert_array_equal(eval_logits[0], eval_logits[1])
    # A graph and an eager run may order float sums differently: equal to float32 round-off.
    np.testing.assert_allclose(eval_logits[0], model(features, training=False).numpy(), rtol=1e-5, atol=1e-6)
