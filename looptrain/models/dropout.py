"""Dropout that draws as few random bits as its rate needs: Keras's `Dropout`, made cheap on a CPU.

What it does is what `keras.layers.Dropout(rate)` does: in training (`training=True`) each unit is
zeroed with probability `rate` and the others are scaled by 1 / (1 - rate); otherwise the input
passes unchanged. The masks come from the layer's own `keras.random.SeedGenerator`, a variable a
checkpoint holds. What differs is the draw: Keras draws a 32-bit float a unit, where keep or drop
needs one bit at rate 0.5. Here a unit gets a number of the fewest bits (1, 2, 4, 8 or 16) that
express the rate exactly, one 32-bit word shared by 32 / bits units, and is kept if its number is at
least rate × 2^bits (0.3 takes 16 bits, rounded to 0.300003). docs/performance.md says what that
saves. What is not here: `noise_shape`, which the tutorial never uses.
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
