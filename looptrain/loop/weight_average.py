"""The weights' moving average in validation: what `weight_average` evaluates and keeps.

With `weight_average` above 0, Keras's optimizer keeps an exponential moving average of the
trainable weights (`use_ema`), updated after every `apply_gradients`, in variables of its own. The
train steps go on training the raw weights; the validation pass, the best weights and
best.weights.h5 use the average. So the epoch swaps the average into the model before its validation
and swaps it out again after (`swap`: a value exchange, nothing copied to the host), and the loop
keeps as "best" the variables the validation saw (`evaluated_weights`: the averages in place of the
trainable weights). The non-trainable weights (batch normalization's moving statistics, the dropout
layers' random state) are not averaged, as in Keras's `fit` with `use_ema`. What is not here: the
average's update (Keras's, inside `apply_gradients`) and early stopping (`looptrain.loop.fit`).
"""

import keras
import tensorflow as tf


def averages(optimizer: keras.optimizers.Optimizer) -> list | None:
    """The optimizer's averages of the trainable weights, in their order, or None without `use_ema`.
    Keras keeps them in `_model_variables_moving_average`, its one name for them (in an inner optimizer
    when a `LossScaleOptimizer` wraps it)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return list(inner._model_variables_moving_average) if inner.use_ema else None


def make_swap(model: keras.Model, optimizer):
    """A function that exchanges the model's trainable weights with their averages, or None without
    `use_ema`. Called twice it puts everything back. Before the first update the averages are
    Keras's zeros: they take the weights' values first, so that a swap then changes nothing."""
    averaged = averages(optimizer)
    if averaged is None:
        return None
    for average, weight in zip(averaged, model.trainable_variables):
        average.assign(weight)  # Keras overwrites them at the first update anyway (its momentum is 0 there)

    def swap():
        for average, weight in zip(averaged, model.trainable_variables):
            value = tf.identity(weight)  # read before either is written: the graph keeps this order
            weight.assign(average)
            average.assign(value)

    return swap


def evaluated_weights(model: keras.Model, optimizer) -> list:
    """The variables whose values the validation sees, in `model.weights`' order: the model's own,
    with the averages in place of the trainable ones under `use_ema`."""
    averaged = averages(optimizer)
    if averaged is None:
        return list(model.weights)
    by_weight = {id(weight): average for weight, average in zip(model.trainable_variables, averaged)}
    return [by_weight.get(id(weight), weight) for weight in model.weights]
