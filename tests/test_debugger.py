"""Stepping through the train step in a debugger: `--eager` stops in it on every batch with real numbers,
and changes nothing else: the same seed gives the graph run's history, files and exit code.

`tf.config.run_functions_eagerly` and tf.data's debug mode are process-wide and the latter cannot be
switched off, so every eager run here is a subprocess through the real command.
"""

import ast
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.run import eager_requested, parse_args
from looptrain.runfolder.history import COLUMNS, read_history

# Four batches of 100 training rows and one of validation: seconds per run, not minutes.
SHRUNK = ["--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100"]
NOTICE = "eager mode"
STEP_FILE = REPO / "looptrain" / "loop" / "step.py"


def python(*arguments, environment=None, **options):
    """`python ARGUMENTS` in the checkout, with `environment` added to ours."""
    return subprocess.run([sys.executable, *arguments], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(environment or {})}, **options)


def line_of(path, text):
    """The number of the line that reads `text`, so that no test hard-codes a line number."""
    [number] = [n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.strip() == text]
    return number


def files(folder):
    """Every file under `folder`, with TensorBoard's event files named without their time and host."""
    return sorted(str(path.relative_to(folder).parent / "events") if "tfevents" in path.name
                  else str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_eager_mode_gives_the_graph_runs_history_and_files(tmp_path):
    data = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    # loop=step for both: eager mode always calls the step batch by batch, and the whole-epoch graph
    # draws its orders otherwise (tests/loop/test_parity.py checks that path against fit).
    command = ["-m", "looptrain.run", "experiments/tiny.py", "experiments/l2.py", "--data", str(data),
               "--max-epochs", "3", *SHRUNK, "--set", "loop=step", "--dots"]
    # "0" spelled out: a LOOPTRAIN_EAGER=1 left in the caller's shell would make both runs eager.
    graph = python(*command, "--logdir", str(tmp_path / "graph"), environment={"LOOPTRAIN_EAGER": "0"},
                   timeout=300)
    # The environment variable, as an IDE's launch configuration sets it; the pdb test below uses --eager.
    eager = python(*command, "--logdir", str(tmp_path / "eager"), environment={"LOOPTRAIN_EAGER": "1"},
                   timeout=300)

    assert graph.returncode == eager.returncode == 0, eager.stderr[-2000:]
    assert NOTICE not in graph.stdout and eager.stdout.count(NOTICE) == 1
    assert files(tmp_path / "eager") == files(tmp_path / "graph")
    for name in ("tiny", "l2"):
        assert (tmp_path / "eager" / name / "config.json").read_text() == \
               (tmp_path / "graph" / name / "config.json").read_text()
        graph_history = read_history(tmp_path / "graph" / name / "history.csv")
        eager_history = read_history(tmp_path / "eager" / name / "history.csv")
        assert eager_history["epoch"] == graph_history["epoch"] == [0, 1, 2]
        for column in COLUMNS[1:-1]:  # all but `epoch` and the wall-clock `seconds`
            # Not bit for bit: in a graph, Grappler and oneDNN fuse and rewrite ops (a matmul, its bias
            # and its activation in one kernel), which adds the same numbers in another order. Seen: the
            # weights a few float32 units in the last place apart after three epochs, the history
            # 1e-7 apart. A wrong seed, order or step would be off by far more than 1e-5.
            np.testing.assert_allclose(eager_history[column], graph_history[column], rtol=1e-5, err_msg=column)


def test_pdb_stops_in_the_train_step_on_every_batch_with_real_numbers(tmp_path):
    data = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    line = line_of(STEP_FILE, "loss = data_loss + regularization")
    # Combined has both an L2 penalty and dropout, so both loss parts and the training flag show.
    dropout_effect = "p float(tf.reduce_max(tf.abs(logits - model(features, training=False))))"
    commands = [
        f"break {STEP_FILE}:{line}",
        "continue",
        "p data_loss",
        "p float(data_loss), float(regularization)",
        dropout_effect,
        "continue",
        "p float(data_loss), float(regularization)",
        dropout_effect,
        "quit",
    ]
    finished = python("-m", "pdb", "-m", "looptrain.run", "experiments/combined.py", "--eager",
                      "--data", str(data), "--max-epochs", "1", *SHRUNK, "--logdir", str(tmp_path / "runs"),
                      "--dots", input="\n".join(commands) + "\n", timeout=300)

    # pdb prints its prompt before reading each command, so what follows a prompt answers that command.
    answers = finished.stdout.split("(Pdb) ")[1:]
    assert len(answers) == len(commands), finished.stdout[-3000:] + finished.stderr[-2000:]
    said = list(zip(commands, answers))
    stops = [answer for command, answer in said if command == "continue"]
    assert all(f"step.py({line})train_step()" in stop for stop in stops), stops
    # An eager tensor, which carries its value; a symbolic one prints as <tf.Tensor 'name:0' ...>.
    [tensor] = [answer for command, answer in said if command == "p data_loss"]
    assert "numpy=" in tensor, tensor

    losses = [ast.literal_eval(answer.strip()) for command, answer in said if command.startswith("p float(data")]
    effects = [float(answer) for command, answer in said if command == dropout_effect]
    [(first_data, first_penalty), (second_data, second_penalty)] = losses
    assert 0 < first_data < 5 and 0 < second_data < 5 and first_data != second_data  # another batch
    assert first_penalty > 0 and second_penalty != first_penalty  # the weights moved in between
    assert all(effect > 0 for effect in effects)  # training=True: dropout changed the logits


@pytest.mark.parametrize("page", ["README.md", "README.ko.md"])
def test_the_readmes_set_the_breakpoint_on_the_line_they_name_and_move_on_to_the_update(page):
    readme = (REPO / page).read_text()
    [number] = re.findall(r"break looptrain/loop/step\.py:(\d+)", readme)
    assert int(number) == line_of(STEP_FILE, "loss = data_loss + regularization")
    [until] = re.findall(r"`until (\d+)`", readme)
    assert int(until) == line_of(STEP_FILE, "optimizer.apply_gradients(zip(gradients, model.trainable_variables))")


def test_the_launch_configurations_run_looptrain_eagerly():
    configurations = json.loads((REPO / ".vscode" / "launch.json").read_text())["configurations"]
    assert configurations
    for configuration in configurations:
        assert configuration["module"] == "looptrain.run" and configuration["env"]["LOOPTRAIN_EAGER"] == "1"
        args = parse_args(configuration["args"])  # arguments the command line accepts
        assert all((REPO / path).is_file() for path in args.experiments)
        assert eager_requested(args.eager, configuration["env"])


@pytest.mark.parametrize("text, eager", [("1", True), ("true", True), ("Yes", True), ("ON", True),
                                         ("0", False), ("false", False), ("no", False), ("off", False), ("", False)])
def test_looptrain_eager_reads_yes_and_no(text, eager):
    assert eager_requested(False, {"LOOPTRAIN_EAGER": text}) is eager
    assert eager_requested(True, {"LOOPTRAIN_EAGER": text}) is True  # --eager wins over a no


def test_without_the_flag_or_the_variable_the_run_is_a_graph():
    assert eager_requested(False, {}) is False


def test_a_bad_looptrain_eager_is_one_line_and_exit_code_2(tmp_path):
    finished = python("-m", "looptrain.run", "experiments/tiny.py", "--logdir", str(tmp_path / "runs"),
                      environment={"LOOPTRAIN_EAGER": "maybe"}, timeout=120)
    assert finished.returncode == 2
    assert finished.stderr == ("looptrain: error: LOOPTRAIN_EAGER must be 1 or 0 (or true/false, yes/no, "
                               "on/off, empty), got 'maybe'\n")
    assert not (tmp_path / "runs").exists()
    with pytest.raises(InputError):
        eager_requested(True, {"LOOPTRAIN_EAGER": "maybe"})  # refused even where --eager decides anyway
