"""Numbers across a sweep: means, sample standard deviations and mean curves worked out by hand from
fabricated histories, and a field sweep's points read back from fabricated run folders."""

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from looptrain.config import Config
from looptrain.results.aggregate import field_points, mean_curve, seed_row, spread
from looptrain.runfolder.history import summarize, write_history
from looptrain.runfolder.sweep import Sweep, point_folder, read_sweep, write_record


def written_sweep(folder: Path, name: str, field: str, values: list, done: list | None = None) -> list[Path]:
    """Write the sweep.json of `name` swept over `field` (`done`: the values finished, all by default)
    and return the point folders of the done values, for the caller to fill with runs."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep = Sweep(field, tuple(values))
    experiment = SimpleNamespace(name=name, path=Path(f"experiments/{name.lower()}.py"), config=Config())
    done = values if done is None else done
    write_record(folder, experiment, sweep, done)
    return [point_folder(folder, sweep, value) for value in done]


def epochs_of(val_losses, train_losses):
    """Epochs as the loop produces them, with the columns `summarize` reads set by hand."""
    return [{"val_binary_crossentropy": val, "binary_crossentropy": train, "seconds": 2.0 * (epoch + 1)}
            for epoch, (val, train) in enumerate(zip(val_losses, train_losses))]


def history_only_run(folder: Path, name: str, val_losses, train_losses):
    """A finished run folder without weights: pictures and a field sweep's points need only the history."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": name, "fields": {"min_delta": 0.0}}))
    epochs = [dict(epoch, loss=epoch["binary_crossentropy"], regularization_loss=0.0, accuracy=0.6, val_accuracy=0.6,
                   val_auc=0.65, learning_rate=1e-3) for epoch in epochs_of(val_losses, train_losses)]
    write_history(folder / "history.csv", epochs)


def test_the_mean_and_sample_standard_deviation_by_hand():
    # Mean (0.60 + 0.62 + 0.67) / 3 = 0.63; deviations -0.03, -0.01, 0.04; squares 0.0009 + 0.0001 +
    # 0.0016 = 0.0026; divided by n - 1 = 2: 0.0013; sd = sqrt(0.0013).
    got = spread([0.60, 0.62, 0.67])
    assert (got.mean, got.sd, got.n) == (pytest.approx(0.63), pytest.approx(math.sqrt(0.0013)), 3)
    assert got.sd != pytest.approx(math.sqrt(0.0026 / 3))  # not the population sd, which divides by n
    assert f"{got:.4f}" == "0.6300 ± 0.0361"


def test_one_value_has_no_spread_and_says_so():
    got = spread([0.66])
    assert (got.mean, got.sd, got.n) == (0.66, None, 1)
    assert f"{got:.4f}" == "0.6600 ± –"


def test_a_seed_sweeps_row_by_hand():
    # Three seeds of one experiment, stopped by early stopping after 3, 2 and 4 epochs.
    histories = [([0.70, 0.64, 0.66], [0.69, 0.60, 0.55], 1),  # best 0.64 at epoch 1; gap 0.66 - 0.55 = 0.11
                 ([0.68, 0.62], [0.67, 0.61], 1),  # best 0.62 at epoch 1; gap 0.62 - 0.61 = 0.01
                 ([0.69, 0.65, 0.63, 0.67], [0.68, 0.62, 0.58, 0.52], 2)]  # best 0.63 at 2; gap 0.67 - 0.52 = 0.15
    rows = [dict(summarize("Tiny", epochs_of(val, train), best), parameters=481, squared_weights=w)
            for (val, train, best), w in zip(histories, [10.0, 12.0, 14.0])]
    row = seed_row("Tiny (3 seeds)", rows)

    assert row["name"] == "Tiny (3 seeds)"
    assert row["parameters"] == 481  # the same model every seed: one number, no spread
    # best val: mean (0.64 + 0.62 + 0.63) / 3 = 0.63; deviations 0.01, -0.01, 0; sd sqrt(0.0002 / 2) = 0.01.
    assert (row["best_val"].mean, row["best_val"].sd) == (pytest.approx(0.63), pytest.approx(0.01))
    # gap: mean (0.11 + 0.01 + 0.15) / 3 = 0.09; deviations 0.02, -0.08, 0.06; squares 0.0004 + 0.0064 +
    # 0.0036 = 0.0104; sd sqrt(0.0104 / 2) = sqrt(0.0052).
    assert (row["gap"].mean, row["gap"].sd) == (pytest.approx(0.09), pytest.approx(math.sqrt(0.0052)))
    # epochs 3, 2, 4: mean 3, sd sqrt((0 + 1 + 1) / 2) = 1.
    assert (row["epochs"].mean, row["epochs"].sd, row["epochs"].n) == (3, 1, 3)
    # best epoch 1, 1, 2: mean 4/3; deviations -1/3, -1/3, 2/3; squares 6/9; sd sqrt(6/9 / 2) = sqrt(1/3).
    assert (row["best_epoch"].mean, row["best_epoch"].sd) == (pytest.approx(4 / 3), pytest.approx(math.sqrt(1 / 3)))
    # squared weights 10, 12, 14: mean 12, sd sqrt((4 + 0 + 4) / 2) = 2; seconds 6, 4, 8 (2 s an epoch): mean 6, sd 2.
    assert (row["squared_weights"].mean, row["squared_weights"].sd) == (12, 2)
    assert (row["seconds"].mean, row["seconds"].sd) == (6, 2)
    assert f"{row['epochs']}" == "3.0 ± 1.0"  # a count's mean gets one decimal


def test_the_mean_curve_of_runs_of_unequal_lengths_by_hand():
    runs = [[0.9, 0.7, 0.6, 0.5],  # the longest: its last epoch has no other run beside it
            [0.8, 0.6],  # stopped after two epochs
            [1.0, 0.8, 0.7]]
    curve = mean_curve(runs)
    # Epoch 0: 0.9, 0.8, 1.0 → mean 0.9, deviations 0, -0.1, 0.1, sd sqrt(0.02 / 2) = 0.1.
    # Epoch 1: 0.7, 0.6, 0.8 → mean 0.7, sd 0.1 likewise.
    # Epoch 2: the second run has stopped; 0.6, 0.7 → mean 0.65, deviations ∓0.05, sd sqrt(0.005 / 1).
    # Epoch 3: one run left, no spread: the curve stops.
    np.testing.assert_allclose(curve.mean, [0.9, 0.7, 0.65])
    np.testing.assert_allclose(curve.sd, [0.1, 0.1, math.sqrt(0.005)])
    np.testing.assert_array_equal(curve.n, [3, 3, 2])
    np.testing.assert_array_equal(curve.epochs, [0, 1, 2])


def test_a_single_run_is_its_own_curve_without_spread():
    curve = mean_curve([[0.7, 0.6, 0.65]])
    np.testing.assert_allclose(curve.mean, [0.7, 0.6, 0.65])
    assert np.isnan(curve.sd).all() and list(curve.n) == [1, 1, 1]


def test_a_field_sweeps_points_from_its_run_folders_by_hand(tmp_path):
    histories = {1000: ([0.70, 0.66, 0.69, 0.75], [0.69, 0.60, 0.50, 0.40]),  # best 0.66; gap 0.75 - 0.40 = 0.35
                 10000: ([0.69, 0.64, 0.62, 0.63], [0.68, 0.62, 0.58, 0.55]),  # best 0.62; gap 0.63 - 0.55 = 0.08
                 100000: ([0.68, 0.61, 0.59, 0.58], [0.68, 0.61, 0.59, 0.57])}  # best 0.58; gap 0.01
    # Three values asked for, two done: a point still to run is not a point yet.
    folders = written_sweep(tmp_path / "medium", "Medium", "n_train", list(histories), done=[1000, 100000])
    for folder, value in zip(folders, [1000, 100000]):
        history_only_run(folder, "Medium", *histories[value])

    points = field_points(read_sweep(tmp_path / "medium"))
    assert (points.name, points.field, points.values) == ("Medium", "n_train", [1000, 100000])
    np.testing.assert_allclose(points.best_val, [0.66, 0.58])
    np.testing.assert_allclose(points.gap, [0.35, 0.01])
