"""Sweeps through the real command: one experiment per value of one field, each point a full run in a
folder and a process of its own; bad sweep input refused before anything trains; an interrupted
sweep resumed, keeping the points already done."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, assert_one_line_error, made_up_rows, write_rows
from looptrain.run import main
from looptrain.runfolder.history import read_history

TINY = str(REPO / "experiments" / "tiny.py")
SHRUNK = ["--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100", "--set", "jit_compile=false",
          "--set", "histogram_every=0", "--dots"]


def command(tmp_path, *arguments, experiments=(TINY,)):
    data_path = tmp_path / "rows.csv.gz"
    if not data_path.exists():
        write_rows(data_path, made_up_rows(500))
    return [sys.executable, "-m", "looptrain.run", *experiments, "--data", str(data_path), "--logdir", "runs",
            *SHRUNK, *arguments]


def run(tmp_path, *arguments, experiments=(TINY,)):
    return subprocess.run(command(tmp_path, *arguments, experiments=experiments), cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)


def event_file_pids(run_dir) -> set[int]:
    """The processes that wrote a run's TensorBoard events: TensorFlow names each file
    events.out.tfevents.<time>.<host>.<pid>.<n>.v2."""
    return {int(path.name.split(".")[-3]) for path in (run_dir / "train").iterdir()}


def test_a_sweep_makes_a_full_run_per_value_each_in_a_process_of_its_own(tmp_path):
    finished = run(tmp_path, "--max-epochs", "3", "--sweep", "seed=4,7", experiments=(TINY, str(REPO / "experiments" /
                                                                                              "small.py")))
    assert finished.returncode == 0, finished.stderr
    for name, title in (("tiny", "Tiny"), ("small", "Small")):
        sweep = tmp_path / "runs" / name
        assert sorted(path.name for path in sweep.iterdir()) == ["seed=4", "seed=7", "sweep.json"]
        record = json.loads((sweep / "sweep.json").read_text())
        assert (record["experiment"], record["field"], record["values"], record["done"]) == (title, "seed", [4, 7], [4, 7])
        for seed in (4, 7):
            point = sweep / f"seed={seed}"
            config = json.loads((point / "config.json").read_text())
            assert config["experiment"] == f"{title} seed={seed}" and config["fields"]["seed"] == seed
            assert read_history(point / "history.csv")["epoch"] == [0, 1, 2]
            assert (point / "best.weights.h5").is_file() and (point / "curves.png").is_file()
    # Two seeds give two histories; four runs, four processes, none of them the command's own.
    assert read_history(tmp_path / "runs" / "tiny" / "seed=4" / "history.csv") != \
        read_history(tmp_path / "runs" / "tiny" / "seed=7" / "history.csv")
    pids = [event_file_pids(tmp_path / "runs" / name / f"seed={seed}") for name in ("tiny", "small") for seed in (4, 7)]
    assert all(len(writers) == 1 for writers in pids) and len(set.union(*pids)) == 4
    assert (tmp_path / "runs" / "comparison.png").is_file()
    assert re.search(r"Small seed=7 +│ +3 │", finished.stdout)  # the summary names every point


@pytest.mark.parametrize("sweep, message", [
    ("sede=0,1", "--sweep: unknown field 'sede'"),
    ("seed=0,one", "--sweep seed: expected int, got 'one'"),
    ("seed=0,,1", "--sweep seed: an empty value in '0,,1'"),
    ("seed=", "--sweep seed: an empty value in ''"),
    ("seed=0,1,0", "--sweep seed: the value 0 is given twice"),
    ("dataset=higgs,imdb", "--sweep dataset: a sweep cannot vary it"),
    ("patience=5,-1", "--sweep patience=-1: field 'patience' must not be negative, got -1"),
    ("learning_rate=1e-3,nan", "field 'learning_rate' must be a finite number, got nan"),
    ("units=8,16,0", "--sweep units=0: field 'units' must be positive, got 0"),
    ("units=8,wide", "--sweep units: expected int, got 'wide'"),
    ("depth=1,-2", "--sweep depth=-2: field 'depth' must be positive, got -2"),
    ("label_noise=0.2,1.5", "--sweep label_noise=1.5: field 'label_noise' must be a fraction from 0 to 1, got 1.5"),
])
def test_bad_sweep_input_is_one_line_and_exit_code_2_before_anything_trains(tmp_path, sweep, message, capsys,
                                                                          monkeypatch):
    # The command's `main`, here (the values that only a loaded experiment can check are checked in a
    # process of its own, as ever); test_a_sweep_field_also_set_another_way_is_refused runs the real one.
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(main, command(tmp_path, "--sweep", sweep)[3:], capsys, re.escape(message))
    assert not (tmp_path / "runs").exists()


def test_a_sweep_field_also_set_another_way_is_refused(tmp_path):
    finished = run(tmp_path, "--seed", "3", "--sweep", "seed=0,1")
    assert finished.returncode == 2
    assert "--sweep seed: the command sets it too (--set, --seed or --max-epochs); give it one way" in finished.stderr
    assert not (tmp_path / "runs").exists()


def test_an_interrupted_sweep_resumes_from_the_point_it_stopped_keeping_the_points_done(tmp_path):
    sweep = tmp_path / "runs" / "tiny"
    options = ["--max-epochs", "400", "--set", "patience=400", "--set", "checkpoint_every=20", "--sweep", "seed=0,1,2"]
    process = subprocess.Popen(command(tmp_path, *options), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (sweep / "seed=2" / "checkpoints" / "checkpoint").exists():  # the third point is under way
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # to the command; it passes it on to the point's process
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert json.loads((sweep / "sweep.json").read_text())["done"] == [0, 1]
    resume = re.search(r"to resume: (.*)$", stderr, re.MULTILINE).group(1)
    assert resume.endswith("--sweep seed=0,1,2 --resume") and resume.startswith(f"python -m looptrain.run {TINY}")
    interrupted_at = len(read_history(sweep / "seed=2" / "history.csv")["epoch"])
    assert interrupted_at < 400
    done_before = {seed: (sweep / f"seed={seed}" / "history.csv").read_text() for seed in (0, 1)}
    mtimes = {seed: (sweep / f"seed={seed}" / "history.csv").stat().st_mtime_ns for seed in (0, 1)}

    resumed = subprocess.run([sys.executable, *resume.split()[1:]], cwd=tmp_path, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((sweep / "sweep.json").read_text())["done"] == [0, 1, 2]
    for seed in (0, 1):  # kept, not trained again
        assert (sweep / f"seed={seed}" / "history.csv").read_text() == done_before[seed]
        assert (sweep / f"seed={seed}" / "history.csv").stat().st_mtime_ns == mtimes[seed]
    # The third point carried on from its checkpoint: every epoch once, and more than before.
    assert read_history(sweep / "seed=2" / "history.csv")["epoch"] == list(range(400))
    assert len(event_file_pids(sweep / "seed=2")) == 2  # the interrupted process and the resumed one
    assert all(f"Tiny seed={seed}" in resumed.stdout for seed in (0, 1, 2))  # the summary still has them all

    other = run(tmp_path, *options[:-1], "seed=0,1,2,3", "--resume")
    assert other.returncode == 2
    assert "cannot resume: runs/tiny holds the sweep seed=0,1,2, not seed=0,1,2,3" in other.stderr


def test_a_command_killed_outright_takes_its_runs_process_with_it_and_the_sweep_resumes(tmp_path):
    sweep = tmp_path / "runs" / "tiny"
    options = ["--max-epochs", "300", "--set", "patience=300", "--set", "checkpoint_every=20", "--sweep", "seed=0,1"]
    process = subprocess.Popen(command(tmp_path, *options), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (sweep / "seed=0" / "checkpoints" / "checkpoint").exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    point = json.loads((sweep / "seed=0" / ".lock").read_text())["pid"]  # the point's own process
    assert point != process.pid
    process.kill()
    process.wait(timeout=60)
    while time.monotonic() < deadline and os.path.exists(f"/proc/{point}"):  # it dies with its parent
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{point}")

    resumed = run(tmp_path, *options, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"runs/tiny was left locked by process {process.pid}" in resumed.stdout  # both locks taken over
    assert f"runs/tiny/seed=0 was left locked by process {point}" in resumed.stdout
    for seed in (0, 1):
        assert read_history(sweep / f"seed={seed}" / "history.csv")["epoch"] == list(range(300))
