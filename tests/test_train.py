"""One experiment end to end, in process: reproducible from its seed, and replacing an earlier run."""

import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
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


def test_rerunning_replaces_an_earlier_runs_files_and_only_those(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "runs" / "tiny"
    tiny = load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "checkpoint_every": 1})
    train(tiny, data_path, run_dir, DotsReporter())
    first_events = sorted((run_dir / "train").iterdir())
    assert sorted(path.name for path in (run_dir / "checkpoints").iterdir()) == [
        "checkpoint", *[f"ckpt-{n}.{part}" for n in (1, 2, 3) for part in ("data-00000-of-00001", "index")]]

    train(load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "max_epochs": 2}), data_path, run_dir,
          DotsReporter())
    assert not any(path.exists() for path in first_events)  # the first run's events are gone...
    assert len(list((run_dir / "train").iterdir())) == 1  # ...and the second run's are there
    assert (run_dir / "history.csv").read_text().count("\n") == 1 + 2
    assert sorted(path.name for path in (run_dir / "checkpoints").iterdir()) == [
        "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    assert not (run_dir / ".lock").exists()  # the lock goes with the run


@pytest.mark.parametrize("stranger", ["notes.txt", "train/my-plot.png", "checkpoints/old-model.h5", "data/"])
def test_a_run_folder_holding_anything_looptrain_did_not_write_is_refused_and_left_whole(tmp_path, stranger):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "runs" / "tiny"
    tiny = load_experiment(REPO / "experiments" / "tiny.py", SHRUNK)
    train(tiny, data_path, run_dir, DotsReporter())
    if stranger.endswith("/"):
        (run_dir / stranger).mkdir()
    else:
        (run_dir / stranger).write_text("the user's")
    before = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}
    with pytest.raises(InputError, match=f"{run_dir} holds {stranger}, which looptrain did not write"):
        train(tiny, data_path, run_dir, DotsReporter())
    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == before  # nothing touched


def test_a_folder_that_is_not_a_looptrain_run_is_refused(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "runs" / "tiny"
    (run_dir / "train").mkdir(parents=True)
    (run_dir / "train" / "events.out.tfevents.someone-elses").write_text("TensorBoard logs of another tool")
    with pytest.raises(InputError, match="holds train/, which looptrain did not write"):
        train(load_experiment(REPO / "experiments" / "tiny.py", SHRUNK), data_path, run_dir, DotsReporter())
    assert (run_dir / "train" / "events.out.tfevents.someone-elses").read_text() == "TensorBoard logs of another tool"


def test_a_run_folder_below_a_file_is_refused_before_anything_trains(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    (tmp_path / "runs").write_text("a file where the log folder should be")
    with pytest.raises(InputError, match=f"{tmp_path}/runs/tiny cannot be made: {tmp_path}/runs is a file"):
        train(load_experiment(REPO / "experiments" / "tiny.py", SHRUNK), data_path, tmp_path / "runs" / "tiny",
              DotsReporter())
