"""The tutorial's model family: a stack of ELU layers ending in one logit.

One builder serves all seven HIGGS experiments; each experiment file says which widths, which
regularizer and which dropout rate. There is deliberately no sigmoid at the end: the loss works on
logits, which is more accurate than on probabilities near 0 and 1.
"""

import keras

from looptrain.data import N_FEATURES


def mlp(hidden_units: list[int], regularizer=None, dropout_rate: float = 0.0) -> keras.Sequential:
    """ELU hidden layers of the given widths, each optionally followed by dropout, then `Dense(1)`."""
    layers = [keras.Input(shape=(N_FEATURES,))]
    for units in hidden_units:
        # The regularizer adds its penalty to `model.losses`; the train step adds those to the loss.
        layers.append(keras.layers.Dense(units, activation="elu", kernel_regularizer=regularizer))
        if dropout_rate:
            layers.append(keras.layers.Dropout(dropout_rate))
    layers.append(keras.layers.Dense(1))  # a logit: > 0 means "signal" is more likely than not
    return keras.Sequential(layers)
