"""Batchnorm: the Large model with batch normalization in each hidden layer, between the weighted sum and the ELU.

    python -m looptrain.run experiments/batchnorm.py

The training flag's second face. Dropout's flag only switches noise on and off; batch normalization's
chooses which statistics a layer normalizes with, and whether the layer updates them. In training
(`training=True`) each hidden layer's weighted sums are normalized with the batch's own mean and
variance, then scaled and shifted by the learned gamma and beta, and the layer moves its moving mean
and variance a hundredth of the way towards the batch's (Keras's momentum, 0.99: an average over the
last hundred or so steps, some five epochs). In validation (`training=False`) it normalizes with those
moving averages and changes nothing, so a row's output no longer depends on the rows beside it. The
moving statistics are weights that no gradient moves: non-trainable variables, which the best-weights
copy, the checkpoints and `best.weights.h5` carry with the rest: 4,096 of the model's 809,473
parameters, two for each of the 2,048 hidden units.

Where: between the Dense layer's weighted sum and the ELU, as Ioffe and Szegedy placed it, so that
what the activation sees keeps a steady distribution however the layers below move. The Dense layers
then have no bias: the normalization subtracts the mean, a bias with it, so a bias there would do
nothing (its gradient is round-off), and beta takes its place. Normalizing after the ELU instead did
worse than this, and no better than Large, in a single run on the real rows.

What five seeds showed (docs/results.md): the training cross-entropy falls faster than Large's and
the best epoch comes earlier, then overfitting as severe; the best validation cross-entropy is no
better than Large's on the real rows and likely worse on the synthetic ones. Batch normalization
speeds the fitting, memorizing included, and the statistics of 500 rows a batch are too steady to be
much of a regularizer.

With `--distribute`, every replica normalizes with the global batch's statistics (`synchronized=True`),
so that the replicas train as one device does; with each replica's own, the replicas would train
another model, and their copies of the moving statistics would drift apart.
"""

from looptrain.models.mlp import mlp


def build_model(units=512, depth=4):
    return mlp([units] * depth, batch_normalization=True)
