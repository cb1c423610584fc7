"""Tiny: one hidden layer of 16 units (481 parameters), too small to overfit.

    python -m looptrain.run experiments/tiny.py

Expect the validation cross-entropy to keep falling, slowly, for thousands of epochs and to stay
close to the training cross-entropy: too little capacity to memorize 10,000 rows.
"""

from looptrain.models import mlp


def build_model():
    return mlp([16])
