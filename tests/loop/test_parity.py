"""Is this really what `Model.fit` does? The same model, weights and batches through both, compared.

looptrain's train step and Keras's own `fit`, compiled with the tutorial's loss and the same Adam +
InverseTimeDecay, must end with the same weights and report the same per-epoch numbers. The twins
share their random states as well as their weights (Keras's `SeedGenerator` variables), so a layer
that draws random numbers in training draws the same ones in both: Symmetries' transformations of
the rows are compared too. Batchnorm's moving statistics are among the weights compared, and `fit`
validates with them as the eval step does.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, assert_same_epochs, assert_same_weights
from looptrain.data.higgs import Data
from looptrain.data.simulation import synthetic
from looptrain.experiment import load_experiment
from looptrain.loop import epoch
from looptrain.loop.fit import run_epochs
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps

BATCH, STEPS_PER_EPOCH, EPOCHS = 100, 4, 3
# A short decay, so that the learning rate changes visibly from step to step and must match too.
DECAY_STEPS = 4


def batches():
    """Fixed training batches in a fixed order (no shuffling on either side), and a validation set."""
    rows = synthetic.generate(200 + BATCH * STEPS_PER_EPOCH, seed=3).astype("float32")
    validation = (rows[:200, 1:], rows[:200, :1])
    train = (rows[200:, 1:], rows[200:, :1])
    as_dataset = lambda arrays: tf.data.Dataset.from_tensor_slices(arrays).batch(BATCH)  # noqa: E731
    return as_dataset(train).repeat(), as_dataset(validation)


def twin_models(name):
    """Two copies of an experiment's model with the same initial weights and the same random states."""
    build_model = load_experiment(REPO / "experiments" / f"{name}.py").build_model
    keras.utils.set_random_seed(0)
    ours, keras_model = build_model(), build_model()
    for mine, theirs in zip(ours.variables, keras_model.variables):  # weights, moving statistics, seeds
        theirs.assign(mine)
    return ours, keras_model


def compile_as_the_tutorial(model):
    model.compile(optimizer=make_optimizer(1e-3, DECAY_STEPS),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])


@pytest.mark.parametrize("name", ["tiny", "l2", "medium", "batchnorm", "symmetries"])
def test_train_steps_end_with_the_weights_fit_ends_with(name):
    ours, keras_model = twin_models(name)
    train, validation = batches()

    compile_as_the_tutorial(keras_model)
    keras_model.fit(train, steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS, shuffle=False, verbose=0)

    steps = make_steps(ours, make_optimizer(1e-3, DECAY_STEPS), make_metrics())
    for features, labels in train.take(STEPS_PER_EPOCH * EPOCHS):
        steps.train(features, labels)

    assert_same_weights(ours, keras_model)
    # The check has teeth: the weights did move, by far more than the tolerance.
    assert not np.allclose(ours.get_weights()[0], twin_models(name)[0].get_weights()[0], rtol=1e-3)


@pytest.mark.parametrize("name", ["tiny", "l2", "medium", "batchnorm", "symmetries"])
def test_epochs_report_what_fit_reports_and_end_at_the_same_best_weights(name):
    ours, keras_model = twin_models(name)
    train, validation = batches()

    compile_as_the_tutorial(keras_model)
    # Patience beyond the run: Keras 3 still restores the best epoch's weights at the end, as we do.
    stopping = keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", mode="min", patience=100,
                                             restore_best_weights=True)
    fit = keras_model.fit(train, steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS, validation_data=validation,
                          callbacks=[stopping], shuffle=False, verbose=0).history

    optimizer, metrics = make_optimizer(1e-3, DECAY_STEPS), make_metrics()
    run_epoch, _ = epoch.step_by_step(make_steps(ours, optimizer, metrics), metrics, optimizer, train, validation,
                                      STEPS_PER_EPOCH)
    history = run_epochs(ours, run_epoch, max_epochs=EPOCHS, patience=100)

    assert_same_epochs(history, fit)
    assert history.best_epoch == stopping.best_epoch
    assert_same_weights(ours, keras_model)


def test_looptrains_total_loss_for_l2_is_fits_loss_with_the_penalty_shown_apart():
    ours, keras_model = twin_models("l2")
    train, _ = batches()
    compile_as_the_tutorial(keras_model)
    fit = keras_model.fit(train, steps_per_epoch=STEPS_PER_EPOCH, epochs=1, shuffle=False, verbose=0).history

    metrics = make_metrics()
    steps = make_steps(ours, make_optimizer(1e-3, DECAY_STEPS), metrics)
    for features, labels in train.take(STEPS_PER_EPOCH):
        steps.train(features, labels)
    total, data_loss, penalty = (float(metrics[name].result())
                                 for name in ("loss", "binary_crossentropy", "regularization_loss"))

    assert total == pytest.approx(fit["loss"][0], rel=1e-5)  # fit mixes the penalty into its `loss`
    assert data_loss == pytest.approx(fit["binary_crossentropy"][0], rel=1e-5)
    assert total == pytest.approx(data_loss + penalty, rel=1e-6)
    assert penalty > 0.1 * total  # with l2(0.001) on 800,000 weights the penalty is no rounding error


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("name, steps_per_chunk", [("tiny", 4), ("l2", 4), ("tiny", 1), ("batchnorm", 4),
                                                   ("symmetries", 4)],
                         ids=["tiny", "l2", "tiny-in-chunks", "batchnorm", "symmetries"])
def test_a_whole_epoch_in_one_graph_is_fits_epoch_over_the_same_shuffled_rows(name, steps_per_chunk, jit_compile,
                                                                           monkeypatch):
    """The fast path draws its own order of the rows each epoch; fed the same orders, fit must agree,
    whether the epoch gathers its rows all at once or a chunk at a time."""
    monkeypatch.setattr(epoch, "CHUNK_BYTES", steps_per_chunk * BATCH * 29 * 4)  # 28 features and a label
    ours, keras_model = twin_models(name)
    rows = synthetic.generate(250 + BATCH * STEPS_PER_EPOCH, seed=3).astype("float32")
    data = Data(*map(tf.constant, [rows[250:, 1:], rows[250:, :1], rows[:250, 1:], rows[:250, :1]]), batch_size=BATCH)
    assert epoch.steps_per_chunk(data) == steps_per_chunk
    seed = 7  # 250 validation rows: two full batches and a short one, as `batch` leaves it

    # The orders the graph will draw: the same function on a generator seeded the same way.
    shuffling = tf.random.Generator.from_seed(seed)
    orders = np.concatenate([epoch.epoch_order(shuffling, data.n_train).numpy() for _ in range(EPOCHS)])
    assert not np.array_equal(orders[:data.n_train], orders[data.n_train:2 * data.n_train])
    shuffled = tf.data.Dataset.from_tensor_slices((rows[250:, 1:][orders], rows[250:, :1][orders])).batch(BATCH)
    validation = tf.data.Dataset.from_tensor_slices((rows[:250, 1:], rows[:250, :1])).batch(BATCH)
    compile_as_the_tutorial(keras_model)
    fit = keras_model.fit(shuffled, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH, validation_data=validation,
                          shuffle=False, verbose=0).history

    optimizer, metrics = make_optimizer(1e-3, DECAY_STEPS), make_metrics()
    run_epoch, _ = epoch.in_one_graph(make_steps(ours, optimizer, metrics), metrics, data, optimizer, seed,
                                      jit_compile)
    history = run_epochs(ours, run_epoch, max_epochs=EPOCHS, patience=100)

    assert_same_epochs(history, fit)


CLIP = 0.1  # below the global norm of every batch's gradient here: every update is clipped


def test_clipped_steps_end_with_the_weights_fit_ends_with_the_same_global_clipnorm():
    ours, keras_model = twin_models("l2")
    unclipped, _ = twin_models("l2")
    train, _ = batches()
    # Keras's own clipping, written out here rather than through `make_optimizer`.
    keras_model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.InverseTimeDecay(
                            1e-3, decay_steps=DECAY_STEPS, decay_rate=1), global_clipnorm=CLIP),
                        loss=keras.losses.BinaryCrossentropy(from_logits=True))
    keras_model.fit(train, steps_per_epoch=STEPS_PER_EPOCH, epochs=EPOCHS, shuffle=False, verbose=0)

    clipped_steps = make_steps(ours, make_optimizer(1e-3, DECAY_STEPS, clip_global_norm=CLIP), make_metrics())
    unclipped_steps = make_steps(unclipped, make_optimizer(1e-3, DECAY_STEPS), make_metrics())
    norms = []
    for features, labels in train.take(STEPS_PER_EPOCH * EPOCHS):
        with tf.GradientTape() as tape:  # the gradient's global norm before the update, by Keras
            loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels, ours(features, training=True))
            loss += tf.add_n(ours.losses)
        norms.append(float(tf.linalg.global_norm(tape.gradient(loss, ours.trainable_variables))))
        clipped_steps.train(features, labels)
        unclipped_steps.train(features, labels)

    assert min(norms) > 2 * CLIP  # every update was clipped
    assert_same_weights(ours, keras_model)
    # The check has teeth: without clipping the weights end elsewhere, by far more than the tolerance.
    assert not np.allclose(ours.get_weights()[0], unclipped.get_weights()[0], rtol=1e-3)
