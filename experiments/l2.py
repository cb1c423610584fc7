"""L2: the Large model with an L2 penalty of 0.001·Σw² on every hidden kernel.

    python -m looptrain.run experiments/l2.py

The penalty is the `regularization_loss` the train step adds to the data loss; it pulls the weights
towards zero. Expect much less overfitting than Large: the validation cross-entropy stays near its
minimum far longer. Compare `binary_crossentropy` (the data loss) with `loss` (data + penalty).
"""

import keras

from looptrain.models.mlp import mlp


def build_model(units=512, depth=4):
    return mlp([units] * depth, regularizer=keras.regularizers.l2(0.001))
