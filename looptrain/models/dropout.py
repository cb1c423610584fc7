"""Dropout that draws as few random bits as its rate needs: Keras's `Dropout`, made cheap on a CPU.

What it does is what `keras.layers.Dropout(rate)` does: in training (`training=True`) each unit is
zeroed with probability `rate` and the others are scaled by 1 / (1 - rate), so that the expected
output is the input; otherwise the input passes unchanged. The masks come from the layer's own
`keras.random.SeedGenerator`, a variable a checkpoint holds, as Keras's layer does.

What differs is how a unit's fate is drawn. Keras draws a 32-bit random float for every unit and
keeps the unit if it is at least `rate`: a million floats a step for four 512-unit layers of 500
rows, a good part of Combined's training step on a CPU, and more of it compiled by XLA (the docs'
performance page has the numbers). But a unit only needs keep or drop, and for rate 0.5 one random
bit says that: one 32-bit word from the generator decides 32 units. In general a `bits`-bit number per unit,
kept if it is at least rate × 2^bits, with the fewest bits (1, 2, 4, 8 or 16) that express the rate
exactly: 0.5 takes 1 bit, 0.25 takes 2, 0.3 takes 16 and is rounded to the nearest multiple of
1/65,536 (0.300003), far below anything a batch could show.
What is not here: `noise_shape`, which the tutorial never uses.
"""

import keras
import numpy as np
import tensorflow as tf

BIT_COUNTS = (1, 2, 4, 8, 16)  # numbers of bits that share a 32-bit word evenly


class Dropout(keras.layers.Layer):
    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"a dropout rate must be at least 0 and below 1, got {rate}")
        self.bits = next((bits for bits in BIT_COUNTS if (rate * 2 ** bits).is_integer()), BIT_COUNTS[-1])
        self.threshold = round(rate * 2 ** self.bits)  # a unit is dropped if its number is below this
        self.rate = self.threshold / 2 ** self.bits  # the rate as drawn: exact, or rounded to 16 bits
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        units = tf.size(inputs)
        per_word = 32 // self.bits
        words = tf.random.stateless_uniform([(units + per_word - 1) // per_word], seed=self.seed_generator.next(),
                                            minval=None, maxval=None, dtype=tf.uint32, alg="philox")
        # Each word holds per_word numbers of `bits` bits. Comparing a number in its place in the word,
        # masked out and against the threshold shifted to the same place, spares shifting it down.
        shifts = np.arange(0, 32, self.bits, dtype=np.uint32)
        places = tf.constant((2 ** self.bits - 1) << shifts)
        thresholds = tf.constant(np.uint32(self.threshold) << shifts)
        keep = tf.bitwise.bitwise_and(words[:, None], places) >= thresholds  # [words, per_word]
        keep = tf.reshape(tf.reshape(keep, [-1])[:units], tf.shape(inputs))  # one per unit
        return inputs * tf.where(keep, tf.constant(1 / (1 - self.rate), inputs.dtype), tf.zeros([], inputs.dtype))
