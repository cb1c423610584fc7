"""One experiment end to end, in process: reproducible from its seed, and replacing an earlier run."""

import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.console import DotsReporter
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.train import train

SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "max_epochs": 3}


def history_without_time(experiment, data_path, run_dir):
    history = train(experiment, data_path, run_dir, DotsReporter())
    return [{name: value for name, value in epoch.items() if name != "seconds"} for epoch in history.epochs]


def test_the_same_seed_gives_the_same_history_and_another_seed_does_not(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    dropout = REPO / "experiments" / "dropout.py"  # weights, shuffling and dropout all draw random numbers
    first = history_without_time(load_experiment(dropout, {**SHRUNK, "seed": 7}), data_path, tmp_path / "a")
    again = history_without_time(load_experiment(dropout, {**SHRUNK, "seed": 7}), data_path, tmp_path / "b")
    other = history_without_time(load_experiment(dropout, {**SHRUNK, "seed": 8}), data_path, tmp_path / "c")
    assert first == again
    assert first != other


def test_rerunning_replaces_the_run_folder(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "runs" / "tiny"
    (run_dir / "train").mkdir(parents=True)
    (run_dir / "train" / "events.out.tfevents.stale").write_text("from an earlier run")
    train(load_experiment(REPO / "experiments" / "tiny.py", SHRUNK), data_path, run_dir, DotsReporter())
    assert not (run_dir / "train" / "events.out.tfevents.stale").exists()
    assert (run_dir / "history.csv").read_text().count("\n") == 1 + 3


def test_a_run_folder_that_cannot_be_written_is_refused(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    (tmp_path / "runs").write_text("a file where the log folder should be")
    with pytest.raises(InputError, match=f"cannot write the run folder {tmp_path}/runs/tiny: Not a directory"):
        train(load_experiment(REPO / "experiments" / "tiny.py", SHRUNK), data_path, tmp_path / "runs" / "tiny",
              DotsReporter())
