"""Data augmentation from the detector's symmetries: each training row turned into another equally
valid event, inside the graph, only in training.

Three changes of every event give another the collider makes just as often: a rotation of every φ
by one common angle (drawn over the whole circle), a reflection of every φ (φ → −φ), and a flip of
the sign of every η. The transverse momenta, the missing energy's size, the b-tags and the seven
masses do not change and pass through bit for bit; the missing energy's φ turns and mirrors with the
rest, and it has no η to flip. Each row draws its own angle, and its reflection and flip each with
probability ½, from the layer's `SeedGenerator`, a model variable a checkpoint holds, so a resumed
run draws what the uninterrupted one would have. With `training=False` the layer is the identity.
Not here: a boost along the beam, no symmetry (docs/experiments.md says why, and why the three are).
"""

import keras
import numpy as np
import tensorflow as tf

from looptrain.data.columns import COLUMNS, PHI_MAX

FEATURES = COLUMNS[1:]  # the label is column 0 of the file, not a feature
IS_PHI = np.array([name.endswith("_phi") for name in FEATURES])  # lepton, missing energy, four jets
IS_ETA = np.array([name.endswith("_eta") for name in FEATURES])  # lepton and four jets


class RandomSymmetry(keras.layers.Layer):
    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        # One random 32-bit word a row decides its symmetry: the top 24 bits (as many as a float32
        # holds) the angle, bit 0 the reflection, bit 1 the flip. Random integers, not floats: XLA
        # turns random bits into floats otherwise than TensorFlow does, and a run with `jit_compile`
        # would draw other symmetries than one without.
        words = tf.random.stateless_uniform([tf.shape(inputs)[0], 1], seed=self.seed_generator.next(),
                                            minval=None, maxval=None, dtype=tf.uint32, alg="philox")
        fraction = tf.cast(tf.bitwise.right_shift(words, 8), inputs.dtype) * 2 ** -24  # uniform on [0, 1)
        angle = (2 * fraction - 1) * PHI_MAX  # uniform on [-PHI_MAX, PHI_MAX): the whole circle
        return transform(inputs, angle, reflect=tf.bitwise.bitwise_and(words, 1) == 1,
                         flip=tf.bitwise.bitwise_and(words, 2) == 2)


def transform(features: tf.Tensor, angle: tf.Tensor, reflect: tf.Tensor, flip: tf.Tensor) -> tf.Tensor:
    """Each row of `features` (rows, 28) reflected where `reflect`, then rotated by `angle`, its η
    negated where `flip`; `angle`, `reflect` and `flip` have one value a row, (rows, 1). Every other
    column is selected, not computed: it passes through bit for bit."""
    mirrored = tf.where(tf.logical_and(IS_PHI, reflect), -features, features)
    flipped = tf.where(tf.logical_and(IS_ETA, flip), -mirrored, mirrored)
    return tf.where(IS_PHI, wrap(flipped + angle), flipped)


def wrap(phi: tf.Tensor) -> tf.Tensor:
    """Angles back onto [-PHI_MAX, PHI_MAX): one whole turn (2·PHI_MAX) taken from an angle at or above
    PHI_MAX, or added to one below -PHI_MAX. One turn is enough here: an angle of the data plus a
    rotation is less than a turn out. Both are exact in floating point (the difference of two numbers
    within a factor of two of each other is), so PHI_MAX becomes -PHI_MAX and two half-turns zero."""
    turn = 2 * PHI_MAX
    return tf.where(phi >= PHI_MAX, phi - turn, tf.where(phi < -PHI_MAX, phi + turn, phi))
