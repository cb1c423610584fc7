"""Batch normalization through looptrain's steps: the training flag's two sides worked out with numpy,
the classic bug of validating in training mode, the moving statistics carried by the best weights,
the checkpoints and a resumed run, and two replicas that normalize as one device does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, replica_results, write_rows
from looptrain.config import Config
from looptrain.data.higgs import load
from looptrain.data.simulation import synthetic
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.models.mlp import mlp
from looptrain.runfolder.history import read_weights
from looptrain.train import train

MOMENTUM, EPSILON = 0.99, 1e-3  # Keras's defaults, which the experiment keeps


def elu(x):
    return np.where(x > 0, x, np.expm1(x))


def numpy_bce_on_logits(labels, logits):
    return np.mean(np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits))))


def small_model():
    """Three inputs, one normalized hidden layer of four units, given weights and moving statistics we know."""
    model = mlp([4], batch_normalization=True, n_inputs=3)
    rng = np.random.default_rng(0)
    kernel, gamma, beta, moving_mean, moving_variance, output_kernel, output_bias = (
        weight.shape for weight in model.get_weights())
    model.set_weights([rng.normal(size=kernel), rng.uniform(0.5, 2, gamma), rng.normal(size=beta),
                       rng.normal(size=moving_mean), rng.uniform(0.5, 2, moving_variance),
                       rng.normal(size=output_kernel), rng.normal(size=output_bias)])
    return model


def numpy_logits(weights, features, mean=None, variance=None):
    """The small model by hand, in float64: normalized with `mean` and `variance`, or the batch's own."""
    kernel, gamma, beta, _, _, output_kernel, output_bias = (weight.astype("float64") for weight in weights)
    sums = features.astype("float64") @ kernel
    mean = sums.mean(axis=0) if mean is None else mean
    variance = sums.var(axis=0) if variance is None else variance  # the batch's: divided by n, not n - 1
    return elu((sums - mean) / np.sqrt(variance + EPSILON) * gamma + beta) @ output_kernel + output_bias, sums


def rows(count, seed):
    generated = synthetic.generate(count, seed=seed).astype("float32")
    return generated[:, 1:], generated[:, :1]


def test_the_train_step_normalizes_with_the_batch_and_moves_the_moving_statistics_towards_it():
    model = small_model()
    steps = make_steps(model, make_optimizer(1e-3, 0), make_metrics())
    features, labels = rows(64, seed=1)
    features = features[:, :3]
    before = model.get_weights()
    logits, sums = numpy_logits(before, features)

    data_loss, _ = steps.train(tf.constant(features), tf.constant(labels))

    # The loss is the one of the batch normalized with its own mean and variance...
    assert float(data_loss) == pytest.approx(numpy_bce_on_logits(labels, logits), rel=1e-5)
    # ...and the moving statistics moved a hundredth of the way towards them: no gradient, an update.
    moving_mean, moving_variance = model.get_weights()[3:5]
    np.testing.assert_allclose(moving_mean, MOMENTUM * before[3] + (1 - MOMENTUM) * sums.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(moving_variance, MOMENTUM * before[4] + (1 - MOMENTUM) * sums.var(axis=0), rtol=1e-5)


def test_the_eval_step_normalizes_with_the_moving_statistics_and_changes_nothing():
    model = small_model()
    steps = make_steps(model, make_optimizer(1e-3, 0), make_metrics())
    features, labels = rows(64, seed=2)
    features = features[:, :3]
    before = [variable.numpy().copy() for variable in model.variables]

    logits = steps.evaluate(tf.constant(features), tf.constant(labels)).numpy()

    expected, _ = numpy_logits(before[:7], features, mean=before[3], variance=before[4])
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)
    for variable, value in zip(model.variables, before):
        np.testing.assert_array_equal(variable.numpy(), value)  # not one bit of any variable moved


def trained_batchnorm():
    """The experiment's model after a few train steps, so that its moving statistics are the data's."""
    keras.utils.set_random_seed(0)
    model = load_experiment(REPO / "experiments" / "batchnorm.py").build_model()
    steps = make_steps(model, make_optimizer(1e-3, 0), make_metrics())
    features, labels = rows(2_000, seed=3)
    for batch in range(0, 2_000, 500):
        steps.train(tf.constant(features[batch:batch + 500]), tf.constant(labels[batch:batch + 500]))
    return model, steps


def moving_statistics(model):
    return [variable.numpy().copy() for variable in model.non_trainable_variables]


def test_a_validation_pass_in_training_mode_depends_on_the_batch_and_corrupts_the_moving_statistics():
    model, steps = trained_batchnorm()
    features, labels = (tf.constant(part) for part in rows(200, seed=4))
    statistics = moving_statistics(model)
    assert len(statistics) == 8  # a moving mean and a moving variance for each of the four layers

    # Done right (the eval step, training=False), a row's output is the same whatever rows share its
    # batch, and the moving statistics stay as the training left them, bit for bit.
    alone, among_others = steps.evaluate(features[:50], labels[:50]), steps.evaluate(features, labels)[:50]
    np.testing.assert_allclose(alone.numpy(), among_others.numpy(), rtol=1e-5, atol=1e-6)
    for kept, value in zip(moving_statistics(model), statistics):
        np.testing.assert_array_equal(kept, value)
    validated = keras.metrics.BinaryCrossentropy(from_logits=True)(labels, steps.evaluate(features, labels))

    # The classic bug: validation with training=True. The same fifty rows get other outputs in a
    # batch of 200 than alone: each is normalized with its batch's statistics...
    alone, among_others = model(features[:50], training=True), model(features, training=True)[:50]
    assert np.abs(alone.numpy() - among_others.numpy()).max() > 0.01
    # ...and each such pass moves the moving statistics towards its rows, as a train step would: the
    # first layer's moving mean, after the two passes, is what numpy says of their weighted sums.
    sums = features.numpy().astype("float64") @ model.layers[0].kernel.numpy()
    once = MOMENTUM * statistics[0] + (1 - MOMENTUM) * sums[:50].mean(axis=0)
    np.testing.assert_allclose(model.layers[1].moving_mean.numpy(),
                               MOMENTUM * once + (1 - MOMENTUM) * sums.mean(axis=0), rtol=1e-5, atol=1e-7)
    for moved, value in zip(moving_statistics(model), statistics):
        assert np.abs(moved - value).max() > 1e-4
    # So the model validated next is not the model that was trained.
    assert float(keras.metrics.BinaryCrossentropy(from_logits=True)(labels, steps.evaluate(features, labels))) \
        != pytest.approx(float(validated), rel=1e-4)


SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "checkpoint_every": 2, "seed": 3}


def run(data_path, run_dir, max_epochs, loop, jit_compile, resume=False):
    experiment = load_experiment(REPO / "experiments" / "batchnorm.py",
                                 {**SHRUNK, "max_epochs": max_epochs, "loop": loop, "jit_compile": jit_compile})
    history = train(experiment, data_path, run_dir, DotsReporter(), resume=resume)
    return [{name: value for name, value in epoch.items() if name != "seconds"} for epoch in history.epochs]


@pytest.mark.parametrize("loop, jit_compile", [("epoch", False), ("epoch", True), ("step", False)],
                         ids=["epoch", "epoch-xla", "step"])
def test_the_moving_statistics_go_into_the_best_weights_and_a_resumed_run_ends_exactly_as_one_that_never_stopped(
        tmp_path, loop, jit_compile):
    # Rows on which the best epoch of six is not the last (checked below), for all three loops.
    data_path = write_rows(tmp_path / "rows.csv.gz", synthetic.generate(500, seed=6).astype("float32"))
    straight = run(data_path, tmp_path / "straight", 6, loop, jit_compile)
    run(data_path, tmp_path / "resumed", 3, loop, jit_compile)
    resumed = run(data_path, tmp_path / "resumed", 6, loop, jit_compile, resume=True)

    assert resumed == straight  # every number of every epoch: the moving statistics were in the checkpoint
    best_weights = read_weights(tmp_path / "resumed" / "best.weights.h5")
    for name, values in read_weights(tmp_path / "straight" / "best.weights.h5").items():
        np.testing.assert_array_equal(best_weights[name], values)

    # The best weights, moving statistics and all, give the best epoch's validation loss again. That
    # has teeth only if the last epoch is not the best, when the model holds other statistics at the end.
    losses = [epoch["val_binary_crossentropy"] for epoch in straight]
    assert losses.index(min(losses)) < len(losses) - 1
    model = load_experiment(REPO / "experiments" / "batchnorm.py").build_model()
    model.load_weights(tmp_path / "straight" / "best.weights.h5")
    data = load(data_path, Config(**{name: SHRUNK[name] for name in ("n_validation", "n_train", "batch_size")}))
    loss = keras.metrics.BinaryCrossentropy(from_logits=True)
    for features, labels in data.validation_batches():
        loss.update_state(labels, model(features, training=False))
    assert float(loss.result()) == pytest.approx(min(losses), rel=1e-5)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """`mirrored_batchnorm.py`'s results, run in a process of its own: {case: [arrays]}."""
    out = tmp_path_factory.mktemp("mirrored") / "batchnorm.npz"
    return replica_results("mirrored_batchnorm.py", out)


def flat(arrays):
    return np.concatenate([array.ravel() for array in arrays]).astype("float64")


def apart(ours, theirs, replicas) -> float:
    """How far `ours` is from one device's weights, as a fraction of how far those moved in training.
    All the weights together: the replicas add up their gradients in another order than one device,
    and Adam, dividing by a gradient's size, turns that round-off in the smallest gradients into a
    few weights that differ in their sixth digit."""
    one_device, initial = flat(replicas["one device"]), flat(replicas["initial"])
    return np.linalg.norm(flat(ours) - flat(theirs)) / np.linalg.norm(one_device - initial)


def test_two_replicas_with_synchronized_statistics_end_with_the_weights_and_statistics_of_one_device(replicas):
    assert int(replicas["replicas"][0]) == 2  # the CPU really was split in two
    # get_weights holds the moving statistics too.
    assert apart(replicas["synchronized/mirrored"], replicas["one device"], replicas) < 1e-5
    for first, second in zip(replicas["synchronized/replica 0"], replicas["synchronized/replica 1"]):
        np.testing.assert_array_equal(first, second)  # every replica's copy of the statistics is the same


def test_per_replica_statistics_train_another_model_and_leave_the_replicas_copies_apart(replicas):
    # Each replica normalizes its 50 rows with their own statistics: other gradients, other weights,
    # far from one device's.
    assert apart(replicas["per replica/mirrored"], replicas["one device"], replicas) > 0.05
    # And each replica moves its own copy of the moving statistics towards its own rows: copies of
    # one mirrored variable that no longer agree, so which one is saved depends on who reads it.
    for first, second in zip(replicas["per replica/replica 0"], replicas["per replica/replica 1"]):
        assert np.abs(first - second).max() > 1e-4
