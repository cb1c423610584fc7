"""Training under tf.distribute, on one machine's CPU: two replicas end where one device ends, the
wrong loss scalings do not, and two worker processes train through the real command as one."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, assert_one_line_error
from looptrain import synthetic
from looptrain.console import DotsReporter
from looptrain.experiment import load_experiment
from looptrain.history import COLUMNS, read_history
from looptrain.run import main
from looptrain.train import train

SHRUNK = {"n_validation": 200, "n_train": 800, "batch_size": 100, "max_epochs": 2}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Every case's weights from `mirrored_training.py`, run in a process of its own: {case: [arrays]}."""
    out = tmp_path_factory.mktemp("mirrored") / "weights.npz"
    finished = subprocess.run([sys.executable, "mirrored_training.py", str(out)], cwd=REPO / "tests",
                              env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    cases = {}
    with np.load(out) as saved:
        for key in sorted(saved.files, key=lambda key: (key.split("|")[0], int(key.split("|")[1]))):
            cases.setdefault(key.split("|")[0], []).append(saved[key])
    return cases


def same_weights(ours, theirs) -> bool:
    return all(np.allclose(mine, other, rtol=1e-5, atol=1e-7) for mine, other in zip(ours, theirs))


def flat(arrays):
    return np.concatenate([array.ravel() for array in arrays]).astype("float64")


@pytest.mark.parametrize("case", ["tiny/adam", "l2/adam", "tiny/sgd"])
def test_two_replicas_end_with_the_weights_of_one_device(weights, case):
    assert int(weights["replicas"][0]) == 2  # the CPU really was split in two
    name = case.split("/")[0]
    assert same_weights(weights[f"{case}/mirrored"], weights[f"{case}/one device"])
    # The check has teeth: the weights moved by far more than the tolerance.
    assert not same_weights(weights[f"{case}/one device"], weights[f"{name}/initial"])


def test_a_penalty_every_replica_adds_whole_is_counted_twice(weights):
    # Against the data loss, under any optimizer: the penalty's pull on the weights doubles.
    assert not same_weights(weights["l2/adam/mirrored, penalty not scaled"], weights["l2/adam/one device"])


def test_replicas_that_average_their_own_rows_double_the_gradient_which_only_sgd_shows(weights):
    # Each replica's mean over its 50 rows, summed over the two replicas, is twice the mean over the
    # global batch's 100: the whole gradient doubles. Plain SGD steps by the gradient, so its weights
    # move about twice as far. Adam steps by m / (sqrt(v) + epsilon), its running means of the gradient
    # and of its square: doubling the gradient doubles both m and sqrt(v), and the step is the same
    # but for epsilon. So a doubled gradient is all but invisible under Adam; only SGD shows it.
    initial = flat(weights["tiny/initial"])
    for optimizer, low, high in [("sgd", 1.5, 2.5), ("adam", 0.99, 1.01)]:
        right = flat(weights[f"tiny/{optimizer}/mirrored"])
        wrong = flat(weights[f"tiny/{optimizer}/mirrored, per-replica mean"])
        assert low < np.linalg.norm(wrong - initial) / np.linalg.norm(right - initial) < high, optimizer
    assert not same_weights(weights["tiny/sgd/mirrored, per-replica mean"], weights["tiny/sgd/one device"])


def free_ports(count):
    """Ports nobody listens on now: the system picks each when we bind port 0."""
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("localhost", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def test_two_workers_train_tiny_through_the_command_and_only_the_chief_writes(tmp_path):
    cache = tmp_path / "cache"
    # Written once, before the workers start, so that they do not both write it at once.
    data_path = synthetic.cached(SHRUNK["n_validation"] + SHRUNK["n_train"], 0, cache)
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    command = [sys.executable, "-m", "looptrain.run", str(REPO / "experiments" / "tiny.py"), "--distribute",
               "multiworker", "--dots", "--logdir", "runs", "--max-epochs", "2",
               *[word for field in ("n_validation", "n_train", "batch_size") for word in
                 ("--set", f"{field}={SHRUNK[field]}")]]
    workers = []
    try:
        for index in (0, 1):
            folder = tmp_path / f"worker{index}"
            (folder / "tmp").mkdir(parents=True)
            environment = {**os.environ, "PYTHONPATH": str(REPO), "LOOPTRAIN_CACHE": str(cache),
                           "TMPDIR": str(folder / "tmp"),  # where a worker's temporary checkpoints go
                           "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
            # stderr to a file, not a pipe: a full pipe would stall one worker, and the other with it.
            with open(folder / "stderr.txt", "w") as stderr:
                workers.append(subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.DEVNULL,
                                                stderr=stderr))
        for worker in workers:
            worker.wait(timeout=180)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for index, worker in enumerate(workers):
        assert worker.returncode == 0, (tmp_path / f"worker{index}" / "stderr.txt").read_text()[-3000:]

    chief = tmp_path / "worker0" / "runs" / "tiny"
    for name in ("config.json", "history.csv", "best.weights.h5", "curves.png", "checkpoints/checkpoint"):
        assert (chief / name).is_file(), name
    assert any((chief / "train").iterdir()) and any((chief / "validation").iterdir())  # TensorBoard's events
    assert json.loads((chief / "config.json").read_text())["fields"]["loop"] == "step"
    assert not (tmp_path / "worker1" / "runs").exists()  # the other worker writes no run folder...
    assert list((tmp_path / "worker1" / "tmp").iterdir()) == []  # ...and removes its own checkpoints

    # The two workers trained as one device does on the same global batches: their rows of each batch
    # add up to the batch, and the same seed gives both the same weights and the same shuffled order.
    experiment = load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "loop": "step"})
    one_device = train(experiment, data_path, tmp_path / "one-device" / "tiny", DotsReporter())
    history = read_history(chief / "history.csv")
    assert history["epoch"] == [0, 1]
    for column in COLUMNS[1:-1]:  # all but `epoch` and the wall-clock `seconds`
        np.testing.assert_allclose(history[column], [epoch[column] for epoch in one_device.epochs], rtol=1e-5,
                                   err_msg=column)


def test_an_unknown_strategy_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert_one_line_error(main, [str(REPO / "experiments" / "tiny.py"), "--distribute", "ring", "--logdir",
                                 str(tmp_path / "runs")], capsys, "argument --distribute: invalid choice: 'ring'")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("tf_config, message", [
    (None, "--distribute multiworker needs TF_CONFIG"),
    ('{"cluster": {"worker": ["localhost:1"]}', "TF_CONFIG is not JSON"),
    ('{"cluster": {"worker": "localhost:1"}, "task": {"type": "worker", "index": 0}}',
     'cluster "worker" must be a list of "host:port" addresses'),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "ps", "index": 0}}', "task type 'ps' is not one"),
    ('{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 2}}',
     "task index must be 0 to 1"),
])
def test_a_bad_tf_config_is_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    assert_one_line_error(main, [str(REPO / "experiments" / "tiny.py"), "--distribute", "multiworker",
                                 "--logdir", str(tmp_path / "runs")], capsys, message)
    assert not (tmp_path / "runs").exists()
