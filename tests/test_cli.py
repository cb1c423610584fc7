"""The command line's promise for bad input: one line naming the problem, exit code 2, no run folder."""

import re
import subprocess
import sys

import pytest

from conftest import REPO, assert_one_line_error, made_up_rows, write_rows
from looptrain.run import main


def run(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "looptrain.run", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("arguments, message", [
    (["missing.py"], "experiment file missing.py does not exist"),
    (["{repo}/experiments/tiny.py", "--set", "patiense=3"], "unknown field 'patiense'"),
    (["{repo}/experiments/tiny.py", "--set", "patience=soon"], "--set patience: expected int, got 'soon'"),
    (["{repo}/experiments/tiny.py", "--set", "batch_size=0"], "'batch_size' must be positive"),
    (["{repo}/experiments/tiny.py", "--set", "learning_rate=nan"], "'learning_rate' must be a finite number, got nan"),
    (["{repo}/experiments/tiny.py", "--set", "min_delta=inf"], "'min_delta' must be a finite number, got inf"),
    (["{repo}/experiments/tiny.py", "--set", "n_train=100"],
     "'n_train' (100) must be at least one batch, batch_size (500)"),
    (["{repo}/experiments/tiny.py", "--set", "n_test=-1"], "field 'n_test' must not be negative, got -1"),
    (["{repo}/experiments/tiny.py", "--set", "n_test=some"], "--set n_test: expected int, got 'some'"),
    (["{repo}/experiments/tiny.py", "--max-epochs", "many"], "argument --max-epochs: invalid int value"),
    (["{repo}/experiments/tiny.py", "--colour"], "unrecognized arguments: --colour"),
    (["{repo}/experiments/tiny.py", "--data", "{tmp}/none.csv.gz"], "data file {tmp}/none.csv.gz does not exist"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, arguments, message, capsys, monkeypatch):
    # The command's `main`, here: the same line and exit code without a process's TensorFlow import.
    # The tests below go through the real command, which says nothing else as it starts.
    monkeypatch.chdir(tmp_path)
    arguments = [a.format(repo=REPO, tmp=tmp_path) for a in arguments]
    assert_one_line_error(main, [*arguments, "--logdir", str(tmp_path / "runs")], capsys,
                          re.escape(message.format(tmp=tmp_path)))
    assert not (tmp_path / "runs").exists()


def test_an_experiment_that_is_not_python_is_refused(tmp_path):
    (tmp_path / "tiny.txt").write_text("fields = {}\n")
    (tmp_path / "broken.py").write_text('"""Broken."""\nfields = {"patience": 5\n')
    for name, message in [("tiny.txt", "experiment file tiny.txt is not a .py file\n"),
                          ("broken.py", "experiment file broken.py has a syntax error on line 2: ")]:
        finished = run(name, cwd=tmp_path)
        assert finished.returncode == 2
        assert finished.stderr.startswith(f"looptrain: error: {message}") and finished.stderr.count("\n") == 1


def test_resuming_a_run_that_has_no_checkpoint_is_refused(tmp_path):
    (tmp_path / "runs" / "tiny").mkdir(parents=True)  # a folder, but not a run that saved anything
    finished = run(str(REPO / "experiments" / "tiny.py"), "--resume", "--logdir", "runs", cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr == "looptrain: error: nothing to resume: runs/tiny/checkpoints holds no checkpoint\n"
    assert list((tmp_path / "runs" / "tiny").iterdir()) == []


def test_a_loss_that_is_no_longer_a_number_stops_the_run_with_exit_code_3(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    # Adam's first steps move every weight by about the learning rate: 1e30 overflows float32 at once.
    finished = run(str(REPO / "experiments" / "tiny.py"), "--data", str(data_path), "--dots", "--logdir", "runs",
                   "--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100",
                   "--set", "learning_rate=1e30", "--max-epochs", "3", cwd=tmp_path)
    assert finished.returncode == 3
    [line] = finished.stderr.splitlines()
    assert line.startswith("looptrain: error: Tiny, epoch 0: the loss is no longer a number (the data loss is nan")
    assert (tmp_path / "runs" / "tiny" / "history.csv").read_text().count("\n") == 1  # the header: no good epoch
    assert not (tmp_path / "runs" / "tiny" / "best.weights.h5").exists()  # no weights worth keeping


def test_an_experiment_without_a_model_is_refused(tmp_path):
    (tmp_path / "empty.py").write_text('"""Nothing to train."""\n')
    finished = run("empty.py", cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr == "looptrain: error: experiment file empty.py defines no build_model() function\n"


@pytest.mark.parametrize("model, message", [
    ("keras.Sequential([keras.Input((20,)), keras.layers.Dense(1)])",
     "build_model()'s model cannot take the data's 28 features: Input 0 with name 'None' of layer '{layer}' is "
     "incompatible with the layer: expected axis -1 of input shape to have value 20, but received input with "
     "shape (2, 28)"),
    ("keras.Sequential([keras.Input((28,)), keras.layers.Dense(2)])",
     "build_model()'s model gives (2, 2) for 2 rows of features; the loss needs one number a row, (2, 1)"),
    ("None", "build_model() returned NoneType, not a Keras model"),
    ("keras.Sequential([keras.layers.Dense(-1)])", "build_model() failed: ValueError: "),
])
def test_a_model_that_cannot_train_on_the_data_is_refused_before_anything_trains(tmp_path, model, message, capsys,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text(f'"""My own."""\nimport keras\n\n\ndef build_model():\n    return {model}\n')
    # Keras numbers a layer's name by the layers made before it in the process: dense, dense_1, ...
    expected = re.escape(f"looptrain: error: experiment file mine.py: {message}").replace(r"\{layer\}", r"dense\w*")
    assert_one_line_error(main, ["mine.py", "--logdir", "runs"], capsys, "^" + expected)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("experiments", [["tiny"], ["tiny", "small"]], ids=["one run", "two runs"])
def test_more_test_rows_than_the_file_has_is_refused_before_anything_trains(tmp_path, experiments):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(1_600))
    sweep = ["--sweep", "n_test=100,101"] if len(experiments) == 1 else ["--set", "n_test=101"]
    finished = run(*[str(REPO / "experiments" / f"{name}.py") for name in experiments], "--data", str(data_path),
                   "--set", "n_train=500", *sweep, "--logdir", "runs", cwd=tmp_path)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line.startswith("looptrain: error: ") and line.endswith(
        f"n_test=101: data file {data_path} has 1,600 rows, and 101 test rows past its 1,000 validation and 500 "
        "training rows need 1,601 (fewer test rows, or fewer training rows)"), line
    assert not (tmp_path / "runs").exists()


def test_a_logdir_below_a_file_is_bad_input(tmp_path):
    (tmp_path / "notes").write_text("mine")
    finished = run(str(REPO / "experiments" / "tiny.py"), "--logdir", "notes/runs", cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr == ("looptrain: error: notes/runs/tiny cannot be made: "
                               f"{tmp_path / 'notes'} is a file, not a folder; choose another --logdir\n")
    assert (tmp_path / "notes").read_text() == "mine"
