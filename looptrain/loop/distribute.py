"""Training on several devices or machines, with TensorFlow's own `tf.distribute`.

`--distribute mirrored` trains on every device of this machine (`MirroredStrategy`), `--distribute
multiworker` on every machine that `TF_CONFIG` lists (`MultiWorkerMirroredStrategy`). Both are
synchronous: every replica holds the whole model, trains on its part of each global batch, and the
replicas' gradients are summed before one shared update. What is here: making the strategy and
checking `TF_CONFIG`, running the steps on every replica and combining their results, handing the
datasets to the strategy, and telling the chief (the one worker that writes the run folder) from the
others. What is not: the loss arithmetic, which is the train step's own (`step.make_steps` divides
by the global batch size and by the number of replicas, identities without a strategy), and the
loop, which runs distributed steps exactly as it runs plain ones.
"""

import json
import os

import tensorflow as tf

from looptrain.errors import InputError


def make_strategy(name: str | None) -> tf.distribute.Strategy | None:
    """The strategy `--distribute` names ("mirrored" or "multiworker"), or None. A
    `MultiWorkerMirroredStrategy` must be made at program start, before TensorFlow runs any op: it
    starts this worker's server and joins the others, which waits until every worker in `TF_CONFIG`
    has started."""
    if name is None:
        return None
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    check_tf_config(os.environ.get("TF_CONFIG"))
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (tf.errors.OpError, RuntimeError, ValueError) as error:  # e.g. this worker's port is taken
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"cannot start this worker of the cluster in TF_CONFIG: {first_line}") from None


def check_tf_config(text: str | None) -> None:
    """Refuse a missing or malformed TF_CONFIG with one line, before TensorFlow reads it. The layout
    is TensorFlow's: {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}
    (a "chief" list besides "worker" is allowed too)."""
    example = '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
    if not text:
        raise InputError(f"--distribute multiworker needs TF_CONFIG, the cluster and this worker's place in it, "
                         f"e.g. {example}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"TF_CONFIG is not JSON ({error.msg} at character {error.pos})") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise InputError(f'TF_CONFIG needs a "cluster" and a "task" object, e.g. {example}')
    for role, addresses in cluster.items():
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(address, str) and address.count(":") == 1 for address in addresses)):
            raise InputError(f'TF_CONFIG: cluster "{role}" must be a list of "host:port" addresses, got {addresses!r}')
    if "worker" not in cluster and "chief" not in cluster:
        raise InputError('TF_CONFIG: the cluster lists no "worker" (nor "chief") addresses')
    role, index = task.get("type"), task.get("index")
    if role not in cluster:
        raise InputError(f'TF_CONFIG: task type {role!r} is not one of the cluster\'s: {", ".join(cluster)}')
    if type(index) is not int or not 0 <= index < len(cluster[role]):
        raise InputError(f'TF_CONFIG: task index must be 0 to {len(cluster[role]) - 1} for the '
                         f'{len(cluster[role])} "{role}" addresses, got {index!r}')


# What the loop cannot do under a strategy, and why: Keras's optimizer does the first three on every
# replica's own part of the gradients, before it adds them up (docs/distributed.md).
UNSUPPORTED = {
    "clip_global_norm": (lambda config: config.clip_global_norm > 0,
                         "Keras would clip each replica's share of the gradients, not their sum"),
    "accumulate": (lambda config: config.accumulate > 1,
                   "each replica's accumulators would hold its own sums, and a checkpoint keeps one replica's"),
    "precision": (lambda config: config.precision == "mixed_float16",
                  "Keras's loss scaling would skip an update only when the first replica's gradients overflow"),
    "label_noise": (lambda config: config.label_noise > 0,
                    "the clean and the flipped training rows are measured by a pass the distributed epoch does not make"),
}


def refuse_unsupported(config) -> None:
    """Refuse, with one line and before anything trains, a configuration field the loop cannot honour
    under a strategy."""
    for field, (applies, why) in UNSUPPORTED.items():
        if applies(config):
            raise InputError(f"--distribute cannot train with {field}={getattr(config, field)}: {why}")


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this process writes the run folder: always without a cluster; in one, the "chief" task,
    or worker 0 when the cluster names no chief (TensorFlow's rule)."""
    resolver = strategy.cluster_resolver if strategy is not None else None
    if resolver is None or resolver.task_type is None:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())


def distribute_dataset(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """`dataset`, of global batches, handed to the strategy: each global batch is split among the
    replicas. Across workers, each worker reads the whole file and keeps its replicas'
    rows of every batch (sharding by data: one file cannot be split by files). For the workers' parts
    to add up to the global batch, they shuffle alike, which the same seed on every worker ensures."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def on_every_replica(strategy: tf.distribute.Strategy, train_step, eval_step):
    """The train and eval steps run by every replica on its part of the batch, with the results
    combined: the train step's data loss and regularization loss are each replica's share, so their
    sum is the global batch's; the eval step's logits are gathered, in the order of the batch's rows.
    The metrics need nothing more: their variables belong to the strategy, which adds up every
    replica's updates."""
    def distributed_train_step(features, labels):
        data_loss, regularization = strategy.run(train_step, args=(features, labels))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, data_loss, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, regularization, axis=None))

    def distributed_eval_step(features, labels):
        return strategy.gather(strategy.run(eval_step, args=(features, labels)), axis=0)

    return distributed_train_step, distributed_eval_step
