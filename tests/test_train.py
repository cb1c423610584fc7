"""One experiment end to end, in process: reproducible from its seed, replacing an earlier run, and scored
on its test rows at the end."""

import json

import keras
import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.runfolder.history import read_run, summarize
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


def test_a_finished_run_scores_its_best_and_final_weights_on_the_files_last_rows(tmp_path):
    rows = made_up_rows(800)  # 100 validation, 400 training, and 300 past them: the test rows
    data_path = write_rows(tmp_path / "rows.csv.gz", rows)
    run_dir = tmp_path / "runs" / "dropout"
    history = train(load_experiment(REPO / "experiments" / "dropout.py", {**SHRUNK, "max_epochs": 4}), data_path,
                    run_dir, DotsReporter())
    scores = json.loads((run_dir / "test.json").read_text())
    assert scores["n_test"] == 300
    assert (scores["best"]["epoch"], scores["final"]["epoch"]) == (history.best_epoch, 3)
    # Each weights file, loaded into a fresh model and scored by Keras on the last 300 rows, gives test.json's numbers.
    for weights in ("best", "final"):
        model = load_experiment(REPO / "experiments" / "dropout.py").build_model()
        model.load_weights(run_dir / f"{weights}.weights.h5")
        bce = keras.metrics.BinaryCrossentropy(from_logits=True)
        bce.update_state(rows[500:, :1], model(rows[500:, 1:], training=False))
        assert scores[weights]["binary_crossentropy"] == pytest.approx(float(bce.result()), rel=1e-5)
    assert (run_dir / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    written = read_run(run_dir)
    assert summarize("Dropout", written.epochs, written.best_epoch, written.scores)["test_bce"] == (
        scores["best"]["binary_crossentropy"])


def test_a_file_without_room_for_test_rows_still_trains_and_says_it_has_no_test_number(tmp_path, capsys):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))  # 100 validation, 400 training: no more
    run_dir = tmp_path / "runs" / "tiny"
    train(load_experiment(REPO / "experiments" / "tiny.py", SHRUNK), data_path, run_dir, DotsReporter())
    assert ("warning: data file " + str(data_path) + " has no rows past its 100 validation and 400 training rows, "
            "so this run has no test number") in capsys.readouterr().out
    assert (run_dir / "final.weights.h5").is_file() and not (run_dir / "test.json").exists()
    written = read_run(run_dir)
    assert written.scores is None
    assert summarize("Tiny", written.epochs, written.best_epoch, written.scores)["test_bce"] is None
