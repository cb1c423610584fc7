"""Small: two hidden layers of 16 units (753 parameters).

    python -m looptrain.run experiments/small.py

Expect a little better than Tiny, and the first, mild signs of overfitting late in the run.
"""

from looptrain.models import mlp


def build_model():
    return mlp([16, 16])
