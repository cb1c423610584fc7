"""Memorization: the Large model trained on random labels, half the training labels flipped.

    python -m looptrain.run experiments/memorization.py --sweep seed=0,1,2,3,4

With `label_noise=0.5` a training row's label is a coin toss: there is no pattern left to learn, only
10,000 rows to learn by heart. Zhang et al. (2017) showed that networks do it anyway. Expect the
training cross-entropy to fall towards zero, below 0.05 within the run, while the validation
accuracy stays at chance (within a few points of the larger class's share of the validation rows)
and the validation cross-entropy climbs far above a coin toss's 0.693: the network is sure, and
wrong half the time. The history's `clean_accuracy` and `flipped_accuracy` (each against the labels
the rows were given) both rise to 1. No early stopping: the patience is the whole run, so that it
ends memorized rather than at its least wrong epoch (which here means nothing).
"""

from looptrain.models.mlp import mlp

# Half the labels flipped at random; no early stopping (patience = max_epochs), and a run long enough
# for Large to learn 10,000 random labels by heart: about a hundred epochs take its training
# cross-entropy below 0.05 (docs/results.md, "The lab"), twice that leaves no doubt.
fields = {"label_noise": 0.5, "max_epochs": 200, "patience": 200}


def build_model(units=512, depth=4):
    return mlp([units] * depth)
