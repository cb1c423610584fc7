"""A cluster that lost a worker: TensorFlow's error, read into one line that says how to carry on.

Training under `--distribute multiworker` is synchronous, so when one worker stops answering the
others stop too, with TensorFlow's `UnavailableError` (docs/distributed.md). Here is which errors
mean that, and the line that names the lost worker, says what TensorFlow reports and points to the
checkpoint to resume from. What is not here: the strategy itself (`distribute`), and the exit code
(the command line's).
"""

import re
from pathlib import Path

import tensorflow as tf

from looptrain.errors import WorkerLost
from looptrain.loop.distribute import is_chief


def lost_worker_errors(multiworker: bool) -> tuple[type[Exception], ...]:
    """The errors that mean a worker was lost: in a cluster, one that stops answering reaches the
    others as UnavailableError, which the aborted all-reduce and TensorFlow's own health checks both
    say. Anywhere else that error is a bug and keeps its traceback, so without a cluster the tuple is
    empty and an `except` of it catches nothing."""
    return (tf.errors.UnavailableError,) if multiworker else ()


def worker_lost(name: str, error: tf.errors.OpError, strategy: tf.distribute.Strategy, folder: Path) -> WorkerLost:
    """The one line for a cluster that lost a worker: which worker, when TensorFlow's message names it
    (as /job:worker/replica:0/task:1), what TensorFlow says happened, and how to carry on. The run
    stopped in the middle, so `train` wrote neither history.csv nor the best weights: only checkpoints
    remain."""
    resolver = strategy.cluster_resolver
    # Every task the message names but this one, which its opening {{function_node ...}} names too.
    tasks = {(job, int(index)) for job, index in re.findall(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)", error.message)}
    lost = " and ".join(f"{job} {index}" for job, index in sorted(tasks - {(resolver.task_type, resolver.task_id)}))
    checkpoints = folder / "checkpoints"
    if not is_chief(strategy):  # the run folder, and its checkpoints, are the chief's
        carry_on = f"Restart every worker with --resume to carry on from the chief's last checkpoint in {checkpoints}"
    elif tf.train.latest_checkpoint(str(checkpoints)):
        carry_on = f"Restart every worker with --resume to carry on from the last checkpoint in {checkpoints}"
    else:
        carry_on = "No checkpoint was saved yet: start every worker again, without --resume"
    return WorkerLost(f"{name}: the cluster lost {lost or 'a worker'} ({type(error).__name__}: "
                      f"{what_happened(error.message)}); training is synchronous, so this worker stops too. {carry_on}")


def what_happened(message: str) -> str:
    """The first line of TensorFlow's error message that says what went wrong, e.g. "Collective ops is
    aborted by: recvmsg:Connection reset by peer". Skipped before it: the {{function_node ...}} it
    failed in, and for an error inside a graph, the "Graph execution error:" heading and the Python
    lines that defined the failing node ("Detected at node ... defined at", then indented lines)."""
    message = re.sub(r"^\{\{.*?\}\}\s*", "", message)
    for line in message.splitlines():
        if line.strip() and not line[0].isspace() and line != "Graph execution error:" \
                and not line.startswith("Detected at node"):
            return line.rstrip(": ")
    return "no message"
