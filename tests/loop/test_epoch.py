"""The whole-epoch graph's shuffling: every epoch a fresh, uniformly random order of all the rows."""

import numpy as np
import tensorflow as tf

from looptrain.loop.epoch import epoch_order


def test_each_epoch_is_a_fresh_permutation_of_all_rows_and_the_seed_fixes_the_sequence():
    shuffling = tf.random.Generator.from_seed(0)
    orders = [epoch_order(shuffling, 1000).numpy() for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(1000))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    again = tf.random.Generator.from_seed(0)
    np.testing.assert_array_equal(epoch_order(again, 1000).numpy(), orders[0])


def test_every_row_is_equally_likely_in_every_place():
    """What `shuffle(N_TRAIN)` gives: a uniform permutation. Over 3,000 orders of 4 rows, each row lands
    in each place about 750 times; a chi-square test with 9 degrees of freedom (p = 0.001: 27.9)."""
    shuffling = tf.random.Generator.from_seed(1)
    draw = tf.function(lambda: epoch_order(shuffling, 4))  # as the epoch's graph calls it
    counts = np.zeros((4, 4))
    for _ in range(3000):
        counts[np.arange(4), draw().numpy()] += 1
    expected = 3000 / 4
    assert ((counts - expected) ** 2 / expected).sum() < 27.9
