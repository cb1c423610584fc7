"""The weights file made in memory is the one Keras writes: `load_weights` reads it back to every bit."""

import keras
import numpy as np
import pytest

from looptrain.errors import WriteFailed
from looptrain.models.mlp import mlp
from looptrain.runfolder.history import read_weights
from looptrain.runfolder.weights_file import write_weights


def test_keras_reads_back_every_weight_and_so_does_read_weights(tmp_path):
    keras.utils.set_random_seed(0)
    model = mlp([16, 16], keras.regularizers.l2(0.001), 0.5)
    write_weights(tmp_path / "best.weights.h5", model)
    model.save_weights(tmp_path / "by_keras.weights.h5")

    again = mlp([16, 16], keras.regularizers.l2(0.001), 0.5)
    again.load_weights(tmp_path / "best.weights.h5")
    for ours, theirs in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    ours, theirs = read_weights(tmp_path / "best.weights.h5"), read_weights(tmp_path / "by_keras.weights.h5")
    assert ours.keys() == theirs.keys() and len(ours) == 6
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_a_refused_write_leaves_nothing_half_written(tmp_path):
    model = mlp([4])
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(WriteFailed, match="Not a directory"):
        write_weights(tmp_path / "taken" / "best.weights.h5", model)
    assert [path.name for path in tmp_path.iterdir()] == ["taken"]
