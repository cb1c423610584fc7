"""The pictures: tensorflow_docs' smoothing checked by hand, stable colours, pictures on disk from
finished runs (the schedule's too), and bad input refused in one line."""

import math
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from conftest import REPO, assert_one_line_error
from looptrain.models.mlp import mlp
from looptrain.plot import main
from looptrain.results.curves import draw_folders, plot_histories, smooth
from looptrain.results.pictures import colours
from looptrain.results.reliability import plot_reliability
from looptrain.runfolder.ownership import carries_signature
from test_aggregate import history_only_run, written_sweep
from test_report import finished_run, scored_run

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
    assert colours(["Symmetries", "Noise"]) == {"Symmetries": cycle[8], "Noise": cycle[9]}  # the remedies after them
    # Other names take the colours the named ones leave free in that picture: never Tiny's beside Tiny.
    assert colours(["Mine", "Tiny", "Yours"]) == {"Mine": cycle[1], "Tiny": cycle[0], "Yours": cycle[2]}


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
    (["--reliability", "large"], "large has no test.json: the run had no test rows, or did not end"),
    (["--reliability", "--weights", "large"], "--weights and --reliability are two pictures"),
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


def test_the_reliability_diagram_draws_test_jsons_bins_without_tensorflow(tmp_path):
    finished_run(tmp_path / "runs" / "large", "Large", [0.68, 0.62, 0.66, 0.7], mlp([4]))
    record = scored_run(tmp_path / "runs" / "large")
    panels = plot_reliability({"Large": record}, tmp_path / "reliability.png")
    assert [panel.title for panel in panels] == ["Best weights (epoch 1), on 50,000 test rows",
                                                 "Final weights (epoch 3), on 50,000 test rows"]
    for panel, weights in zip(panels, ("best", "final")):
        numbers = record[weights]
        [raw] = [x_y for label, x_y in panel.lines.items() if label.startswith("Large: ")]
        [scaled] = [x_y for label, x_y in panel.lines.items() if label.startswith("Large at T = ")]
        for (x, y), bins in [(raw, numbers["reliability"]), (scaled, numbers["scaled_reliability"])]:
            np.testing.assert_array_equal(x, [0.1, 0.8])  # the empty middle bin has no point
            np.testing.assert_array_equal(y, [0.2, 0.6])
        assert f"ECE {numbers['ece']:.3f}" in [label for label in panel.lines if label.startswith("Large: ")][0]

    code = ("import sys; from looptrain.plot import main; "
            f"print(main(['--reliability', {str(tmp_path / 'runs' / 'large')!r}]), 'tensorflow' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "0 False"
    assert (tmp_path / "runs" / "reliability.png").read_bytes()[:8] == PNG  # beside the runs, by default
    sweep = written_sweep(tmp_path / "runs" / "tiny", "Tiny", "seed", [0])
    finished_run(sweep[0], "Tiny", [0.69, 0.66], mlp([4]))
    assert subprocess.run([sys.executable, "-m", "looptrain.plot", "--reliability", str(tmp_path / "runs" / "tiny")],
                          capture_output=True, text=True).stderr.startswith(
        f"looptrain: error: --reliability draws single runs, and {tmp_path / 'runs' / 'tiny'} is a sweep")


def test_plotting_does_not_import_tensorflow():
    code = ("import sys, looptrain.plot, looptrain.results.curves, looptrain.results.weights, "
            "looptrain.results.reliability; "
            "print('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def swept(folder, name, field, histories):
    """A sweep of `name` over `field` in `folder`, one point a value: `{value: (val_losses, train_losses)}`."""
    for point, (val, train) in zip(written_sweep(folder, name, field, list(histories)), histories.values()):
        history_only_run(point, name, val, train)
    return folder


def test_the_learning_curve_over_n_train_is_drawn_and_read_back(tmp_path):
    medium = swept(tmp_path / "runs" / "medium", "Medium", "n_train", {
        1000: ([0.70, 0.66, 0.69], [0.69, 0.60, 0.50]),  # best 0.66; gap 0.69 - 0.50 = 0.19
        10000: ([0.69, 0.63, 0.62], [0.68, 0.62, 0.58]),  # best 0.62; gap 0.62 - 0.58 = 0.04
        100000: ([0.68, 0.60, 0.59], [0.68, 0.60, 0.58])})  # best 0.59; gap 0.01
    large = swept(tmp_path / "runs" / "large", "Large", "n_train", {
        1000: ([0.70, 0.68, 0.75], [0.60, 0.40, 0.20]),  # best 0.68; gap 0.75 - 0.20 = 0.55
        10000: ([0.69, 0.61, 0.66], [0.65, 0.50, 0.40])})  # best 0.61; gap 0.26 (its 100,000 not run)
    path = tmp_path / "learning.png"

    best, gap = draw_folders([medium, large], path)
    assert path.read_bytes()[:8] == PNG and carries_signature(path)
    assert best.xscale == gap.xscale == "log"  # n_train is a size: without being asked
    assert best.xlabel == "n_train [Log Scale]"
    assert set(best.lines) == set(gap.lines) == {"Medium", "Large"}  # one line an experiment
    for panel, expected in [(best, {"Medium": [0.66, 0.62, 0.59], "Large": [0.68, 0.61]}),
                            (gap, {"Medium": [0.19, 0.04, 0.01], "Large": [0.55, 0.26]})]:
        for name, y in expected.items():
            x_drawn, y_drawn = panel.lines[name]
            assert list(x_drawn) == [1000, 10000, 100000][:len(y)]
            np.testing.assert_allclose(y_drawn, y)


def test_a_field_that_is_not_a_size_has_a_linear_axis_unless_asked(tmp_path):
    rates = swept(tmp_path / "medium", "Medium", "learning_rate", {0.0001: ([0.7, 0.68], [0.7, 0.67]),
                                                        0.001: ([0.7, 0.62], [0.69, 0.6])})
    (best, _) = draw_folders([rates], tmp_path / "a.png")
    assert best.xscale == "linear" and best.xlabel == "learning_rate"
    np.testing.assert_allclose(best.lines["Medium"][0], [0.0001, 0.001])
    assert draw_folders([rates], tmp_path / "b.png", log_x=True)[0].xscale == "log"


def test_a_true_or_false_field_is_drawn_as_categories(tmp_path):
    jit = swept(tmp_path / "tiny", "Tiny", "jit_compile",
                {False: ([0.7, 0.65], [0.7, 0.6]), True: ([0.7, 0.64], [0.7, 0.6])})
    (best, _) = draw_folders([jit], tmp_path / "jit.png")
    assert list(best.lines["Tiny"][0]) == ["false", "true"]  # as the points' folders spell them
    np.testing.assert_allclose(best.lines["Tiny"][1], [0.65, 0.64])

def test_a_seed_sweep_is_drawn_as_its_mean_among_runs(tmp_path):
    losses = {0: [0.69, 0.66, 0.64, 0.65], 1: [0.68, 0.63, 0.64], 2: [0.70, 0.65, 0.62, 0.61, 0.63]}
    tiny = swept(tmp_path / "runs" / "tiny", "Tiny", "seed",
                 {seed: (val, [v - 0.05 for v in val]) for seed, val in losses.items()})
    history_only_run(tmp_path / "runs" / "large", "Large", [0.68, 0.60, 0.62], [0.60, 0.50, 0.40])

    (panel,) = draw_folders([tiny, tmp_path / "runs" / "large"], tmp_path / "seeds.png", smoothing_std=0)
    assert "ddof=1" in panel.title
    # Epoch 0: (0.69 + 0.68 + 0.70) / 3 = 0.69; 1: (0.66 + 0.63 + 0.65) / 3 = 1.94 / 3; 2: (0.64 + 0.64 +
    # 0.62) / 3 = 1.90 / 3; 3: seed 1 has stopped, (0.65 + 0.61) / 2 = 0.63; 4: seed 2 alone, the curve stops.
    x, y = panel.lines["Tiny Val (mean of 3 seeds)"]
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    np.testing.assert_allclose(y, [0.69, 1.94 / 3, 1.90 / 3, 0.63])
    np.testing.assert_allclose(panel.lines["Tiny Train (mean of 3 seeds)"][1], np.array(y) - 0.05)
    np.testing.assert_allclose(panel.lines["Large Val"][1], [0.68, 0.60, 0.62])  # a run, as it is


def test_each_seed_is_smoothed_before_the_mean(tmp_path):
    losses = {0: [0.69, 0.66, 0.64, 0.65], 1: [0.68, 0.60, 0.64], 2: [0.70, 0.65, 0.62, 0.61, 0.63]}
    tiny = swept(tmp_path / "tiny", "Tiny", "seed", {seed: (val, val) for seed, val in losses.items()})
    (panel,) = draw_folders([tiny], tmp_path / "seeds.png", smoothing_std=1)
    smoothed = [smooth(val, std=1) for val in losses.values()]
    # Epoch by epoch, the mean of the smoothed seeds that reached it, up to epoch 3 where two remain.
    expected = [np.mean([run[epoch] for run in smoothed if len(run) > epoch]) for epoch in range(4)]
    drawn = panel.lines["Tiny Val (mean of 3 seeds)"][1]
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)
    raw_mean = [np.mean([val[epoch] for val in losses.values() if len(val) > epoch]) for epoch in range(4)]
    assert not np.allclose(drawn, smooth(raw_mean, std=1))  # the other order draws another curve


@pytest.mark.parametrize("argv, message", [
    (["medium", "large"], "medium is a sweep over n_train, drawn against n_train, and runs and sweeps over seeds "
                          "are drawn against the epoch: draw them in separate pictures"),
    (["tiny", "medium"], "medium is a sweep over n_train, .*: draw them in separate pictures"),
    (["medium", "rates"], "sweeps over n_train and learning_rate cannot share an axis"),
    (["medium", "--metric", "accuracy"], "--metric and --ylim are for curves against the epoch"),
    (["medium", "--ylim", "0.5", "0.7"], "--metric and --ylim are for curves against the epoch"),
    (["--weights", "large", "tiny"], "--weights draws single runs, and .*tiny is a sweep"),
    (["tiny", "tiny"], "more than one run of Tiny"),
])
def test_mixes_that_cannot_share_a_picture_are_refused_in_one_line(tmp_path, capsys, argv, message):
    swept(tmp_path / "tiny", "Tiny", "seed", {0: ([0.69, 0.66], [0.68, 0.6]), 1: ([0.68, 0.65], [0.67, 0.6])})
    swept(tmp_path / "medium", "Medium", "n_train",
          {1000: ([0.69, 0.66], [0.68, 0.6]), 2000: ([0.68, 0.64], [0.67, 0.6])})
    swept(tmp_path / "rates", "Small", "learning_rate", {0.001: ([0.69, 0.66], [0.68, 0.6])})
    finished_run(tmp_path / "large", "Large", [0.68, 0.62], mlp([4]))
    argv = [str(tmp_path / arg) if arg in ("tiny", "medium", "rates", "large") else arg for arg in argv]
    assert_one_line_error(main, argv, capsys, message)
    assert not (tmp_path / "comparison.png").exists() and not (tmp_path / "weights.png").exists()


def test_sweeps_are_drawn_without_tensorflow(tmp_path):
    runs = tmp_path / "runs"
    swept(runs / "tiny", "Tiny", "seed", {0: ([0.69, 0.66], [0.68, 0.6]), 1: ([0.68, 0.65], [0.67, 0.6])})
    swept(runs / "medium", "Medium", "n_train", {1000: ([0.69, 0.66], [0.68, 0.6]), 2000: ([0.68, 0.64], [0.67, 0.6])})
    history_only_run(runs / "large", "Large", [0.68, 0.60], [0.60, 0.50])
    seeds, field = [str(runs / "tiny"), str(runs / "large")], [str(runs / "medium")]
    code = ("import sys; from looptrain.plot import main; "
            f"print(main({seeds!r} + ['--out', {str(tmp_path / 'seeds.png')!r}]), "
            f"main({field!r} + ['--out', {str(tmp_path / 'field.png')!r}]), 'tensorflow' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "0 0 False"
    for picture in ("seeds.png", "field.png"):
        assert (tmp_path / picture).read_bytes()[:8] == PNG


def test_under_label_noise_the_clean_and_the_flipped_rows_are_drawn_too(tmp_path):
    noisy = {"binary_crossentropy": [0.6, 0.5], "val_binary_crossentropy": [0.62, 0.6],
             "clean_binary_crossentropy": [0.55, 0.4], "flipped_binary_crossentropy": [0.9, 1.1]}
    [panel] = plot_histories({"Noisy labels": noisy}, tmp_path / "curves.png", smoothing_std=0)
    assert panel.lines["Noisy labels Train, clean rows"][1].tolist() == [0.55, 0.4]
    assert panel.lines["Noisy labels Train, flipped rows"][1].tolist() == [0.9, 1.1]
    [plain] = plot_histories({"Large": {name: noisy[name] for name in list(noisy)[:2]}}, tmp_path / "plain.png",
                             smoothing_std=0)
    assert sorted(plain.lines) == ["Large Train", "Large Val"]  # no parts, no extra lines
