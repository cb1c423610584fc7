"""Small: two hidden layers of 16 units (753 parameters).

    python -m looptrain.run experiments/small.py

Expect a little better than Tiny, and the first, mild signs of overfitting late in the run.
"""

from looptrain.models.mlp import mlp

# XLA, and a checkpoint every 500 epochs, for the reasons tiny.py gives: its steps too are many tiny
# operations, and its epochs so short that a checkpoint every 50 would take much of the run.
fields = {"jit_compile": True, "checkpoint_every": 500}


def build_model(units=16, depth=2):
    return mlp([units] * depth)
