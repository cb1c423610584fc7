"""The bias-variance split: the identity on a worked example (numbers by hand) and on random members
(against probabilities, without logits), the grouping of run folders into seeds, and the command on
seed sweeps against the members' predictions made by Keras here."""

import json
import math

import numpy as np
import pytest

from conftest import REPO, assert_one_line_error, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.results.bias_variance import member_groups, split, varied_field


def logit(p):
    return math.log(p / (1 - p))


def test_the_split_of_a_worked_example():
    # One row of label 1, two members saying 0.8 and 0.5. The ensemble: the normalized geometric mean,
    # √(0.8·0.5) against √(0.2·0.5), that is 2/3 (the sigmoid of the mean logit, ½·ln 4 = ln 2).
    result = split([[logit(0.8)], [logit(0.5)]], [1])
    mean_member = (-math.log(0.8) - math.log(0.5)) / 2  # 0.458145
    bias = -math.log(2 / 3)  # 0.405465
    # KL(q ‖ p) averaged over the members is −ln Z, Z = √0.4 + √0.1, the geometric mean's normalizer.
    variance = -math.log(math.sqrt(0.4) + math.sqrt(0.1))  # 0.052680
    assert result == {"members": 2, "mean_member": pytest.approx(mean_member, abs=1e-6),
                      "bias": pytest.approx(bias, abs=1e-6), "variance": pytest.approx(variance, abs=1e-6)}
    assert result["bias"] + result["variance"] == pytest.approx(result["mean_member"], abs=1e-6)


def test_the_identity_holds_for_random_members_against_probabilities():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(scale=3, size=(5, 400)), rng.integers(0, 2, size=400)
    result = split(logits, labels)
    # Worked out again with probabilities: each member's, the geometric mean renormalized, and the
    # divergence written out as Σ_c q_c ln(q_c / p_c).
    p = 1 / (1 + np.exp(-logits))
    g_one, g_zero = np.exp(np.log(p).mean(0)), np.exp(np.log(1 - p).mean(0))
    q = g_one / (g_one + g_zero)
    chosen = np.where(labels == 1, p, 1 - p)
    kl = q * np.log(q / p) + (1 - q) * np.log((1 - q) / (1 - p))
    assert result["mean_member"] == pytest.approx(-np.log(chosen).mean(), abs=1e-6)
    assert result["bias"] == pytest.approx(-np.log(np.where(labels == 1, q, 1 - q)).mean(), abs=1e-6)
    assert result["variance"] == pytest.approx(kl.mean(), abs=1e-6)
    assert result["bias"] + result["variance"] == pytest.approx(result["mean_member"], abs=1e-6)
    # Members that agree have no variance: the ensemble is each of them.
    same = split(np.repeat(logits[:1], 3, axis=0), labels)
    assert same["variance"] == pytest.approx(0, abs=1e-12) and same["bias"] == pytest.approx(same["mean_member"])


def fake_run(folder, experiment, **fields):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": experiment, "fields": fields}))
    return folder


def test_runs_are_grouped_by_every_field_but_the_seed(tmp_path):
    # Named as a sweep's points are, by the experiment (two words here) and the point's label.
    runs = [fake_run(tmp_path / f"u{units}s{seed}", f"Noisy labels seed={seed}", seed=seed, units=units, n_train=1000)
            for units in (8, 16) for seed in (0, 1)]
    groups = member_groups(runs)
    assert list(groups.values()) == [runs[:2], runs[2:]]
    assert [experiment for experiment, _ in groups] == ["Noisy labels", "Noisy labels"]
    assert varied_field(groups) == "units"
    with pytest.raises(InputError, match="needs two or more seeds of Noisy labels with"):
        member_groups(runs[:3])


def test_the_command_splits_seed_sweeps_from_their_weights(tmp_path, capsys):
    # Two seeds of Tiny at two widths, trained a few epochs in this process.
    from looptrain.experiment import load_experiment
    from looptrain.launch.console import DotsReporter
    from looptrain.report import main
    from looptrain.runfolder.history import read_history
    from looptrain.train import train

    rows = write_rows(tmp_path / "rows.csv.gz", made_up_rows(900))
    fields = {"n_validation": 100, "n_train": 400, "batch_size": 100, "n_test": 400, "max_epochs": 2,
              "histogram_every": 0, "jit_compile": False}
    folders = {}
    for units in (4, 32):
        for seed in (0, 1):
            experiment = load_experiment(REPO / "experiments" / "tiny.py", {**fields, "units": units, "seed": seed})
            folders[units, seed] = tmp_path / "runs" / f"units={units}" / f"seed={seed}"
            train(experiment, rows, folders[units, seed], DotsReporter())
    capsys.readouterr()
    out = tmp_path / "split.png"
    assert main([str(folder) for folder in folders.values()] + ["--bias-variance", "final", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_bytes()[:4] == b"\x89PNG"

    # The members' logits made here with Keras, from the final weights and the file's last 400 rows.
    features, labels = made_up_rows(900)[-400:, 1:], made_up_rows(900)[-400:, 0]
    for units in (4, 32):
        logits = []
        for seed in (0, 1):
            model = load_experiment(REPO / "experiments" / "tiny.py", {"units": units}).build_model()
            model.load_weights(folders[units, seed] / "final.weights.h5")
            logits.append(model(features, training=False).numpy()[:, 0])
        expected = split(np.array(logits), labels)
        assert f"Tiny units={units}" in printed
        line = next(line for line in printed.splitlines() if f"Tiny units={units}" in line)
        assert f"{expected['bias']:.4f}" in line and f"{expected['variance']:.4f}" in line
        accuracy = [read_history(folders[units, seed] / "history.csv")["accuracy"][-1] for seed in (0, 1)]
        assert line.rstrip(" │").endswith(f"{1 - np.mean(accuracy):.4f} ± {np.std(accuracy, ddof=1):.4f}")

    # A seed without another of its fields, and an --out that is no picture: one line, exit code 2.
    assert_one_line_error(main, [str(folders[4, 0]), "--bias-variance", "best"], capsys, "needs two or more seeds")
    assert_one_line_error(main, [str(folders[4, 0]), "--bias-variance", "best", "--out", str(tmp_path / "a.md")],
                          capsys, "with --bias-variance, a picture")
