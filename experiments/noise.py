"""Noise: the Large model trained on rows with Gaussian noise (standard deviation 0.1) added to every feature.

    python -m looptrain.run experiments/noise.py

The generic augmentation, beside Symmetries' physical one. Keras's `GaussianNoise` adds fresh noise
to every input of every row in training (`training=True`) and passes the rows unchanged otherwise:
each epoch sees every row slightly moved, but in no direction the physics says is harmless. The
b-tags' three levels and the masses' narrow peaks are blurred alike, and a row is still recognizable
under noise this small, so a large network can still learn it by heart. What five seeds showed
(docs/results.md): no gain, a best validation cross-entropy within the spread of Large's on both
data sets and overfitting as severe, far from Symmetries': it is the symmetries' knowledge, not
noise as such, that helps. More noise, 0.3, did worse than Large in a single run on the real rows:
it hides what the features tell.
"""

import keras

from looptrain.models.mlp import mlp


def build_model(units=512, depth=4):
    return mlp([units] * depth, augmentation=keras.layers.GaussianNoise(0.1))
