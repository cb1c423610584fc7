"""Noisy labels: the Large model with 20% of its training labels flipped.

    python -m looptrain.run experiments/noisy_labels.py --sweep seed=0,1,2,3,4

Arpit et al. (2017): networks learn the pattern the clean rows share before they memorize the noise.
The history measures the clean and the flipped training rows apart, each against the labels it was
given (`clean_accuracy`, `flipped_accuracy`). Expect the flipped rows' accuracy to stay below 50%
early on (the network predicts the true label, which for them is the wrong one) while the validation
cross-entropy falls; at the best validation epoch the flipped rows are still mostly unlearned; then
the network memorizes them, their accuracy climbs past 50% towards 100%, and the validation
cross-entropy climbs with it. Compare `noisy_labels_dropout.py`.
"""

from looptrain.models.mlp import mlp

fields = {"label_noise": 0.2}


def build_model(units=512, depth=4):
    return mlp([units] * depth)
