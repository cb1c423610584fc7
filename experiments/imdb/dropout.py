"""Dropout: the IMDB baseline with Dropout(0.5) after each hidden layer.

    python -m looptrain.run experiments/imdb/dropout.py [--data imdb]

Expect a validation cross-entropy that ends lower than Baseline's, and a training cross-entropy,
measured with dropout on, that stays well above Baseline's.
"""

from looptrain.data.reviews import NUM_WORDS, TUTORIAL_FIELDS
from looptrain.models.mlp import mlp

fields = TUTORIAL_FIELDS  # 25,000 reviews each way, batch 512, 20 epochs, plain Adam, probabilities


def build_model():
    return mlp([16, 16], dropout_rate=0.5, n_inputs=NUM_WORDS, activation="relu", outputs="probabilities")
