"""The pictures: tensorflow_docs' smoothing and the schedule checked by hand, stable colours, pictures on
disk from finished runs, and bad input refused in one line."""

import math
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import REPO, assert_one_line_error
from looptrain.config import Config
from looptrain.models import mlp
from looptrain.plot import colours, main, plot_histories, schedule_curve, smooth
from test_report import finished_run

PNG = b"\x89PNG\r\n\x1a\n"


def test_smoothing_a_short_series_by_hand():
    # std=1 reaches 4 points each side, so every point sees all three; weights exp(-(d/5)^2).
    k1, k2 = math.exp(-((1 / 5) ** 2)), math.exp(-((2 / 5) ** 2))
    expected = [(1 + 2 * k1 + 4 * k2) / (1 + k1 + k2),
                (1 * k1 + 2 + 4 * k1) / (k1 + 1 + k1),
                (1 * k2 + 2 * k1 + 4) / (k2 + k1 + 1)]
    np.testing.assert_allclose(smooth([1.0, 2.0, 4.0], std=1), expected, rtol=1e-12)


def test_smoothing_equals_tensorflow_docs_on_a_long_series():
    values = np.random.default_rng(0).normal(size=300)
    x = np.linspace(-40, 40, 81)  # tensorflow_docs' kernel for smoothing_std=10
    kernel = np.exp(-((x / 5) ** 2))
    reference = np.convolve(values, kernel, mode="same") / np.convolve(np.ones(300), kernel, mode="same")
    np.testing.assert_allclose(smooth(values, std=10), reference, rtol=1e-12)


def test_a_constant_series_stays_constant_to_the_edges():
    np.testing.assert_allclose(smooth(np.full(50, 0.6), std=10), 0.6)


def history(values):
    return {"epoch": list(range(len(values))), "binary_crossentropy": values,
            "val_binary_crossentropy": [v + 0.02 for v in values]}


@pytest.mark.parametrize("log_x", [False, True])
def test_the_picture_is_written(tmp_path, log_x):
    path = tmp_path / "curves.png"
    plot_histories({"Tiny": history([0.69, 0.65, 0.63]), "Large": history([0.68, 0.5, 0.3, 0.2])}, path,
                   log_x=log_x)
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000


def test_each_experiment_keeps_its_colour_in_every_picture():
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    sizes = colours(["Tiny", "Small", "Medium", "Large"])
    regularizers = colours(["Large", "L2", "Dropout", "Combined"])
    assert sizes["Large"] == regularizers["Large"] == cycle[3]
    assert regularizers["Combined"] == cycle[6]
    assert colours(["Mine", "Tiny"]) == {"Mine": cycle[7], "Tiny": cycle[0]}  # others come after the seven


def test_the_schedule_is_the_tutorials_inverse_time_decay_by_hand():
    # 10,000 rows in batches of 500: 20 steps an epoch, so the rate halves at epoch 1000, step 20,000.
    epochs, rates = schedule_curve(Config(learning_rate=1e-3, decay_epochs=1000, max_epochs=2000))
    np.testing.assert_allclose(epochs, np.linspace(0, 40_000).round() / 20)
    np.testing.assert_allclose(rates, 1e-3 / (1 + epochs / 1000), rtol=1e-6)
    assert (rates[0], rates[-1]) == (pytest.approx(1e-3), pytest.approx(1e-3 / 3))


def test_the_schedule_picture_of_an_experiment_is_written(tmp_path, capsys):
    assert main(["--schedule", str(REPO / "experiments" / "combined.py"), "--out", str(tmp_path / "lr.png")]) == 0
    assert (tmp_path / "lr.png").read_bytes()[:8] == PNG


def test_curves_and_weights_of_finished_runs_without_tensorflow(tmp_path):
    for name, losses in [("Large", [0.68, 0.62, 0.66, 0.7]), ("L2", [0.69, 0.64, 0.62, 0.61])]:
        finished_run(tmp_path / "runs" / name.lower(), name, losses, mlp([16, 16]))
    runs = [str(tmp_path / "runs" / "large"), str(tmp_path / "runs" / "l2")]
    code = ("import sys; from looptrain.plot import main; "
            f"print(main({runs!r} + ['--log-x', '--ylim', '0.6', '0.7']), main(['--weights'] + {runs!r}), "
            "'tensorflow' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "0 0 False"
    for picture in ("comparison.png", "weights.png"):  # beside the runs, by default
        assert (tmp_path / "runs" / picture).read_bytes()[:8] == PNG


@pytest.mark.parametrize("argv, message", [
    (["missing"], "run folder .*missing does not exist"),
    (["empty"], "empty has no config.json"),
    (["large", "--metric", "loss"], "invalid choice: 'loss'"),
    (["large", "--ylim", "0.7", "0.5"], "LOW < HIGH"),
    (["large", "--ylim", "0.5", "high"], "invalid float value: 'high'"),
    (["large", "--smoothing-std", "-1"], "must not be negative"),
    (["large", "--out", "curves.txt"], "looptrain writes .png, .svg or .pdf pictures, not .txt"),
    (["large", "large"], "more than one run of Large"),
    (["--weights", "empty"], "empty has no config.json"),
    (["--schedule", "experiments/combined.py", "large"], "give no run folders"),
    ([], "at least one RUN_DIR"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, argv, message):
    finished_run(tmp_path / "large", "Large", [0.68, 0.62], mlp([4]))
    (tmp_path / "empty").mkdir()
    argv = [str(tmp_path / arg) if arg in ("missing", "empty", "large") else arg for arg in argv]
    assert_one_line_error(main, argv, capsys, message)


def test_a_picture_that_is_not_looptrains_is_never_drawn_over_and_looptrains_own_is(tmp_path, capsys):
    finished_run(tmp_path / "large", "Large", [0.68, 0.62], mlp([4]))
    theirs = tmp_path / "figure.png"
    theirs.write_bytes(PNG + b"someone else's picture")
    assert_one_line_error(main, [str(tmp_path / "large"), "--out", str(theirs)], capsys,
                          f"{theirs} exists and looptrain did not write it: choose another --out")
    assert theirs.read_bytes() == PNG + b"someone else's picture"

    ours = tmp_path / "curves.svg"
    assert main([str(tmp_path / "large"), "--out", str(ours)]) == 0
    first = ours.read_bytes()
    assert main([str(tmp_path / "large"), "--out", str(ours), "--smoothing-std", "0"]) == 0  # its own: replaced
    assert ours.read_bytes() != first and sorted(path.name for path in tmp_path.iterdir()) == [
        "curves.svg", "figure.png", "large"]  # and no partial file beside it


def test_plotting_does_not_import_tensorflow():
    code = "import sys, looptrain.plot, looptrain.history; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
