"""L2: the IMDB baseline with an L2 penalty of 0.001·Σw² on both hidden kernels.

    python -m looptrain.run experiments/imdb/l2.py [--data imdb]

The penalty is the `regularization_loss` the train step adds to the data loss. Expect a validation
cross-entropy that rises much less after its minimum than Baseline's, and ends lower.
"""

import keras

from looptrain.data.reviews import NUM_WORDS, TUTORIAL_FIELDS
from looptrain.models.mlp import mlp

fields = TUTORIAL_FIELDS  # 25,000 reviews each way, batch 512, 20 epochs, plain Adam, probabilities


def build_model():
    return mlp([16, 16], regularizer=keras.regularizers.l2(0.001), n_inputs=NUM_WORDS, activation="relu",
               outputs="probabilities")
