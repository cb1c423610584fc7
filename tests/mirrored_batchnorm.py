"""Run by `test_batchnorm.py` in a process of its own (for the reason `mirrored_training.py` gives):
train Batchnorm from the same weights over the same global batches on one device and under
`MirroredStrategy` with two replicas, with the batch statistics synchronized across the replicas (as
the experiment has them) and per replica; save the weights and each replica's copies of the moving
statistics.

    python tests/mirrored_batchnorm.py OUT.npz
"""

import contextlib
import sys
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from conftest import REPO
from looptrain.experiment import load_experiment
from looptrain.loop.distribute import distribute_dataset
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from mirrored_training import GLOBAL_BATCH, global_batches  # first: it splits the CPU in two

BUILD_MODEL = load_experiment(REPO / "experiments" / "batchnorm.py").build_model


def train(initial_weights, strategy=None):
    """The model after the train steps from `initial_weights`, on one device or under `strategy`."""
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = BUILD_MODEL()
        model.set_weights(initial_weights)
        optimizer = make_optimizer(1e-3, 4)
        optimizer.build(model.trainable_variables)
        metrics = make_metrics()
    steps = make_steps(model, optimizer, metrics, GLOBAL_BATCH, strategy)
    batches = global_batches()
    if strategy is not None:
        batches = distribute_dataset(strategy, batches)
    for features, labels in batches:
        steps.train(features, labels)
    return model


def replica_copies(strategy, model, replica):
    """The moving statistics as `replica` holds them: its own copy of each mirrored variable."""
    return [strategy.experimental_local_results(variable.value)[replica].numpy()
            for variable in model.non_trainable_variables]


def main(out):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    keras.utils.set_random_seed(0)
    initial = BUILD_MODEL().get_weights()
    results = {"replicas": [np.array(strategy.num_replicas_in_sync)], "initial": initial,
               "one device": train(initial).get_weights()}
    synchronized = keras.layers.BatchNormalization
    per_replica = lambda **options: synchronized(**{**options, "synchronized": False})  # noqa: E731
    for case, patch in [("synchronized", contextlib.nullcontext()),
                        ("per replica", mock.patch.object(keras.layers, "BatchNormalization", per_replica))]:
        with patch:
            model = train(initial, strategy)
        results[f"{case}/mirrored"] = model.get_weights()
        for replica in (0, 1):
            results[f"{case}/replica {replica}"] = replica_copies(strategy, model, replica)
    np.savez(out, **{f"{case}|{index}": array for case, arrays in results.items()
                     for index, array in enumerate(arrays)})


if __name__ == "__main__":
    main(sys.argv[1])
