"""The comparison table: finished runs read back from disk, their numbers worked out again with numpy."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import assert_one_line_error
from looptrain.models.mlp import mlp
from looptrain.report import main
from looptrain.results.tables import SIGNED, SPREAD_NOTE
from looptrain.runfolder.history import kernels, read_history, read_weights, replay_best_epoch, write_history
from looptrain.runfolder.scores import scores_record, write_scores
from test_aggregate import written_sweep


def finished_run(folder, name, val_losses, model, min_delta=0.0, seed=0):
    """Write what `train` leaves in a run folder: config.json, a history.csv whose validation losses
    are `val_losses` (the other columns random) and the model's weights as best.weights.h5."""
    rng = np.random.default_rng(seed)
    epochs = [{"loss": rng.uniform(0.5, 0.7), "binary_crossentropy": rng.uniform(0.4, 0.7),
               "regularization_loss": 0.0, "accuracy": rng.uniform(0.5, 0.7), "val_binary_crossentropy": value,
               "val_accuracy": rng.uniform(0.5, 0.7), "val_auc": rng.uniform(0.6, 0.8), "learning_rate": 1e-3,
               "seconds": 1.5 * (epoch + 1)}
              for epoch, value in enumerate(val_losses)]
    # Random biases too (Keras starts them at 0), so that a sum of squares over them would show.
    model.set_weights([rng.normal(scale=0.1, size=values.shape) for values in model.get_weights()])
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": name, "parameters": model.count_params(),
                                                    "fields": {"min_delta": min_delta, "patience": 200}}))
    write_history(folder / "history.csv", epochs)
    model.save_weights(folder / "best.weights.h5")
    return epochs


def scored_run(folder, seed=0):
    """Give a finished run a test.json of random numbers, as `train` writes it; return its record."""
    rng = np.random.default_rng(seed)

    def numbers():
        bins = {"counts": [3, 0, 5], "mean_probability": [0.1, None, 0.8], "signal_share": [0.2, None, 0.6]}
        return {"binary_crossentropy": rng.uniform(0.5, 3), "binary_crossentropy_se": rng.uniform(0.001, 0.03),
                "accuracy": rng.uniform(0.6, 0.7), "auc": rng.uniform(0.7, 0.8), "ece": rng.uniform(0, 0.3),
                "reliability": bins, "temperature": rng.uniform(1, 15), "scaled_binary_crossentropy": rng.uniform(0.5, 0.7),
                "scaled_ece": rng.uniform(0, 0.05), "scaled_reliability": bins, "validation_auc": rng.uniform(0.7, 0.8)}

    record = scores_record(50_000, {"best": numbers(), "final": numbers()}, {"best": 1, "final": 3})
    write_scores(folder / "test.json", record)
    return record


def test_the_kernels_read_without_keras_are_the_models_weight_matrices(tmp_path):
    mlp([5])  # layers built earlier in the process are `dense`, `dense_1`: the file's names must not change
    model = mlp([16, 8])
    model.save_weights(tmp_path / "best.weights.h5")
    weights = read_weights(tmp_path / "best.weights.h5")
    assert sum(values.size for values in weights.values()) == model.count_params() == 28 * 16 + 16 + 16 * 8 + 8 + 9
    read = kernels(weights)
    assert list(read) == ["dense", "dense_1", "dense_2"]
    expected = [values for values in model.get_weights() if values.ndim == 2]  # kernels; biases are 1-D
    assert [values.shape for values in read.values()] == [(28, 16), (16, 8), (8, 1)]
    for got, want in zip(read.values(), expected):
        np.testing.assert_array_equal(got, want)


def test_the_best_epoch_is_replayed_from_the_losses_by_hand():
    losses = [0.70, 0.60, 0.59, 0.50, 0.50, 0.52]
    assert replay_best_epoch(losses, min_delta=0.0) == 3  # the first of two equal minima, as Keras keeps it
    # With min_delta 0.05: 0.60 beats 0.70 - 0.05, 0.59 does not beat 0.60 - 0.05, 0.50 beats 0.55.
    assert replay_best_epoch([0.70, 0.60, 0.59, 0.56, 0.50], min_delta=0.05) == 4
    assert replay_best_epoch([0.70, 0.60, 0.59, 0.56], min_delta=0.05) == 1
    assert replay_best_epoch([float("nan")] * 3, min_delta=0.0) is None


def markdown_rows(path):
    """{experiment: {heading: cell}} from a Markdown table, and the note under it ("" where none)."""
    signature, *lines = path.read_text().splitlines()
    assert signature == SIGNED.strip()  # the file says it is looptrain's, and Markdown shows nothing of it
    table, _, note = "\n".join(lines).partition("\n\n")  # a blank line ends the table
    lines = table.splitlines()
    headings = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert lines[1].startswith("| --- | ---: |")
    rows = [dict(zip(headings, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]
    return {row["experiment"]: row for row in rows}, note.strip()


def number(cell):
    return float(cell.replace(",", ""))


def spread_cell(cell):
    """"0.6300 ± 0.0361" → (0.63, 0.0361); the sd is None where the cell says "–"."""
    mean, sd = cell.split(" ± ")
    return number(mean), None if sd == "–" else number(sd)


def test_the_markdown_numbers_are_the_runs_numbers(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    runs = {"Tiny": (mlp([16]), [0.69, 0.66, 0.64, 0.65, 0.67]),
            "L2": (mlp([32, 32], regularizer=keras.regularizers.l2(0.001)), [0.68, 0.62, 0.63, 0.61, 0.62, 0.64])}
    written = {name: finished_run(tmp_path / "runs" / name.lower(), name, losses, model)
               for name, (model, losses) in runs.items()}

    assert main([str(tmp_path / "runs" / "tiny"), str(tmp_path / "runs" / "l2")]) == 0
    assert "wrote" in capsys.readouterr().out
    table, note = markdown_rows(tmp_path / "runs" / "report.md")  # the runs' common folder, by default
    assert list(table) == ["Tiny", "L2"] and note == ""  # no sweep over seeds, no "±" to explain

    for name, (model, losses) in runs.items():
        row, epochs = table[name], written[name]
        best = int(np.argmin(losses))
        train_losses = [epoch["binary_crossentropy"] for epoch in epochs]
        squares = sum(np.sum(np.square(w, dtype=np.float64)) for w in model.get_weights() if w.ndim == 2)
        assert int(row["epochs"]) == len(losses)
        assert int(row["best epoch"]) == best
        assert number(row["best val BCE"]) == pytest.approx(losses[best], abs=5e-5)
        assert number(row["final val BCE"]) == pytest.approx(losses[-1], abs=5e-5)
        assert number(row["final train BCE"]) == pytest.approx(train_losses[-1], abs=5e-5)
        assert number(row["gap (val − train)"]) == pytest.approx(losses[-1] - train_losses[-1], abs=5e-5)
        assert int(number(row["parameters"])) == model.count_params()
        assert number(row["Σw² (kernels)"]) == pytest.approx(squares, abs=0.05)
        assert number(row["seconds"]) == pytest.approx(1.5 * len(losses), abs=0.5)


def test_reporting_does_not_import_tensorflow(tmp_path):
    finished_run(tmp_path / "runs" / "tiny", "Tiny", [0.69, 0.66], mlp([4]))
    code = ("import sys; from looptrain.report import main; "
            f"code = main([{str(tmp_path / 'runs' / 'tiny')!r}, '--out', {str(tmp_path / 't.md')!r}]); "
            "print(code, 'tensorflow' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "0 False"
    assert (tmp_path / "t.md").read_text().count("\n") == 4  # the signature, the headings, the rule, a row


@pytest.mark.parametrize("make, argv, message", [
    (lambda runs: None, ["missing"], "run folder .*missing does not exist"),
    (lambda runs: (runs / "half").mkdir(), ["half"], "has no config.json"),
    (lambda runs: (runs / "tiny" / "config.json").write_text('{"experiment": "Tiny"}'), ["tiny"],
     "config.json or history.csv looptrain did not write"),
    (lambda runs: (runs / "tiny" / "best.weights.h5").unlink(), ["tiny"], "best.weights.h5 does not exist"),
    (lambda runs: (runs / "tiny" / "best.weights.h5").write_text("not hdf5"), ["tiny"], "not a weights file"),
    (lambda runs: None, ["tiny", "--out", "nowhere/report.md"], "folder .*nowhere does not exist"),
    (lambda runs: (runs / "notes.md").write_text("# my notes"), ["tiny", "--out", "notes.md"],
     "notes.md exists and looptrain did not write it: choose another --out"),
    (lambda runs: written_sweep(runs / "sweep", "Tiny", "seed", [0, 1], done=[]), ["sweep"],
     "sweep is a sweep over seed with no point done yet"),
    (lambda runs: written_sweep(runs / "sweep", "Tiny", "seed", [0, 1]), ["sweep"], "seed=0 does not exist"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, make, argv, message):
    runs = tmp_path / "runs"
    finished_run(runs / "tiny", "Tiny", [0.69, 0.66], mlp([4]))
    make(runs)
    argv = [str(runs / arg) if not arg.startswith("--") else arg for arg in argv]
    assert_one_line_error(main, argv, capsys, message)
    if (runs / "notes.md").exists():
        assert (runs / "notes.md").read_text() == "# my notes"


def test_a_seed_sweeps_cells_are_the_mean_and_sample_sd_of_its_runs(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    losses = {0: [0.69, 0.66, 0.64, 0.65], 1: [0.68, 0.63, 0.64], 2: [0.70, 0.65, 0.62, 0.61, 0.63]}
    folders = written_sweep(tmp_path / "runs" / "tiny", "Tiny", "seed", list(losses))
    models = {seed: mlp([16]) for seed in losses}
    written = {seed: finished_run(folder, "Tiny", losses[seed], models[seed], seed=seed)
               for folder, seed in zip(folders, losses)}
    finished_run(tmp_path / "runs" / "large", "Large", [0.68, 0.60, 0.61], mlp([32]))  # a run in the same table

    assert main([str(tmp_path / "runs" / "tiny"), str(tmp_path / "runs" / "large")]) == 0
    printed = capsys.readouterr().out
    assert "Tiny (3 seeds)" in printed and "ddof=1" in printed  # the console table carries the note too
    table, note = markdown_rows(tmp_path / "runs" / "report.md")
    assert list(table) == ["Tiny (3 seeds)", "Large"] and note == SPREAD_NOTE

    # Each seed's numbers, from what was written into its folder; then numpy's mean and sample sd.
    final_train = [written[seed][-1]["binary_crossentropy"] for seed in losses]
    per_seed = {
        "epochs": [len(values) for values in losses.values()],
        "best epoch": [int(np.argmin(values)) for values in losses.values()],
        "best val BCE": [min(values) for values in losses.values()],
        "final val BCE": [values[-1] for values in losses.values()],
        "final train BCE": final_train,
        "gap (val − train)": [values[-1] - train for values, train in zip(losses.values(), final_train)],
        "Σw² (kernels)": [sum(np.sum(np.square(w, dtype=np.float64)) for w in models[seed].get_weights()
                              if w.ndim == 2) for seed in losses],
        "seconds": [1.5 * len(values) for values in losses.values()],
    }
    # Half the last digit each column is written with.
    written_to = {"epochs": 0.05, "best epoch": 0.05, "Σw² (kernels)": 0.06, "seconds": 0.5}
    row = table["Tiny (3 seeds)"]
    for heading, values in per_seed.items():
        mean, sd = spread_cell(row[heading])
        tolerance = written_to.get(heading, 5e-5)
        assert mean == pytest.approx(np.mean(values), abs=tolerance), heading
        assert sd == pytest.approx(np.std(values, ddof=1), abs=tolerance), heading
    assert int(number(row["parameters"])) == models[0].count_params()  # one model: no spread
    assert number(table["Large"]["best val BCE"]) == pytest.approx(0.60, abs=5e-5)  # a run's cell: no ±


def test_a_sweep_with_one_seed_done_shows_no_spread(tmp_path):
    folders = written_sweep(tmp_path / "runs" / "tiny", "Tiny", "seed", [0, 1], done=[0])
    finished_run(folders[0], "Tiny", [0.69, 0.66, 0.67], mlp([4]))
    assert main([str(tmp_path / "runs" / "tiny")]) == 0
    table, note = markdown_rows(tmp_path / "runs" / "report.md")
    assert table["Tiny (1 seed)"]["best val BCE"] == "0.6600 ± –" and note == SPREAD_NOTE


def test_a_field_sweep_is_one_row_a_point(tmp_path):
    losses = {1000: [0.70, 0.66, 0.69], 10000: [0.69, 0.62, 0.63]}
    for folder, values in zip(written_sweep(tmp_path / "runs" / "medium", "Medium", "n_train", list(losses)),
                              losses.values()):
        finished_run(folder, "Medium", values, mlp([4]))
    assert main([str(tmp_path / "runs" / "medium")]) == 0
    table, note = markdown_rows(tmp_path / "runs" / "report.md")
    assert list(table) == ["Medium n_train=1000", "Medium n_train=10000"] and note == ""
    assert [number(row["best val BCE"]) for row in table.values()] == [0.66, 0.62]
    assert [number(row["final val BCE"]) for row in table.values()] == [0.69, 0.63]


def test_reporting_sweeps_does_not_import_tensorflow(tmp_path):
    for folder, seed in zip(written_sweep(tmp_path / "runs" / "tiny", "Tiny", "seed", [0, 1]), [0, 1]):
        finished_run(folder, "Tiny", [0.69, 0.66], mlp([4]), seed=seed)
    for folder in written_sweep(tmp_path / "runs" / "medium", "Medium", "n_train", [1000, 2000]):
        finished_run(folder, "Medium", [0.69, 0.64], mlp([4]))
    sweeps = [str(tmp_path / "runs" / "tiny"), str(tmp_path / "runs" / "medium")]
    code = f"import sys; from looptrain.report import main; print(main({sweeps!r}), 'tensorflow' in sys.modules)"
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.splitlines()[-1] == "0 False"
    table, _ = markdown_rows(tmp_path / "runs" / "report.md")
    assert list(table) == ["Tiny (2 seeds)", "Medium n_train=1000", "Medium n_train=2000"]


def markdown_test_rows(path):
    """The report's second table, "On the test rows", as [{heading: cell}]."""
    _, _, after = path.read_text().partition("On the test rows:\n\n")
    lines = after.split("\n\n")[0].splitlines()
    headings = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(headings, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def test_the_test_scores_are_test_jsons_and_a_run_without_test_rows_has_none(tmp_path):
    epochs = finished_run(tmp_path / "runs" / "large", "Large", [0.68, 0.60, 0.61, 0.7], mlp([4]))
    record = scored_run(tmp_path / "runs" / "large")
    finished_run(tmp_path / "runs" / "real", "Real", [0.69, 0.66], mlp([4]))  # no test rows: no test.json

    assert main([str(tmp_path / "runs" / "large"), str(tmp_path / "runs" / "real")]) == 0
    table, _ = markdown_rows(tmp_path / "runs" / "report.md")
    assert number(table["Large"]["test BCE"]) == pytest.approx(record["best"]["binary_crossentropy"], abs=5e-5)
    assert number(table["Large"]["test AUC"]) == pytest.approx(record["best"]["auc"], abs=5e-5)
    assert number(table["Large"]["final test BCE"]) == pytest.approx(record["final"]["binary_crossentropy"], abs=5e-5)
    assert table["Real"]["test BCE"] == table["Real"]["final test BCE"] == "–"
    rows = markdown_test_rows(tmp_path / "runs" / "report.md")
    assert [(row["experiment"], row["weights"], row["epoch"]) for row in rows] == [("Large", "best", "1"),
                                                                                   ("Large", "final", "3")]
    for row, weights in zip(rows, ("best", "final")):
        for heading, key in [("test BCE", "binary_crossentropy"), ("its s.e.", "binary_crossentropy_se"),
                             ("accuracy", "accuracy"), ("AUC", "auc"), ("ECE", "ece"),
                             ("BCE at T", "scaled_binary_crossentropy"), ("ECE at T", "scaled_ece")]:
            assert number(row[heading]) == pytest.approx(record[weights][key], abs=5e-5), heading
        assert number(row["T"]) == pytest.approx(record[weights]["temperature"], abs=0.005)
        # Beside them, the same epoch's validation cross-entropy (epoch 1 the best, 3 the final) and the difference.
        validation = epochs[record[weights]["epoch"]]["val_binary_crossentropy"]
        assert number(row["val BCE"]) == pytest.approx(validation, abs=5e-5)
        assert number(row["test − val"]) == pytest.approx(record[weights]["binary_crossentropy"] - validation, abs=5e-5)

    assert main([str(tmp_path / "runs" / "real"), "--out", str(tmp_path / "real.md")]) == 0
    assert "test BCE" not in (tmp_path / "real.md").read_text()  # no run has test rows: no column, no table


def test_a_seed_sweeps_test_scores_are_their_mean_and_sample_sd(tmp_path):
    folders = written_sweep(tmp_path / "runs" / "large", "Large", "seed", [0, 1, 2])
    records = []
    for seed, folder in enumerate(folders):
        finished_run(folder, "Large", [0.68, 0.60, 0.61, 0.7], mlp([4]), seed=seed)
        records.append(scored_run(folder, seed=seed))
    assert main([str(tmp_path / "runs" / "large")]) == 0
    table, _ = markdown_rows(tmp_path / "runs" / "report.md")
    mean, sd = spread_cell(table["Large (3 seeds)"]["test BCE"])
    values = [record["best"]["binary_crossentropy"] for record in records]
    assert (mean, sd) == (pytest.approx(np.mean(values), abs=5e-5), pytest.approx(np.std(values, ddof=1), abs=5e-5))
    best, final = markdown_test_rows(tmp_path / "runs" / "report.md")
    assert (best["experiment"], best["weights"], final["weights"]) == ("Large (3 seeds)", "best", "final")
    for row, weights in [(best, "best"), (final, "final")]:
        for heading, key in [("AUC", "auc"), ("BCE at T", "scaled_binary_crossentropy")]:
            values = [record[weights][key] for record in records]
            assert spread_cell(row[heading]) == (pytest.approx(np.mean(values), abs=5e-5),
                                                 pytest.approx(np.std(values, ddof=1), abs=5e-5)), heading
        # The optimism's spread is over the seeds' own differences, not a difference of two spreads.
        epoch = {"best": 1, "final": 3}[weights]
        values = [record[weights]["binary_crossentropy"] - [0.68, 0.60, 0.61, 0.7][epoch] for record in records]
        assert spread_cell(row["test − val"]) == (pytest.approx(np.mean(values), abs=5e-5),
                                                  pytest.approx(np.std(values, ddof=1), abs=5e-5))


def test_a_history_written_before_it_had_val_auc_is_still_read(tmp_path):
    folder = tmp_path / "runs" / "tiny"
    epochs = finished_run(folder, "Tiny", [0.69, 0.66, 0.67], mlp([4]))
    lines = [line.split(",") for line in (folder / "history.csv").read_text().splitlines()]
    column = lines[0].index("val_auc")
    (folder / "history.csv").write_text("".join(",".join(line[:column] + line[column + 1:]) + "\n" for line in lines))
    history = read_history(folder / "history.csv")
    assert "val_auc" not in history
    assert history["val_accuracy"] == [epoch["val_accuracy"] for epoch in epochs]
    assert main([str(folder)]) == 0
