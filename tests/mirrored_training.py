"""Run by `test_distribute.py` in a process of its own: train the same models from the same weights
over the same global batches on one device and under `MirroredStrategy` with two replicas, with the
train step's loss scaling as it is and as it would be if done wrong, with the weights' average and in
bfloat16, and save every case's weights.

Its own process, because the CPU is split into two logical devices here, which TensorFlow allows
only before it has set up its devices; in pytest's process other tests have done that long before.

    python tests/mirrored_training.py OUT.npz
"""

import contextlib
import sys
from unittest import mock

import tensorflow as tf

tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from conftest import REPO  # noqa: E402
from looptrain.data.simulation import synthetic  # noqa: E402
from looptrain.experiment import load_experiment  # noqa: E402
from looptrain.loop import precision, weight_average  # noqa: E402
from looptrain.loop.distribute import distribute_dataset  # noqa: E402
from looptrain.loop.optimizer import make_optimizer  # noqa: E402
from looptrain.loop.step import make_metrics, make_steps  # noqa: E402

GLOBAL_BATCH, STEPS = 100, 8


def global_batches():
    rows = synthetic.generate(GLOBAL_BATCH * STEPS, seed=5).astype("float32")
    return tf.data.Dataset.from_tensor_slices((rows[:, 1:], rows[:, :1])).batch(GLOBAL_BATCH)


def train(name, initial_weights, optimizer_name, strategy=None, precision_name="float32", average=0.0):
    """The weights after STEPS train steps from `initial_weights`, on one device or under `strategy`;
    with `average`, the weights' moving average, swapped into the model as the validation sees them."""
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = precision.build_model(load_experiment(REPO / "experiments" / f"{name}.py").build_model, precision_name)
        model.set_weights(initial_weights)
        optimizer = (make_optimizer(1e-3, 4, weight_average=average) if optimizer_name == "adam"
                     else keras.optimizers.SGD(0.5 if name == "tiny" else 0.1))
        optimizer.build(model.trainable_variables)  # in the scope, as `train.train` does: then mirrored
        swap = weight_average.make_swap(model, optimizer)
        metrics = make_metrics()
    steps = make_steps(model, optimizer, metrics, GLOBAL_BATCH, strategy)
    batches = global_batches()
    if strategy is not None:  # each global batch of 100 rows becomes two replicas' batches of 50
        batches = distribute_dataset(strategy, batches)
    for features, labels in batches:
        steps.train(features, labels)
    if swap is not None:
        tf.function(swap)()
    return model.get_weights()


def main(out):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    weights = {"replicas": [np.array(strategy.num_replicas_in_sync)]}
    for name in ("tiny", "l2", "medium"):
        keras.utils.set_random_seed(0)
        weights[f"{name}/initial"] = load_experiment(REPO / "experiments" / f"{name}.py").build_model().get_weights()
    for name, optimizer in [("tiny", "adam"), ("l2", "adam"), ("tiny", "sgd")]:
        initial = weights[f"{name}/initial"]
        weights[f"{name}/{optimizer}/one device"] = train(name, initial, optimizer)
        weights[f"{name}/{optimizer}/mirrored"] = train(name, initial, optimizer, strategy)
    # The weights' average, and bfloat16 (by SGD, which steps by the gradient itself, so that a
    # gradient summed wrongly would show; Medium, which SGD does not blow up).
    for where, distributed in [("one device", None), ("mirrored", strategy)]:
        weights[f"l2/adam/average/{where}"] = train("l2", weights["l2/initial"], "adam", distributed, average=0.9)
        for precision_name in ("float32", "mixed_bfloat16"):
            weights[f"medium/sgd/{precision_name}/{where}"] = train(
                "medium", weights["medium/initial"], "sgd", distributed, precision_name)

    # Wrong: every replica adds the whole penalty, so the sum counts it twice against the data loss.
    with mock.patch.object(tf.nn, "scale_regularization_loss", lambda penalty: penalty):
        weights["l2/adam/mirrored, penalty not scaled"] = train("l2", weights["l2/initial"], "adam", strategy)
    # Wrong: every replica averages its own rows, as one device would, so the summed gradient is twice
    # the global batch's. (Tiny has no penalty, so this is the whole gradient doubled.)
    per_replica_mean = lambda losses, global_batch_size=None: tf.reduce_mean(losses)  # noqa: E731
    with mock.patch.object(tf.nn, "compute_average_loss", per_replica_mean):
        for optimizer in ("sgd", "adam"):
            weights[f"tiny/{optimizer}/mirrored, per-replica mean"] = train(
                "tiny", weights["tiny/initial"], optimizer, strategy)

    np.savez(out, **{f"{case}|{index}": array for case, arrays in weights.items()
                     for index, array in enumerate(arrays)})


if __name__ == "__main__":
    main(sys.argv[1])
