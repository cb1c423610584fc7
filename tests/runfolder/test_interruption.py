"""A real training command stopped by signals: Ctrl-C and SIGTERM save and exit 130 / 143, SIGKILL
loses only the epochs since the last checkpoint; each is then resumed."""

import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, made_up_rows, newest_checkpoint, write_rows
from looptrain.runfolder.history import read_history

SHRUNK = ["--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100", "--dots"]


def start(tmp_path, *arguments):
    """Start Tiny, practically endless (early stopping never ends it), in the background."""
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    command = [sys.executable, "-m", "looptrain.run", str(REPO / "experiments" / "tiny.py"),
               "--data", str(data_path), "--logdir", str(tmp_path / "runs"), *SHRUNK, *arguments]
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(process, checkpoints, number, timeout=120):
    """Wait until the run has saved a checkpoint after `number` epochs or later: proof that it trains."""
    deadline = time.monotonic() + timeout
    while newest_checkpoint(checkpoints) < number:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the run never reached its checkpoint"
        time.sleep(0.2)


@pytest.mark.parametrize("signal_number, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_everything_and_the_run_resumes(tmp_path, signal_number, exit_code):
    run_dir = tmp_path / "runs" / "tiny"
    process = start(tmp_path, "--max-epochs", "100000", "--set", "patience=100000", "--set", "checkpoint_every=3")
    wait_for_checkpoint(process, run_dir / "checkpoints", 3)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == exit_code
    assert "to resume: " in stderr and "--resume" in stderr
    done = len(read_history(run_dir / "history.csv")["epoch"])
    assert done >= 3
    assert newest_checkpoint(run_dir / "checkpoints") == done  # saved at the very epoch it stopped
    assert (run_dir / "best.weights.h5").is_file() and (run_dir / "curves.png").is_file()

    before = read_history(run_dir / "history.csv")
    command = shlex.split(stderr.split("to resume: ")[1])  # python -m looptrain.run ... --resume
    command[0] = sys.executable
    resumed = subprocess.run(command + ["--max-epochs", str(done + 2)], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = read_history(run_dir / "history.csv")
    assert after["epoch"] == list(range(done + 2))
    for name in ("binary_crossentropy", "val_binary_crossentropy"):
        assert after[name][:done] == before[name]


def test_sigkill_loses_only_the_epochs_since_the_last_checkpoint(tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    process = start(tmp_path, "--max-epochs", "100000", "--set", "patience=100000", "--set", "checkpoint_every=4")
    wait_for_checkpoint(process, run_dir / "checkpoints", 8)
    process.kill()
    process.communicate(timeout=60)
    assert not (run_dir / "history.csv").exists()  # a run killed outright writes nothing more...
    saved = newest_checkpoint(run_dir / "checkpoints")
    assert saved >= 8 and saved % 4 == 0  # ...but its last checkpoint is whole

    resumed = start(tmp_path, "--max-epochs", str(saved + 1), "--resume")
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert read_history(run_dir / "history.csv")["epoch"] == list(range(saved + 1))


def test_a_second_ctrl_c_stops_at_once_and_leaves_no_half_file(tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    process = start(tmp_path, "--max-epochs", "100000", "--set", "patience=100000", "--set", "checkpoint_every=3")
    wait_for_checkpoint(process, run_dir / "checkpoints", 3)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    if (run_dir / "history.csv").exists():  # whole, if it got that far
        history = read_history(run_dir / "history.csv")
        assert history["epoch"] == list(range(len(history["epoch"])))
    saved = newest_checkpoint(run_dir / "checkpoints")
    resumed = start(tmp_path, "--max-epochs", str(saved + 1), "--resume")
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert read_history(run_dir / "history.csv")["epoch"] == list(range(saved + 1))
