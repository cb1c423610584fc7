"""Dropout: the Large model with Dropout(0.5) after every hidden layer.

    python -m looptrain.run experiments/dropout.py

In training (`training=True`) half the hidden units are zeroed at random on every step and the rest
scaled by 2; in validation (`training=False`) all units work. Expect much less overfitting than
Large, and a training cross-entropy *above* the validation one early on: it is measured with dropout.
"""

from looptrain.models.mlp import mlp

# XLA, for the reason combined.py gives: it fuses the dropout masks into the layers.
fields = {"jit_compile": True}


def build_model(units=512, depth=4):
    return mlp([units] * depth, dropout_rate=0.5)
