"""looptrain's Dropout layer against Keras's own, and against what dropout is by definition."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from looptrain.models.dropout import Dropout

ROWS, UNITS = 500, 513  # 256,500 units, not a whole number of 32-unit words


def inputs(seed=0):
    return tf.constant(np.random.default_rng(seed).normal(size=(ROWS, UNITS)).astype("float32"))


def sigmas(observed, expected, count):
    """How many binomial standard deviations `observed` (a fraction of `count` draws) is from `expected`."""
    return abs(observed - expected) / np.sqrt(expected * (1 - expected) / count)


def test_without_training_it_passes_the_input_unchanged():
    x = inputs()
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True).numpy(), x.numpy())


@pytest.mark.parametrize("rate, bits", [(0.5, 1), (0.25, 2), (0.75, 2), (0.125, 4), (0.3, 16)])
def test_it_drops_units_as_keras_dropout_does(rate, bits):
    x = inputs().numpy()
    keras.utils.set_random_seed(1)
    ours, theirs = Dropout(rate), keras.layers.Dropout(rate)
    assert ours.bits == bits
    assert ours.rate == pytest.approx(rate, abs=2 ** -17)  # exact, or rounded to a multiple of 1/65,536
    for layer in (ours, theirs):
        dropped = layer(x, training=True).numpy()
        zeroed = dropped == 0
        # Each unit is dropped with probability `rate`: 256,500 units put the fraction within a few
        # standard deviations (0.001 at rate 0.5) of it.
        assert sigmas(zeroed.mean(), rate, x.size) < 5
        # And each kept unit is scaled by 1 / (1 - rate), so that the expected output is the input.
        np.testing.assert_allclose(dropped[~zeroed], x[~zeroed] / (1 - layer.rate), rtol=1e-6)


def test_every_place_in_a_random_word_drops_at_the_rate_and_neighbours_are_independent():
    # Units share 32-bit words: unit i takes bit i % 32 of word i // 32. A wrong shift or mask would
    # fix some places, or tie neighbours together.
    x = tf.ones((ROWS, 512))
    layer = Dropout(0.5, seed=2)
    zeroed = np.concatenate([layer(x, training=True).numpy().reshape(-1, 32) == 0 for _ in range(4)])
    words = len(zeroed)  # 32,000
    assert max(sigmas(fraction, 0.5, words) for fraction in zeroed.mean(axis=0)) < 5
    both = (zeroed[:, :-1] & zeroed[:, 1:]).mean(axis=0)  # neighbours dropped together: 0.25 if independent
    assert max(sigmas(fraction, 0.25, words) for fraction in both) < 5
    # With 2 bits a unit: each place's number is uniform on 0..3, so each place drops at 0.25.
    zeroed = np.concatenate([Dropout(0.25, seed=2)(x, training=True).numpy().reshape(-1, 16) == 0
                             for _ in range(4)])
    assert max(sigmas(fraction, 0.25, len(zeroed)) for fraction in zeroed.mean(axis=0)) < 5


def test_masks_are_fresh_every_call_and_repeat_from_the_same_seed_with_or_without_xla():
    x = inputs()
    first, again = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    one, two = first(x, training=True).numpy(), first(x, training=True).numpy()
    assert not np.array_equal(one == 0, two == 0)
    np.testing.assert_array_equal(again(x, training=True).numpy(), one)
    # XLA draws the same bits: a run compiled with jit_compile and one without use the same masks.
    compiled = tf.function(lambda x: again(x, training=True), jit_compile=True)
    np.testing.assert_array_equal(compiled(x).numpy(), two)


def test_the_random_state_is_a_model_variable_a_checkpoint_can_hold():
    layer = Dropout(0.5, seed=3)
    model = keras.Sequential([keras.Input((4,)), layer])
    assert any(variable is layer.seed_generator.state for variable in model.variables)
    before = layer.seed_generator.state.numpy().copy()
    layer(tf.ones((2, 4)), training=True)
    assert not np.array_equal(layer.seed_generator.state.numpy(), before)  # each call moves it on


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_a_rate_outside_0_to_1_is_refused(rate):
    with pytest.raises(ValueError, match=f"a dropout rate must be at least 0 and below 1, got {rate}"):
        Dropout(rate)
