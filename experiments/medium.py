"""Medium: three hidden layers of 64 units (10,241 parameters), about one per training row.

    python -m looptrain.run experiments/medium.py

Expect overfitting: the validation cross-entropy reaches its minimum within the first hundred or so
epochs and then climbs while the training cross-entropy keeps falling; early stopping ends the run.
"""

from looptrain.models.mlp import mlp


def build_model(units=64, depth=3):
    return mlp([units] * depth)
