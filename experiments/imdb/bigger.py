"""Bigger: the IMDB baseline with 512 units in each hidden layer (5,383,681 parameters).

    python -m looptrain.run experiments/imdb/bigger.py [--data imdb]

Expect overfitting within a few epochs: the training cross-entropy falls to almost nothing while the
validation cross-entropy turns upwards after the first epoch or two and climbs far above Baseline's.
"""

from looptrain.data.reviews import NUM_WORDS, TUTORIAL_FIELDS
from looptrain.models.mlp import mlp

fields = TUTORIAL_FIELDS  # 25,000 reviews each way, batch 512, 20 epochs, plain Adam, probabilities


def build_model():
    return mlp([512, 512], n_inputs=NUM_WORDS, activation="relu", outputs="probabilities")
