"""Mixed precision: bfloat16 or float16 layers with float32 weights, and float16's dynamic loss scaling.

The dtype policy is the model's own and does not leak into the next model of the process. Under
mixed_float16 the step scales the loss before the tape takes its gradient: a gradient too small for
float16 (below 6e-8 it is 0) survives scaled, and unscaled it agrees with float32's; without the scale
it is 0. An overflow (here a batch that float16 holds as inf) skips the update and halves the scale,
and after `LOSS_SCALE_GROWTH_STEPS` updates without one the scale doubles again.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_step import batch

from looptrain.errors import InputError
from looptrain.loop import optimizer as optimizer_module
from looptrain.loop import precision
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.models.mlp import mlp

INITIAL_SCALE = 2.0 ** 15  # Keras's


def test_the_policy_is_the_models_own_and_does_not_leak():
    model = precision.build_model(lambda: mlp([16, 16]), "mixed_bfloat16")
    *hidden, output = model.layers
    assert {layer.compute_dtype for layer in hidden} == {"bfloat16"}
    assert output.compute_dtype == "float32" and model(np.zeros((2, 28), "float32")).dtype == tf.float32
    assert {weight.dtype for weight in model.weights} == {"float32"}  # the optimizer updates float32 weights
    assert keras.config.dtype_policy().name == "float32"  # put back at once
    assert {layer.compute_dtype for layer in mlp([16]).layers} == {"float32"}  # so the next model is float32


def test_a_model_whose_output_layer_is_not_float32_is_refused():
    def bfloat16_output():
        return keras.Sequential([keras.Input((28,)), keras.layers.Dense(4), keras.layers.Dense(1)])

    with pytest.raises(InputError, match="output layer computes in bfloat16"):
        precision.build_model(bfloat16_output, "mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # put back after a refusal too


def float16_twin(model32):
    """The float32 model's weights in a mixed_float16 model of the same layers."""
    model16 = precision.build_model(lambda: mlp([16, 16]), "mixed_float16")
    model16.set_weights(model32.get_weights())
    return model16


def applied_gradients(model, optimizer, features, labels):
    """The gradients the train step hands to `optimizer.apply_gradients`, run eagerly so they have values."""
    applied, apply_gradients = [], optimizer.apply_gradients

    def note_and_apply(pairs):
        pairs = list(pairs)
        applied.extend(gradient.numpy().astype("float64") for gradient, _ in pairs)
        return apply_gradients(pairs)

    optimizer.apply_gradients = note_and_apply
    make_steps(model, optimizer, make_metrics()).train.python_function(features, labels)
    return applied


def test_a_gradient_too_small_for_float16_survives_the_scaled_loss_and_vanishes_without_it():
    keras.utils.set_random_seed(0)
    model32 = mlp([16, 16])
    weights = model32.get_weights()
    weights[-2] *= 1e-7  # a near-silent output layer: the hidden layers' gradients are some 1e-8 to 1e-12
    model32.set_weights(weights)
    features, labels = batch()
    # float32's gradients, by Keras apart from the step.
    with tf.GradientTape() as tape:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels, model32(features, training=True))
    reference = [gradient.numpy().astype("float64") for gradient in tape.gradient(loss, model32.trainable_variables)]
    first_kernel = reference[0]
    assert 0 < np.abs(first_kernel).max() < 6e-8  # below float16's smallest number: it would round to 0

    scaled = make_optimizer(1e-3, 0, loss_scaling=True)
    scaled_gradients = applied_gradients(float16_twin(model32), scaled, features, labels)
    unscaled = [gradient / INITIAL_SCALE for gradient in scaled_gradients]  # what the optimizer divides out
    np.testing.assert_allclose(unscaled[0], first_kernel, rtol=0.05, atol=0.02 * np.abs(first_kernel).max())

    plain_gradients = applied_gradients(float16_twin(model32), make_optimizer(1e-3, 0), features, labels)
    assert np.count_nonzero(plain_gradients[0]) < 0.1 * first_kernel.size  # flushed to 0 without the scale


def test_an_overflow_skips_the_update_and_halves_the_scale_which_doubles_after_its_period(monkeypatch):
    monkeypatch.setattr(optimizer_module, "LOSS_SCALE_GROWTH_STEPS", 3)
    keras.utils.set_random_seed(0)
    model = precision.build_model(lambda: mlp([16, 16]), "mixed_float16")
    optimizer = make_optimizer(1e-3, 0, loss_scaling=True)
    optimizer.build(model.trainable_variables)
    step = make_steps(model, optimizer, make_metrics()).train
    features, labels = batch()
    overflowing = features.copy()
    overflowing[0, 0] = 1e6  # float16's largest number is 65,504: this row's logit is not a number

    def scale():
        return float(optimizer.dynamic_scale)

    step(features, labels)
    assert (scale(), int(optimizer.iterations)) == (INITIAL_SCALE, 1)
    before = model.get_weights()
    step(overflowing, labels)
    for weight, earlier in zip(model.get_weights(), before):
        np.testing.assert_array_equal(weight, earlier)  # skipped: not one weight moved
    assert (scale(), int(optimizer.iterations)) == (INITIAL_SCALE / 2, 1)  # halved, and no update counted

    for updates in (2, 3):
        step(features, labels)
        assert (scale(), int(optimizer.iterations)) == (INITIAL_SCALE / 2, updates)
    step(features, labels)  # the third update since the overflow
    assert (scale(), int(optimizer.iterations)) == (INITIAL_SCALE, 4)
    assert not np.allclose(model.get_weights()[0], before[0])
