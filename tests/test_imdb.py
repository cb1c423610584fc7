"""The IMDB experiments: probability outputs through the same step, parity with the tutorial's `fit`, and
the five files run shrunk through the command's `main`."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, assert_same_epochs, assert_same_weights, known_weights
from looptrain.config import Config
from looptrain.data import higgs, reviews
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop import epoch
from looptrain.loop.fit import run_epochs
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.models.mlp import mlp
from looptrain.run import main
from looptrain.runfolder.history import COLUMNS, read_history
from looptrain.train import train

NAMES = ["baseline", "smaller", "bigger", "l2", "dropout"]
# The tutorial's parameter counts, from its model.summary() tables.
PARAMETERS = {"baseline": 160_305, "smaller": 40_029, "bigger": 5_383_681, "l2": 160_305, "dropout": 160_305}


def test_the_models_are_the_tutorials():
    for name in NAMES:
        experiment = load_experiment(REPO / "experiments" / "imdb" / f"{name}.py")
        model = experiment.build_model()
        assert model.count_params() == PARAMETERS[name]
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "sigmoid"]
        assert experiment.config.outputs == "probabilities" and experiment.config.dataset == "imdb"
        assert (experiment.config.batch_size, experiment.config.max_epochs) == (512, 20)
        assert experiment.config.patience >= experiment.config.max_epochs  # all 20 epochs run
    l2 = load_experiment(REPO / "experiments" / "imdb" / "l2.py").build_model()
    assert [layer.kernel_regularizer.l2 for layer in l2.layers[:2]] == [pytest.approx(0.001)] * 2
    dropout = load_experiment(REPO / "experiments" / "imdb" / "dropout.py").build_model()
    assert [type(layer).__name__ for layer in dropout.layers] == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]


def test_the_imdb_rate_is_the_tutorials_constant_adam():
    config = load_experiment(REPO / "experiments" / "imdb" / "baseline.py").config
    optimizer = make_optimizer(config.learning_rate, decay_steps=48 * config.decay_epochs)
    assert type(optimizer) is keras.optimizers.Adam
    for step in (0, 48 * 20):
        optimizer.iterations.assign(step)
        assert float(optimizer.learning_rate) == pytest.approx(1e-3, rel=1e-7)


def test_a_probability_step_reports_what_keras_computes():
    model = mlp([8], n_inputs=20, activation="relu", outputs="probabilities")
    known_weights(model)
    rng = np.random.default_rng(3)
    features = rng.integers(0, 2, size=(64, 20)).astype("float32")
    labels = rng.integers(0, 2, size=(64, 1)).astype("float32")
    metrics = make_metrics(from_logits=False)
    steps = make_steps(model, keras.optimizers.SGD(0.0), metrics, from_logits=False)  # rate 0: weights stay

    data_loss, _ = steps.train(features, labels)
    steps.evaluate(features, labels)

    probabilities = model(features, training=False)
    expected_loss = float(keras.losses.BinaryCrossentropy(from_logits=False)(labels, probabilities))
    accuracy = keras.metrics.BinaryAccuracy(threshold=0.5)
    accuracy.update_state(labels, probabilities)
    assert float(data_loss) == pytest.approx(expected_loss, rel=1e-6)
    for prefix in ("", "val_"):
        assert float(metrics[prefix + "binary_crossentropy"].result()) == pytest.approx(expected_loss, rel=1e-6)
        assert float(metrics[prefix + "accuracy"].result()) == pytest.approx(float(accuracy.result()))
    # The threshold has teeth: at the logits' threshold of 0 every probability counts as positive.
    assert float(accuracy.result()) != pytest.approx(labels.mean())


def test_baseline_epochs_report_what_the_tutorials_fit_reports():
    config = Config(dataset="imdb", outputs="probabilities", n_train=400, n_validation=200, batch_size=100)
    loaded = reviews.load("synthetic reviews", config)
    train = tf.data.Dataset.from_tensor_slices((loaded.train_features, loaded.train_labels)).batch(100).repeat()
    validation = loaded.validation_batches()
    build_model = load_experiment(REPO / "experiments" / "imdb" / "baseline.py").build_model
    keras.utils.set_random_seed(0)
    ours, theirs = build_model(), build_model()
    theirs.set_weights(ours.get_weights())

    # The tutorial's compile, word for word: Adam's default rate, metrics by their string names.
    theirs.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy(from_logits=False),
                   metrics=["accuracy", "binary_crossentropy"])
    # Patience beyond the run: Keras 3 still restores the best epoch's weights at the end, as we do.
    stopping = keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", mode="min", patience=100,
                                             restore_best_weights=True)
    fit = theirs.fit(train, steps_per_epoch=4, epochs=3, validation_data=validation, callbacks=[stopping],
                     shuffle=False, verbose=0).history

    optimizer, metrics = make_optimizer(1e-3, decay_steps=0), make_metrics(from_logits=False)
    steps = make_steps(ours, optimizer, metrics, from_logits=False)
    run_epoch, _ = epoch.step_by_step(steps, metrics, optimizer, train, validation, steps_per_epoch=4)
    history = run_epochs(ours, run_epoch, max_epochs=3, patience=3)

    assert_same_epochs(history, fit)
    assert history.best_epoch == stopping.best_epoch
    assert_same_weights(ours, theirs)


def test_every_imdb_experiment_runs_shrunk_through_the_real_command(tmp_path, capsys):
    # The command's own `main`, one experiment at a time and so in this process: a process each would
    # import TensorFlow six times over, most of this test's time. A command of several runs, each in
    # its own process, and its comparison picture are tests/runfolder/test_sweep.py's and test_plots.py's.
    options = ["--set", "n_validation=200", "--set", "n_train=300", "--set", "batch_size=100", "--set", "n_test=100",
               "--logdir", str(tmp_path / "runs"), "--dots"]
    for name in NAMES:
        assert main([str(REPO / "experiments" / "imdb" / f"{name}.py"), "--max-epochs", "2", *options]) == 0, name
    assert capsys.readouterr().out.count("data: synthetic reviews") == len(NAMES)

    shrunk = Config(dataset="imdb", n_validation=200, n_train=300, batch_size=100)
    validation = reviews.load("synthetic reviews", shrunk)
    for name in NAMES:
        run = tmp_path / "runs" / "imdb" / name
        history = read_history(run / "history.csv")
        assert history["epoch"] == [0, 1] and list(history) == COLUMNS
        config = json.loads((run / "config.json").read_text())
        assert config["data"] == "synthetic reviews" and config["parameters"] == PARAMETERS[name]
        assert config["fields"]["outputs"] == "probabilities"

        # The saved weights are the best epoch's: evaluated again on probabilities, its validation loss.
        best_epoch = int(np.argmin(history["val_binary_crossentropy"]))
        model = load_experiment(REPO / "experiments" / "imdb" / f"{name}.py").build_model()
        model.load_weights(run / "best.weights.h5")
        probabilities = model(validation.validation_features, training=False)
        bce = keras.losses.BinaryCrossentropy(from_logits=False)(validation.validation_labels, probabilities)
        assert float(bce) == pytest.approx(history["val_binary_crossentropy"][best_epoch], rel=1e-5)
    l2 = read_history(tmp_path / "runs" / "imdb" / "l2" / "history.csv")
    assert min(l2["regularization_loss"]) > 0

    # --resume finds the run where the first command put it, and carries it on there.
    assert main([str(REPO / "experiments" / "imdb" / "smaller.py"), "--max-epochs", "3", *options, "--resume"]) == 0
    assert read_history(tmp_path / "runs" / "imdb" / "smaller" / "history.csv")["epoch"] == [0, 1, 2]


def test_an_imdb_run_repeats_exactly(tmp_path):
    # Bigger, validated on all 25,000 reviews: without XLA, TensorFlow's own CPU kernels gave two such
    # runs that differed in the last digits (this test, with jit_compile=False, fails). The IMDB
    # experiments compile with XLA, whose runs repeat exactly.
    experiment = load_experiment(REPO / "experiments" / "imdb" / "bigger.py",
                                 {"n_validation": 25_000, "n_train": 4096, "max_epochs": 2})
    assert experiment.config.jit_compile
    histories = [[{name: value for name, value in results.items() if name != "seconds"}
                  for results in train(experiment, higgs.SYNTHETIC_REVIEWS, tmp_path / f"run{n}",
                                       DotsReporter()).epochs]
                 for n in range(2)]
    assert len(histories[0]) == 2 and histories[0] == histories[1]  # every number, to the last bit
