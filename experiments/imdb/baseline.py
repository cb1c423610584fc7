"""Baseline: the IMDB tutorial's review classifier, ReLU 16-16 and a sigmoid (160,305 parameters).

    python -m looptrain.run experiments/imdb/baseline.py [--data imdb]

Each review is a multi-hot vector of 10,000 word flags. Expect the validation cross-entropy to reach
its minimum within the first few epochs and then rise while the training cross-entropy keeps falling:
16 units on 10,000 inputs are enough to memorize 25,000 reviews by their rare words.
"""

from looptrain.data.reviews import NUM_WORDS, TUTORIAL_FIELDS
from looptrain.models.mlp import mlp

fields = TUTORIAL_FIELDS  # 25,000 reviews each way, batch 512, 20 epochs, plain Adam, probabilities


def build_model():
    return mlp([16, 16], n_inputs=NUM_WORDS, activation="relu", outputs="probabilities")
