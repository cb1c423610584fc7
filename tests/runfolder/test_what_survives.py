"""The filesystem fighting back, through the real command: nothing looptrain did not write is touched,
one folder has one writer, a refused write is one line and keeps what was complete, a damaged
checkpoint is survived. Each test checks the exit code, that stderr is one line without a traceback,
what survived, and that no temporary file is left behind.

A full disk is a small tmpfs (which needs root; those tests skip with the reason where it cannot be
mounted); a file too large is `RLIMIT_FSIZE` with SIGXFSZ ignored, which any user can set.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

from conftest import REPO, made_up_rows, newest_checkpoint, write_rows
from looptrain.errors import WriteFailed
from looptrain.runfolder import files, ownership
from looptrain.runfolder.history import read_history

# Tiny, shrunk, without XLA: these tests are about files, and the compiler would only add seconds.
SHRUNK = ["--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100", "--set", "jit_compile=false",
          "--dots"]
ENDLESS = ["--max-epochs", "100000", "--set", "patience=100000"]  # early stopping never ends it
# What a write cut short leaves: ours (partial.*), the cache's (*.partial), TensorFlow's (ckpt-N_temp,
# checkpoint.tmp...).
DEBRIS = re.compile(r"partial\..*|.*\.partial|ckpt-\d+_temp|checkpoint\.tmp.*")


TINY = REPO / "experiments" / "tiny.py"


def command(tmp_path, *arguments, experiment=TINY):
    data_path = tmp_path / "rows.csv.gz"
    if not data_path.exists():
        write_rows(data_path, made_up_rows(500))
    return [sys.executable, "-m", "looptrain.run", str(experiment), "--data", str(data_path), *SHRUNK, *arguments]


def run(tmp_path, *arguments, file_size_limit=None, experiment=TINY):
    """The command to its end; with `file_size_limit`, no file it writes may grow past that many bytes."""
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(command(tmp_path, *arguments, experiment=experiment), cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, preexec_fn=limit_file_size if file_size_limit else None)


def start(tmp_path, *arguments):
    return subprocess.Popen(command(tmp_path, *arguments), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(process, checkpoints: Path, timeout=120):
    deadline = time.monotonic() + timeout
    while not (checkpoints / "checkpoint").exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the run never saved a checkpoint"
        time.sleep(0.1)


def one_line(stderr: str) -> str:
    [line] = stderr.splitlines()  # one line, no traceback
    assert line.startswith("looptrain: error: ")
    return line


def debris(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if DEBRIS.fullmatch(path.name)]


def epochs_without_time(history: dict) -> list[tuple]:
    return list(zip(*[values for name, values in history.items() if name != "seconds"]))


def all_values_read(checkpoint: str) -> bool:
    reader = tf.train.load_checkpoint(checkpoint)
    return all(reader.get_tensor(name) is not None for name in reader.get_variable_to_shape_map())


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB filesystem of its own at tmp_path/disk, to fill up or to make read-only."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up ({mounted.stderr.strip() or 'mount failed'}); needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


# 1. Nothing foreign is deleted or overwritten.

def test_a_logdir_whose_experiment_folder_is_the_users_is_refused_before_anything_trains(tmp_path):
    users = tmp_path / "runs" / "tiny"
    users.mkdir(parents=True)
    (users / "thesis.tex").write_text("years of work")
    (users / "figures").mkdir()
    finished = run(tmp_path, "--logdir", "runs")
    assert finished.returncode == 2
    line = one_line(finished.stderr)
    assert "runs/tiny holds figures/, thesis.tex, which looptrain did not write" in line
    assert "choose another --logdir, or remove the folder yourself" in line
    assert sorted(path.name for path in users.iterdir()) == ["figures", "thesis.tex"]
    assert (users / "thesis.tex").read_text() == "years of work"


def test_a_comparison_picture_that_is_not_looptrains_is_refused_before_anything_trains(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "comparison.png").write_bytes(b"\x89PNG the user's own picture")
    two = command(tmp_path, "--logdir", "runs")
    two.insert(4, str(REPO / "experiments" / "small.py"))  # beside tiny.py
    finished = subprocess.run(two, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 2
    assert "runs/comparison.png exists and looptrain did not write it" in one_line(finished.stderr)
    assert (tmp_path / "runs" / "comparison.png").read_bytes() == b"\x89PNG the user's own picture"
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == ["comparison.png"]  # no run began


def test_looptrains_own_pictures_carry_its_signature(tmp_path):
    import matplotlib.pyplot as plt

    from looptrain.results.pictures import save

    for suffix in ("png", "svg", "pdf"):
        figure, axes = plt.subplots()
        axes.plot([0, 1])
        save(figure, tmp_path / f"picture.{suffix}")
        assert ownership.carries_signature(tmp_path / f"picture.{suffix}")
    figure, axes = plt.subplots()
    figure.savefig(tmp_path / "theirs.png")  # matplotlib's own, unsigned
    assert not ownership.carries_signature(tmp_path / "theirs.png")


# 2. One folder, one process.

def test_a_second_run_into_a_busy_folder_is_refused_and_a_dead_runs_lock_is_taken_over(tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    first = start(tmp_path, "--logdir", "runs", *ENDLESS, "--set", "checkpoint_every=20")
    try:
        wait_for_checkpoint(first, run_dir / "checkpoints")
        config_before = (run_dir / "config.json").read_text()
        second = run(tmp_path, "--logdir", "runs", "--max-epochs", "3")
        assert second.returncode == 2
        line = one_line(second.stderr)
        assert re.search(rf"runs/tiny is being written by process {first.pid} \(since [\d\-T:]+\): wait for it to "
                         r"end, or choose another --logdir", line), line
        assert first.poll() is None  # the first run goes on, untouched
        assert (run_dir / "config.json").read_text() == config_before
    finally:
        first.kill()  # SIGKILL: no clean-up, the lock file stays behind
        first.communicate(timeout=60)
    assert (run_dir / ".lock").exists()

    saved = newest_checkpoint(run_dir / "checkpoints")  # what the resume starts from: killed, TensorFlow's list may lag
    resumed = run(tmp_path, "--logdir", "runs", "--resume", "--max-epochs", str(saved + 5), "--set", "patience=100000")
    assert resumed.returncode == 0, resumed.stderr
    assert f"was left locked by process {first.pid}" in resumed.stdout and "which no longer runs: taking it over" \
        in resumed.stdout
    assert read_history(run_dir / "history.csv")["epoch"] == list(range(saved + 5))
    assert not (run_dir / ".lock").exists() and debris(run_dir) == []


# 3. A write that fails is one line and keeps what was good.

def test_a_disk_that_fills_during_a_run_keeps_the_last_good_checkpoint_and_the_run_resumes(small_disk, tmp_path):
    run_dir = small_disk / "runs" / "tiny"
    process = start(tmp_path, "--logdir", str(small_disk / "runs"), *ENDLESS, "--set", "checkpoint_every=50")
    wait_for_checkpoint(process, run_dir / "checkpoints")
    with pytest.raises(OSError, match="No space left on device"), open(small_disk / "filler", "wb") as filler:
        while True:
            filler.write(bytes(2 ** 20))
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 5
    line = one_line(stderr)
    assert re.search(rf"Tiny: cannot write .*: No space left on device; the run stopped after epoch \d+; kept in "
                     rf"{run_dir}: checkpoint ckpt-(\d+).*; once the disk can take it, --resume carries on", line), line
    kept = int(re.search(r"checkpoint ckpt-(\d+)", line).group(1))
    assert kept >= 50 and kept % 50 == 0
    assert Path(tf.train.latest_checkpoint(str(run_dir / "checkpoints"))).name == f"ckpt-{kept}"
    assert all_values_read(str(run_dir / "checkpoints" / f"ckpt-{kept}"))
    assert debris(run_dir) == [] and not (run_dir / ".lock").exists()

    (small_disk / "filler").unlink()
    resumed = run(tmp_path, "--logdir", str(small_disk / "runs"), "--resume", "--max-epochs", str(kept + 5),
                  "--set", "patience=100000")
    assert resumed.returncode == 0, resumed.stderr
    assert read_history(run_dir / "history.csv")["epoch"] == list(range(kept + 5))


def test_a_read_only_logdir_is_one_line_and_exit_code_5(small_disk, tmp_path):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    finished = run(tmp_path, "--logdir", str(small_disk / "runs"), "--max-epochs", "2")
    assert finished.returncode == 5
    assert one_line(finished.stderr) == f"looptrain: error: cannot write {small_disk}/runs/tiny: Read-only file system"


def test_a_checkpoint_too_large_to_write_leaves_no_debris_and_the_history_is_still_written(tmp_path):
    # 60,001 weights: the checkpoint holds them four times (the weights, Adam's two moments, the best
    # weights), about 1 MB, over the limit; the weights file holds them once, under it.
    (tmp_path / "wide.py").write_text('"""Wide: one hidden layer of 2,000 units."""\n'
                                      "from looptrain.models.mlp import mlp\n\n\ndef build_model():\n"
                                      "    return mlp([2000])\n")
    finished = run(tmp_path, "--logdir", "runs", "--max-epochs", "4", "--set", "checkpoint_every=2",
                   "--set", "histogram_every=0", experiment=tmp_path / "wide.py", file_size_limit=500_000)
    assert finished.returncode == 5, finished.stderr
    run_dir = Path("runs") / "wide"  # as the command names it: below the --logdir it was given
    assert one_line(finished.stderr) == (
        f"looptrain: error: Wide: cannot write {run_dir}/checkpoints/ckpt-2: File too large; the run stopped after "
        f"epoch 1; kept in {run_dir}: history.csv, best.weights.h5, final.weights.h5, curves.png; once the disk can take it, "
        f"run it again")
    assert read_history(tmp_path / run_dir / "history.csv")["epoch"] == [0, 1]
    assert list((tmp_path / run_dir / "checkpoints").iterdir()) == []  # none was whole, none is left half-made
    assert debris(tmp_path / run_dir) == []


def test_a_summary_or_a_picture_too_large_to_write_is_one_line_and_the_rest_is_kept(tmp_path):
    # Kernel histograms every epoch make the event file of train/ outgrow 30 kB within a few epochs;
    # everything else a short Tiny run writes stays under it.
    summary = run(tmp_path, "--logdir", "runs", *ENDLESS, "--set", "histogram_every=1", "--set", "checkpoint_every=5",
                  file_size_limit=30_000)
    assert summary.returncode == 5, summary.stderr
    line = one_line(summary.stderr)
    assert re.search(r"Tiny: cannot write the TensorBoard events in runs/tiny(/train)?: File too large; the run "
                     r"stopped after epoch (\d+); kept in runs/tiny: checkpoint ckpt-\d+, history.csv, "
                     r"best.weights.h5", line), line
    stopped = int(re.search(r"after epoch (\d+)", line).group(1))
    assert read_history(tmp_path / "runs" / "tiny" / "history.csv")["epoch"] == list(range(stopped + 1))
    assert debris(tmp_path / "runs" / "tiny") == []

    # A plain curves picture is some 40 kB; the history, the weights and the checkpoints of a 3-epoch
    # Tiny run stay under 20 kB.
    picture = run(tmp_path, "--logdir", "runs", "--max-epochs", "3", "--set", "histogram_every=0",
                  file_size_limit=20_000)
    assert picture.returncode == 5, picture.stderr
    assert one_line(picture.stderr).startswith(
        "looptrain: error: Tiny: cannot write runs/tiny/curves.png: File too large; the run stopped after epoch 2; "
        "kept in runs/tiny: checkpoint ckpt-3, history.csv, best.weights.h5, final.weights.h5;")
    assert not (tmp_path / "runs" / "tiny" / "curves.png").exists() and debris(tmp_path / "runs" / "tiny") == []


def test_a_weights_file_too_large_to_write_removes_its_partial_file(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((28,)), keras.layers.Dense(1000), keras.layers.Dense(1)])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, hard))  # the soft limit only: raised again below
    try:
        with pytest.raises(WriteFailed, match=f"cannot write {tmp_path}/best.weights.h5: File too large"):
            files.write_whole(tmp_path / "best.weights.h5", model.save_weights)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert list(tmp_path.iterdir()) == []


def test_a_data_cache_that_cannot_be_written_does_not_stop_a_run_on_synthetic_data(tmp_path):
    (tmp_path / "not-a-folder").write_text("LOOPTRAIN_CACHE points below a file")
    environment = {**os.environ, "LOOPTRAIN_CACHE": str(tmp_path / "not-a-folder" / "cache")}
    finished = subprocess.run([sys.executable, "-m", "looptrain.run", str(REPO / "experiments" / "tiny.py"), *SHRUNK,
                               "--logdir", "runs", "--max-epochs", "2", "--set", "n_test=100"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, env=environment)
    assert finished.returncode == 0, finished.stderr
    assert re.search(r"warning: cannot write .*not-a-folder/cache/higgs-synthetic-.*: Not a directory; making the "
                     r"rows in memory for this run instead", finished.stdout), finished.stdout
    config = json.loads((tmp_path / "runs" / "tiny" / "config.json").read_text())
    assert config["data"] == "synthetic rows made in memory (600 rows, seed 0)"
    assert (config["n_train"], config["n_test"]) == (400, 100)


# 4. A damaged checkpoint is survived.

def damage(checkpoints: Path, how: str) -> None:
    data = checkpoints / "ckpt-6.data-00000-of-00001"
    if how == "cut short":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif how == "a shard missing":
        data.unlink()
    else:
        (checkpoints / "ckpt-6.index").write_bytes(b"not a checkpoint index " * 20)


@pytest.fixture(scope="module")
def six_epochs(tmp_path_factory):
    """A run of 6 epochs with checkpoints after 2, 4 and 6, and the same run never stopped, to 9."""
    folder = tmp_path_factory.mktemp("damage")
    stopped = run(folder, "--logdir", "stopped", "--max-epochs", "6", "--set", "checkpoint_every=2")
    straight = run(folder, "--logdir", "straight", "--max-epochs", "9", "--set", "checkpoint_every=2")
    assert stopped.returncode == straight.returncode == 0, stopped.stderr + straight.stderr
    return folder


@pytest.mark.parametrize("how", ["cut short", "a shard missing", "garbage"])
def test_a_damaged_latest_checkpoint_is_passed_over_for_the_one_before_it(six_epochs, tmp_path, how):
    shutil.copytree(six_epochs / "stopped", tmp_path / "runs")
    shutil.copy(six_epochs / "rows.csv.gz", tmp_path)
    damage(tmp_path / "runs" / "tiny" / "checkpoints", how)
    resumed = run(tmp_path, "--logdir", "runs", "--resume", "--max-epochs", "9")
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"warning: Tiny: checkpoint ckpt-6 cannot be read \(.+\); resuming from ckpt-4, the one before "
                     r"it that reads whole", resumed.stdout), resumed.stdout
    history = read_history(tmp_path / "runs" / "tiny" / "history.csv")
    assert history["epoch"] == list(range(9))  # contiguous: epochs 4 and 5 trained again, once each in the history
    # ...and exactly as the run that never stopped: resuming from the older checkpoint loses nothing.
    assert epochs_without_time(history) == epochs_without_time(read_history(six_epochs / "straight" / "tiny" /
                                                                            "history.csv"))


def test_no_readable_checkpoint_is_one_line_saying_how_to_start_afresh(six_epochs, tmp_path):
    shutil.copytree(six_epochs / "stopped", tmp_path / "runs")
    shutil.copy(six_epochs / "rows.csv.gz", tmp_path)
    checkpoints = tmp_path / "runs" / "tiny" / "checkpoints"
    for index in checkpoints.glob("ckpt-*.index"):
        index.write_bytes(b"garbage")
    (checkpoints / "checkpoint").write_text("garbage {{{")  # the list of checkpoints too
    before = {path: path.read_bytes() for path in (tmp_path / "runs").rglob("*") if path.is_file()}
    resumed = run(tmp_path, "--logdir", "runs", "--resume", "--max-epochs", "9")
    assert resumed.returncode == 2
    assert re.search(r"cannot resume: no checkpoint in runs/tiny/checkpoints can be read \(ckpt-6: .+; ckpt-4: .+; "
                     r"ckpt-2: .+\); start afresh without --resume, which replaces the run folder",
                     one_line(resumed.stderr))
    assert {path: path.read_bytes() for path in (tmp_path / "runs").rglob("*") if path.is_file()} == before


def test_files_reason_finds_the_os_words_in_a_tensorflow_message():
    error = tf.errors.ResourceExhaustedError(None, None, "{{function_node __wrapped__SaveV2}} /x/ckpt-1_temp/part; "
                                                         "No space left on device [Op:SaveV2]")
    assert files.reason(error) == "No space left on device"
    assert files.reason(OSError(27, "File too large")) == "File too large"
    assert files.reason(tf.errors.UnknownError(None, None, "{{function_node f}} something odd [Op:X]")) == "something odd"
