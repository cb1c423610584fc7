"""Large: four hidden layers of 512 units (803,329 parameters), eighty per training row.

    python -m looptrain.run experiments/large.py

Expect fast, severe overfitting: the training cross-entropy heads for zero within a few hundred
epochs while the validation cross-entropy turns upwards almost at once. The baseline that the L2,
Dropout and Combined experiments improve on.
"""

from looptrain.models.mlp import mlp


def build_model(units=512, depth=4):
    return mlp([units] * depth)
