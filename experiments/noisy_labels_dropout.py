"""Noisy labels with dropout: the Dropout model with 20% of its training labels flipped.

    python -m looptrain.run experiments/noisy_labels_dropout.py --sweep seed=0,1,2,3,4

Beside `noisy_labels.py`, the same rows and the same flipped labels (the seed draws them), with
Dropout(0.5) after every hidden layer. Arpit et al. (2017) found that dropout slows the memorizing of
noise far more than the learning of the pattern. Expect the flipped rows' accuracy
(`flipped_accuracy`, against the labels they were given) to pass 50% many more epochs later than
without dropout, if within the run at all, and a best validation cross-entropy below Noisy labels'.
"""

from looptrain.models.mlp import mlp

# XLA, for the reason combined.py gives: it fuses the dropout masks into the layers.
fields = {"label_noise": 0.2, "jit_compile": True}


def build_model(units=512, depth=4):
    return mlp([units] * depth, dropout_rate=0.5)
