"""Training under tf.distribute, on one machine's CPU: two replicas end where one device ends, the
wrong loss scalings do not, two worker processes train through the real command as one, and when one
of them is killed the other stops with one line and exit code 4."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, assert_one_line_error, replica_results
from looptrain.data import cache
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop.lost_worker import worker_lost
from looptrain.run import main
from looptrain.runfolder.history import COLUMNS, read_history
from looptrain.train import train

SHRUNK = {"n_validation": 200, "n_train": 800, "batch_size": 100, "max_epochs": 2}


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """Every case's weights from `mirrored_training.py`, run in a process of its own: {case: [arrays]}."""
    out = tmp_path_factory.mktemp("mirrored") / "weights.npz"
    return replica_results("mirrored_training.py", out)


def same_weights(ours, theirs) -> bool:
    # Two replicas sum a batch's gradient in another order than one device, and Adam divides by the
    # gradient's own size, so a weight whose gradient is near zero can take that rounding into a step:
    # the tolerance is a thousandth of one Adam step (the rate, 1e-3), where the teeth below are
    # thousands of times larger.
    return all(np.allclose(mine, other, rtol=1e-5, atol=1e-6) for mine, other in zip(ours, theirs))


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


def test_the_weights_average_of_two_replicas_is_that_of_one_device(weights):
    average = weights["l2/adam/average/mirrored"]
    assert same_weights(average, weights["l2/adam/average/one device"])
    # The check has teeth: the average is not the weights it averages.
    assert not same_weights(average, weights["l2/adam/mirrored"])


def test_two_replicas_in_bfloat16_end_where_one_device_in_bfloat16_ends(weights):
    """bfloat16 keeps 8 bits of a number: each replica rounds its half of a batch's gradient, one device
    the whole, so the two differ by bfloat16's rounding, as bfloat16 differs from float32 itself; a
    gradient summed wrongly would be off by as much as the weights moved."""
    initial = flat(weights["medium/initial"])
    one, two = flat(weights["medium/sgd/mixed_bfloat16/one device"]), flat(weights["medium/sgd/mixed_bfloat16/mirrored"])
    float32 = flat(weights["medium/sgd/float32/one device"])
    moved = np.linalg.norm(one - initial)
    assert np.linalg.norm(two - one) < 0.02 * moved
    assert 0 < np.linalg.norm(one - float32) < 0.02 * moved  # bfloat16 did compute, and that closely
    assert same_weights(weights["medium/sgd/float32/mirrored"], weights["medium/sgd/float32/one device"])


@pytest.mark.parametrize("field, value, why", [
    ("clip_global_norm", "1.0", "each replica's share of the gradients"),
    ("accumulate", "2", "a checkpoint keeps one replica's"),
    ("precision", "mixed_float16", "only when the first replica's gradients overflow"),
    ("label_noise", "0.2", "measured by a pass the distributed epoch does not make"),
])
def test_what_the_loop_cannot_do_under_a_strategy_is_refused_before_anything_trains(tmp_path, capsys, field,
                                                                                     value, why):
    assert_one_line_error(main, [str(REPO / "experiments" / "tiny.py"), "--distribute", "mirrored", "--set",
                                 f"{field}={value}", "--logdir", str(tmp_path / "runs")], capsys,
                          f"--distribute cannot train with {field}={value}: .*{why}")
    assert not (tmp_path / "runs").exists()


def test_a_sweep_point_the_loop_cannot_do_under_a_strategy_is_refused_before_the_first_point_trains(tmp_path,
                                                                                                   capsys):
    assert_one_line_error(main, [str(REPO / "experiments" / "tiny.py"), "--distribute", "mirrored", "--sweep",
                                 "accumulate=1,2", "--logdir", str(tmp_path / "runs")], capsys,
                          "--sweep accumulate=2: --distribute cannot train with accumulate=2")
    assert not (tmp_path / "runs").exists()


def free_ports(count):
    """Ports nobody listens on now: the system picks each when we bind port 0."""
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("localhost", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def start_two_workers(tmp_path, *options) -> list[subprocess.Popen]:
    """Tiny, shrunk, trained by two worker processes through the real command, in tmp_path/worker0/
    (the chief) and tmp_path/worker1/, each with its stderr in stderr.txt there. The caller stops them."""
    cache_folder = tmp_path / "cache"
    # Written once, before the workers start, so that they do not both write it at once.
    cache.synthetic_file(SHRUNK["n_validation"] + SHRUNK["n_train"], 0, cache_folder)
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    command = [sys.executable, "-m", "looptrain.run", str(REPO / "experiments" / "tiny.py"), "--distribute",
               "multiworker", "--dots", "--logdir", "runs",
               *[word for field in ("n_validation", "n_train", "batch_size") for word in
                 ("--set", f"{field}={SHRUNK[field]}")], *options]
    workers = []
    try:
        for index in (0, 1):
            folder = tmp_path / f"worker{index}"
            (folder / "tmp").mkdir(parents=True)
            environment = {**os.environ, "PYTHONPATH": str(REPO), "LOOPTRAIN_CACHE": str(cache_folder),
                           "TMPDIR": str(folder / "tmp"),  # where a worker's temporary checkpoints go
                           "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
            # stderr to a file, not a pipe: a full pipe would stall one worker, and the other with it.
            with open(folder / "stderr.txt", "w") as stderr:
                workers.append(subprocess.Popen(command, cwd=folder, env=environment, stdout=subprocess.DEVNULL,
                                                stderr=stderr))
    except BaseException:
        stop(workers)
        raise
    return workers


def stop(workers):
    """Kill whichever workers still run, and reap them all."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def test_two_workers_train_tiny_through_the_command_and_only_the_chief_writes(tmp_path):
    workers = start_two_workers(tmp_path, "--max-epochs", "2")
    try:
        for worker in workers:
            worker.wait(timeout=180)
    finally:
        stop(workers)
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
    data_path = cache.synthetic_file(SHRUNK["n_validation"] + SHRUNK["n_train"], 0, tmp_path / "cache")
    one_device = train(experiment, data_path, tmp_path / "one-device" / "tiny", DotsReporter())
    history = read_history(chief / "history.csv")
    assert history["epoch"] == [0, 1]
    for column in COLUMNS[1:-1]:  # all but `epoch` and the wall-clock `seconds`
        np.testing.assert_allclose(history[column], [epoch[column] for epoch in one_device.epochs], rtol=1e-5,
                                   err_msg=column)


def test_when_a_worker_is_killed_the_chief_stops_with_one_line_and_exit_code_4(tmp_path):
    # Far more epochs than the test lasts, and a checkpoint after each, so that the kill comes mid-run.
    workers = start_two_workers(tmp_path, "--max-epochs", "10000", "--set", "checkpoint_every=1")
    chief = tmp_path / "worker0" / "runs" / "tiny"
    try:
        deadline = time.monotonic() + 120  # the workers' start, TensorFlow's import included, is most of it
        while not (chief / "checkpoints" / "checkpoint").is_file():
            assert workers[0].poll() is None and time.monotonic() < deadline, \
                (tmp_path / "worker0" / "stderr.txt").read_text()[-3000:]
            time.sleep(0.2)
        workers[1].send_signal(signal.SIGKILL)
        # TensorFlow notices at the next all-reduce, or within its heartbeats' timeout (about 10 s).
        code = workers[0].wait(timeout=60)
    finally:
        stop(workers)

    # TensorFlow's C++ runtime logs the aborted all-reduce itself, as ERROR lines ("E0000 ...
    # ring_alg.cc ...", messages of several lines), which TF_CPP_MIN_LOG_LEVEL=2 lets through. So
    # ours is the last line and the only one of looptrain's, and no traceback comes before it.
    stderr = (tmp_path / "worker0" / "stderr.txt").read_text()
    lines = stderr.splitlines()
    assert code == 4, stderr[-3000:]
    assert [line for line in lines if line.startswith("looptrain:")] == lines[-1:], stderr[-3000:]
    assert "Traceback" not in stderr
    assert lines[-1].startswith("looptrain: error: Tiny: the cluster lost worker 1 (UnavailableError: ")
    assert lines[-1].endswith(f"Restart every worker with --resume to carry on from the last checkpoint in "
                              f"{Path('runs') / 'tiny' / 'checkpoints'}")
    # Nothing that could pass for a finished run: only what was there from the start, and checkpoints.
    assert sorted(path.name for path in chief.iterdir()) == ["checkpoints", "config.json", "train", "validation"]


# What a worker's all-reduce raised when the other worker was killed, depending on when: TensorFlow's
# heartbeats missed it, its connection was reset mid-step, or that happened inside a graph (the eval step).
HEARTBEATS = ("{{function_node __wrapped__CollectiveReduceV2_Nordering_token_1_device_/job:worker/replica:0/task:0/"
              "device:CPU:0}} Collective ops is aborted by: Error reported from /job:worker/task:1: The following "
              "tasks are unhealthy (stopped sending heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have "
              "crashed. Check the task logs for an earlier error, or scheduler events (e.g. preemption, eviction) "
              "to debug further.\nThe error could be from a previous operation. Restart your program to reset. "
              "[Op:CollectiveReduceV2] name: ")
RESET = ("{{function_node __wrapped__CollectiveReduceV2_Nordering_token_1_device_/job:worker/replica:0/task:0/"
         "device:CPU:0}} Collective ops is aborted by: recvmsg:Connection reset by peer\nAdditional GRPC error "
         "information from remote target /job:worker/replica:0/task:1 while calling /tensorflow.WorkerService/"
         "RecvBuf:\n:UNKNOWN:Error received from peer  {grpc_message:\"recvmsg:Connection reset by peer\", "
         "grpc_status:14}\nThe error could be from a previous operation. Restart your program to reset. "
         "[Op:CollectiveReduceV2] name: ")
IN_A_GRAPH = ("Graph execution error:\n\nDetected at node CollectiveGatherV2 defined at (most recent call last):\n"
              '  File "looptrain/loop/distribute.py", line 98, in distributed_eval_step\n\nCollective ops is aborted by: '
              "recvmsg:Connection reset by peer\nAdditional GRPC error information from remote target "
              "/job:worker/replica:0/task:1 while calling /tensorflow.WorkerService/RecvBuf:\n\t "
              "[[{{node CollectiveGatherV2}}]] [Op:__inference_distributed_eval_step_2101]")


def worker_of_two(index):
    """What `worker_lost` asks of a strategy, for worker `index` of a cluster of two workers."""
    cluster = tf.train.ClusterSpec({"worker": ["localhost:1", "localhost:2"]})
    return SimpleNamespace(cluster_resolver=tf.distribute.cluster_resolver.SimpleClusterResolver(
        cluster, task_type="worker", task_id=index))


@pytest.mark.parametrize("message, said", [
    (HEARTBEATS, "Collective ops is aborted by: Error reported from /job:worker/task:1: The following tasks are "
                 "unhealthy (stopped sending heartbeats)"),
    (RESET, "Collective ops is aborted by: recvmsg:Connection reset by peer"),
    (IN_A_GRAPH, "Collective ops is aborted by: recvmsg:Connection reset by peer"),
])
def test_the_lost_worker_line_names_the_worker_and_what_tensorflow_said(tmp_path, message, said):
    error = tf.errors.UnavailableError(None, None, message)
    assert str(worker_lost("Tiny", error, worker_of_two(0), tmp_path / "tiny")) == (
        f"Tiny: the cluster lost worker 1 (UnavailableError: {said}); training is synchronous, so this worker "
        f"stops too. No checkpoint was saved yet: start every worker again, without --resume")


def test_a_worker_other_than_the_chief_points_to_the_chiefs_checkpoints(tmp_path):
    error = tf.errors.UnavailableError(None, None, "Collective ops is aborted by: recvmsg:Connection reset by peer\n"
                                       "Additional GRPC error information from remote target "
                                       "/job:worker/replica:0/task:0 while calling /tensorflow.WorkerService/RecvBuf:")
    assert str(worker_lost("Tiny", error, worker_of_two(1), tmp_path / "tiny")).endswith(
        f"the cluster lost worker 0 (UnavailableError: Collective ops is aborted by: recvmsg:Connection reset by "
        f"peer); training is synchronous, so this worker stops too. Restart every worker with --resume to carry "
        f"on from the chief's last checkpoint in {tmp_path / 'tiny' / 'checkpoints'}")


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
