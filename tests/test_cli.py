"""The command line's promise for bad input: one line naming the problem, exit code 2, no run folder."""

import subprocess
import sys

import pytest

from conftest import REPO


def run(*arguments, cwd):
    return subprocess.run([sys.executable, "-m", "looptrain.run", *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("arguments, message", [
    (["missing.py"], "experiment file missing.py does not exist"),
    (["{repo}/experiments/tiny.py", "--set", "patiense=3"], "unknown field 'patiense'"),
    (["{repo}/experiments/tiny.py", "--set", "patience=soon"], "--set patience: expected int, got 'soon'"),
    (["{repo}/experiments/tiny.py", "--set", "batch_size=0"], "'batch_size' must be positive"),
    (["{repo}/experiments/tiny.py", "--max-epochs", "many"], "argument --max-epochs: invalid int value"),
    (["{repo}/experiments/tiny.py", "--colour"], "unrecognized arguments: --colour"),
    (["{repo}/experiments/tiny.py", "--data", "{tmp}/none.csv.gz"], "data file {tmp}/none.csv.gz does not exist"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, arguments, message):
    arguments = [a.format(repo=REPO, tmp=tmp_path) for a in arguments]
    finished = run(*arguments, "--logdir", str(tmp_path / "runs"), cwd=tmp_path)
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()  # one line, no traceback, no start-up chatter
    assert line.startswith("looptrain: error: ") and message.format(tmp=tmp_path) in line
    assert not (tmp_path / "runs").exists()


def test_an_experiment_without_a_model_is_refused(tmp_path):
    (tmp_path / "empty.py").write_text('"""Nothing to train."""\n')
    finished = run("empty.py", cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr == "looptrain: error: experiment file empty.py defines no build_model() function\n"
