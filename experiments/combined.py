"""Combined: the Large model with both a light L2 penalty (0.0001·Σw²) and Dropout(0.5).

    python -m looptrain.run experiments/combined.py

The tutorial's best model: expect the lowest best validation cross-entropy of the Large family and
the latest early stop, with training and validation curves that stay close together.
"""

import keras

from looptrain.models.mlp import mlp

# XLA fuses the dropout masks into the layers around them: an epoch takes less time, for more
# memory while the first epoch compiles (docs, performance page).
fields = {"jit_compile": True}


def build_model(units=512, depth=4):
    return mlp([units] * depth, regularizer=keras.regularizers.l2(0.0001), dropout_rate=0.5)
