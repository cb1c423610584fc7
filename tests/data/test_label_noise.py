"""Label noise: exactly that fraction of the training labels flipped, the rows drawn by the seed, the
validation and test labels untouched; and the history's clean and flipped columns, worked out again
with numpy from the run's final weights on those rows, also where there is less than a batch of them."""

import keras
import numpy as np
import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.config import Config
from looptrain.data import higgs
from looptrain.data.label_noise import with_label_noise
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.runfolder.history import PART_COLUMNS, read_history
from looptrain.train import train


@pytest.fixture
def rows_file(tmp_path):
    return write_rows(tmp_path / "rows.csv.gz", made_up_rows(1_000))


@pytest.mark.parametrize("fraction, flipped", [(0.2, 140), (0.5, 350), (0.001, 1), (1.0, 700)])
def test_that_fraction_of_the_training_labels_is_flipped_and_no_other_label(rows_file, fraction, flipped):
    config = Config(n_validation=100, n_train=700, batch_size=100, n_test=200)
    data = higgs.load(rows_file, config)
    noisy = with_label_noise(data, fraction, seed=3)
    labels, given = data.train_labels.numpy()[:, 0], noisy.train_labels.numpy()[:, 0]
    changed = np.flatnonzero(labels != given)
    assert len(changed) == flipped  # round(fraction × 700) rows
    np.testing.assert_array_equal(given[changed], 1 - labels[changed])  # flipped, 0 ↔ 1
    np.testing.assert_array_equal(noisy.train_features, data.train_features)
    for part in ("validation", "test"):
        np.testing.assert_array_equal(getattr(noisy, f"{part}_labels"), getattr(data, f"{part}_labels"))
    # The parts say which rows are which; a part with no rows is left out.
    expected = {"clean": np.setdiff1d(np.arange(700), changed), "flipped": changed}
    assert {part: rows.numpy().tolist() for part, rows in noisy.label_parts.items()} == {
        part: rows.tolist() for part, rows in expected.items() if len(rows)}


def test_the_seed_draws_the_rows(rows_file):
    config = Config(n_validation=100, n_train=700, batch_size=100, n_test=0)
    data = higgs.load(rows_file, config)

    def flipped(seed):
        return with_label_noise(data, 0.3, seed).label_parts["flipped"].numpy().tolist()

    assert flipped(5) == flipped(5)
    assert flipped(5) != flipped(6)
    assert with_label_noise(data, 0.0, 5) is data  # no noise: the data as it was, and no parts


# 650 training rows, 130 flipped: one full batch of 100 and a short one, which both epoch loops must
# measure. 400, 80 flipped, and 60 validation rows: no full batch of either, which XLA must compile.
@pytest.mark.parametrize("loop, jit_compile, n_train, n_validation", [
    ("epoch", False, 650, 100), ("step", False, 650, 100), ("epoch", True, 400, 60)])
def test_the_clean_and_flipped_columns_are_the_final_weights_on_those_rows(tmp_path, rows_file, loop, jit_compile,
                                                                           n_train, n_validation):
    fields = {"n_validation": n_validation, "n_train": n_train, "batch_size": 100, "n_test": 0, "max_epochs": 3,
              "label_noise": 0.2, "seed": 4, "loop": loop, "jit_compile": jit_compile, "histogram_every": 0}
    experiment = load_experiment(REPO / "experiments" / "small.py", fields)
    train(experiment, rows_file, tmp_path / "run", DotsReporter())
    history = read_history(tmp_path / "run" / "history.csv")
    assert list(history)[-4:] == PART_COLUMNS

    # Independently of looptrain: the rows numpy's generator draws, flipped by hand, and numpy's own
    # cross-entropy and accuracy of the final weights' logits against the labels the rows were given.
    data = higgs.load(rows_file, experiment.config)  # the rows as read, before any label is flipped
    flipped = np.random.default_rng(4).choice(n_train, size=n_train // 5, replace=False)
    given = data.train_labels.numpy()[:, 0].astype(np.float64)
    given[flipped] = 1 - given[flipped]
    model = experiment.build_model()
    model.load_weights(tmp_path / "run" / "final.weights.h5")
    logits = model(data.train_features, training=False).numpy()[:, 0].astype(np.float64)
    for part, chosen in (("clean", np.setdiff1d(np.arange(n_train), flipped)), ("flipped", flipped)):
        z, y = logits[chosen], given[chosen]
        cross_entropy = np.mean(np.logaddexp(0, z) - y * z)
        accuracy = np.mean((z > 0) == y)
        assert history[f"{part}_binary_crossentropy"][-1] == pytest.approx(cross_entropy, rel=1e-4)
        assert history[f"{part}_accuracy"][-1] == pytest.approx(accuracy, abs=1e-6)
    # And the validation rows, the same weights after the last epoch's train steps.
    z = model(data.validation_features, training=False).numpy()[:, 0].astype(np.float64)
    y = data.validation_labels.numpy()[:, 0]
    assert history["val_binary_crossentropy"][-1] == pytest.approx(np.mean(np.logaddexp(0, z) - y * z), rel=1e-4)
    # Keras agrees on the flipped rows too, as a second reference for the cross-entropy.
    keras_bce = keras.losses.BinaryCrossentropy(from_logits=True)(given[flipped, None], logits[flipped, None])
    assert history["flipped_binary_crossentropy"][-1] == pytest.approx(float(keras_bce), rel=1e-4)


def test_without_label_noise_the_history_has_no_part_columns(tmp_path, rows_file):
    fields = {"n_validation": 100, "n_train": 400, "batch_size": 100, "n_test": 0, "max_epochs": 1,
              "histogram_every": 0}
    train(load_experiment(REPO / "experiments" / "tiny.py", fields), rows_file, tmp_path / "run", DotsReporter())
    assert not set(PART_COLUMNS) & set(read_history(tmp_path / "run" / "history.csv"))
