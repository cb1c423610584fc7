"""The tutorial's model family: a stack of dense hidden layers ending in one output.

One builder serves all the experiments; each experiment file says which widths, which regularizer
and which dropout rate, whether the hidden layers normalize their batches, whether a layer
transforms the rows first (augmentation), and for the IMDB models the inputs (10,000 word flags,
not 28 features), the activation (ReLU, not ELU) and the output. The HIGGS models have deliberately
no sigmoid at the end: the loss works on logits, which is more accurate than on probabilities near
0 and 1. The IMDB models keep the tutorial's sigmoid, and the loss takes their probabilities as such.
"""

import keras

from looptrain.data.columns import N_FEATURES
from looptrain.models.dropout import Dropout


def mlp(hidden_units: list[int], regularizer=None, dropout_rate: float = 0.0, *, batch_normalization: bool = False,
        augmentation: keras.layers.Layer | None = None, n_inputs: int = N_FEATURES, activation: str = "elu",
        outputs: str = "logits") -> keras.Sequential:
    """Hidden layers of the given widths, each optionally followed by dropout, then one unit: a logit,
    or with `outputs="probabilities"` a sigmoid (the `outputs` configuration field says which).
    With `batch_normalization`, each hidden layer normalizes its weighted sums before the activation
    (`experiments/batchnorm.py` says why there); an `augmentation` layer comes first, on the inputs."""
    layers = [keras.Input(shape=(n_inputs,))]
    if augmentation is not None:
        layers.append(augmentation)  # it transforms the rows in training, and is the identity otherwise
    for units in hidden_units:
        # The regularizer adds its penalty to `model.losses`; the train step adds those to the loss.
        if batch_normalization:
            # No bias: the normalization takes the batch's mean away, bias and all, and its own offset
            # (beta) stands in for it. The statistics are the global batch's on every replica of a
            # `tf.distribute` strategy, as on one device.
            layers += [keras.layers.Dense(units, use_bias=False, kernel_regularizer=regularizer),
                       keras.layers.BatchNormalization(synchronized=True), keras.layers.Activation(activation)]
        else:
            layers.append(keras.layers.Dense(units, activation=activation, kernel_regularizer=regularizer))
        if dropout_rate:
            layers.append(Dropout(dropout_rate))
    # A logit: > 0 means "signal" is more likely than not. A probability: > 0.5 means the same.
    # float32 whatever the precision (`looptrain.loop.precision`), so that the loss gets exact logits.
    layers.append(keras.layers.Dense(1, activation="sigmoid" if outputs == "probabilities" else None,
                                     dtype="float32"))
    return keras.Sequential(layers)
