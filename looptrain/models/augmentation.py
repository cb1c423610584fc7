"""Data augmentation from the detector's symmetries: each training row turned into another equally
valid event, inside the graph, only in training.

HIGGS's low-level features place the lepton, the missing energy and four jets in the detector: each
has a transverse momentum, an azimuthal angle φ around the beam (scaled in HIGGS from ±π to
±`columns.PHI_MAX`) and, but for the missing energy, a pseudorapidity η along it. Three changes
of every event give another event the collider makes just as often, to good approximation:
- a rotation of every φ by one common angle: the beams and the detector are the same all around the
  beam axis, so no direction across it is special. The angle is drawn uniformly over the whole
  circle, and all the objects turn together: the angles between them, the physics, stay.
- a reflection of every φ (φ → −φ): a mirror through a plane that holds the beam axis. The
  detector is built alike on both sides of it, and a mirrored collision is as likely as the
  original; the weak decays' preference for one handedness shows only in the particles' spins,
  which HIGGS does not record.
- a flip of the sign of every η: the two beams are protons of equal energy, so forward and backward
  along the beam are alike.
Under all three the transverse momenta, the missing energy's size, the b-tags and the seven
high-level masses (invariant masses of sums of momenta) do not change, and here they pass through
bit for bit. One caveat: the missing energy is no particle seen but the imbalance of the transverse
momenta of those seen, so its φ is the others' consequence. Turning or mirroring all of them turns
or mirrors their imbalance the same way, so it takes the same rotation and reflection as the rest;
it has no η (its component along the beam is unknown), so the flip leaves it alone.

Each row draws its own rotation angle, reflection (probability ½) and flip (probability ½), from the
layer's `keras.random.SeedGenerator`: a model variable, so a checkpoint holds it and a resumed run
draws what the uninterrupted one would have (as `looptrain.models.dropout`'s masks). With `training=False`
the layer is the identity. What is not here: a shift of every η (a boost along the beam), which is
no symmetry: the detector covers only a band of η, and a boost would carry objects out of it.
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
