"""Smaller: the IMDB baseline with 4 units in each hidden layer (40,029 parameters).

    python -m looptrain.run experiments/imdb/smaller.py [--data imdb]

Expect it to overfit last of the three sizes: its validation cross-entropy reaches its minimum
later than Baseline's and rises more slowly after it.
"""

from looptrain.data.reviews import NUM_WORDS, TUTORIAL_FIELDS
from looptrain.models.mlp import mlp

fields = TUTORIAL_FIELDS  # 25,000 reviews each way, batch 512, 20 epochs, plain Adam, probabilities


def build_model():
    return mlp([4, 4], n_inputs=NUM_WORDS, activation="relu", outputs="probabilities")
