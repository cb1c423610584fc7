"""The experiment files: the tutorial's seven models, their sizes set by the `units` and `depth` fields,
and each experiment (the seven, the remedies the tutorial leaves out and the lab's) run shrunk through
the command."""

import json

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from conftest import REPO
from looptrain.config import Config
from looptrain.data import higgs
from looptrain.experiment import load_experiment
from looptrain.run import main
from looptrain.runfolder.history import COLUMNS, PART_COLUMNS, read_history

NAMES = ["tiny", "small", "medium", "large", "l2", "dropout", "combined"]
REMEDIES = ["batchnorm", "symmetries", "noise"]
LAB = ["memorization", "noisy_labels", "noisy_labels_dropout", "double_descent"]  # with label noise but the last
# The tutorial's parameter counts, from its model.summary() tables; the remedies' are Large's, but for
# Batchnorm: its Dense layers lose their biases (2,048) and each hidden unit gains four statistics.
PARAMETERS = {"tiny": 481, "small": 753, "medium": 10_241, "large": 803_329,
              "l2": 803_329, "dropout": 803_329, "combined": 803_329,
              "batchnorm": 803_329 - 2_048 + 4 * 2_048, "symmetries": 803_329, "noise": 803_329,
              "memorization": 803_329, "noisy_labels": 803_329, "noisy_labels_dropout": 803_329,
              "double_descent": 28 * 32 + 32 + 32 + 1}


def layer_summary(model):
    """(units, L2 factor or None, dropout rate or None) for each Dense layer, in order."""
    summary = []
    for layer in model.layers:
        if layer.__class__.__name__ == "Dense":
            regularizer = layer.kernel_regularizer
            summary.append([layer.units, regularizer and pytest.approx(regularizer.l2), None])
        else:
            summary[-1][2] = layer.rate
    return [tuple(row) for row in summary]


def test_the_models_are_the_tutorials():
    models = {name: load_experiment(REPO / "experiments" / f"{name}.py").build_model()
              for name in NAMES + REMEDIES + LAB}
    assert {name: model.count_params() for name, model in models.items()} == PARAMETERS
    big = [(512, None, None)] * 4 + [(1, None, None)]
    assert layer_summary(models["large"]) == big
    assert layer_summary(models["l2"]) == [(512, 0.001, None)] * 4 + [(1, None, None)]
    assert layer_summary(models["dropout"]) == [(512, None, 0.5)] * 4 + [(1, None, None)]
    assert layer_summary(models["combined"]) == [(512, 0.0001, 0.5)] * 4 + [(1, None, None)]
    assert layer_summary(models["tiny"]) == [(16, None, None), (1, None, None)]
    assert all(layer.activation.__name__ == "elu" for layer in models["medium"].layers[:-1])
    assert models["medium"].layers[-1].activation.__name__ == "linear"  # a logit, no sigmoid


# Each of the seven at units=8, depth=2: its own penalty and dropout, on two hidden layers of 8.
RESIZED = {"tiny": (None, None), "small": (None, None), "medium": (None, None), "large": (None, None),
           "l2": (0.001, None), "dropout": (None, 0.5), "combined": (0.0001, 0.5)}


@pytest.mark.parametrize("name", NAMES + REMEDIES)
def test_units_and_depth_set_the_hidden_layers(name):
    path = REPO / "experiments" / f"{name}.py"
    model = load_experiment(path, {"units": 8, "depth": 2}).build_model()
    assert [layer.units for layer in model.layers if type(layer).__name__ == "Dense"] == [8, 8, 1]
    if name in RESIZED:
        assert layer_summary(model) == [(8, *RESIZED[name])] * 2 + [(1, None, None)]
    # One field alone leaves the other the experiment's own.
    own = [layer.units for layer in load_experiment(path).build_model().layers if type(layer).__name__ == "Dense"]
    deeper = load_experiment(path, {"depth": len(own)}).build_model()
    assert [layer.units for layer in deeper.layers if type(layer).__name__ == "Dense"] == own[:1] * len(own) + [1]


def events(folder):
    """{tag: [(step, value), ...]} of the scalars, read back with TensorBoard's own event reader."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [(event.step, float(make_ndarray(event.tensor_proto))) for event in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"] if tag.startswith("epoch_")}  # not the kernel histograms


def test_every_experiment_runs_shrunk_through_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRAIN_CACHE", str(tmp_path / "cache"))  # the synthetic file is made afresh
    # The command's own `main`, one experiment at a time and so in this process: a process each would
    # import TensorFlow fourteen times over, most of this test's time. A command of several runs, each
    # in its own process, is tests/runfolder/test_sweep.py's and test_imdb.py's.
    options = ["--max-epochs", "2", "--set", "n_validation=200", "--set", "n_train=300", "--set", "batch_size=100",
               # XLA's compiling would only add seconds here: tests/loop/test_parity.py checks it.
               "--set", "jit_compile=false", "--set", "n_test=500", "--logdir", str(tmp_path / "runs"), "--dots"]
    for name in NAMES + REMEDIES + LAB:
        assert main([str(REPO / "experiments" / f"{name}.py"), *options]) == 0, name

    shrunk = Config(n_validation=200, n_train=300, batch_size=100)
    validation = higgs.load(higgs.resolve("synthetic", shrunk), shrunk).validation_batches()
    for name in NAMES + REMEDIES + LAB:
        run = tmp_path / "runs" / name
        history = read_history(run / "history.csv")
        noisy = name in LAB[:3]
        assert history["epoch"] == [0, 1] and list(history) == COLUMNS + (PART_COLUMNS if noisy else [])
        config = json.loads((run / "config.json").read_text())
        assert config["fields"]["n_train"] == 300 and config["parameters"] == PARAMETERS[name]
        assert (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
        assert json.loads((run / "test.json").read_text())["n_test"] == config["n_test"] == 500

        # The event files say what the history says, epoch by epoch, under Keras's tag names.
        train_events, validation_events = events(run / "train"), events(run / "validation")
        for column in ("loss", "binary_crossentropy", "regularization_loss", "accuracy", "learning_rate",
                       *(PART_COLUMNS if noisy else [])):
            np.testing.assert_allclose([v for _, v in train_events[f"epoch_{column}"]], history[column], rtol=1e-6)
        for column in ("binary_crossentropy", "accuracy"):
            steps, values = zip(*validation_events[f"epoch_{column}"])
            assert steps == (0, 1)
            np.testing.assert_allclose(values, history[f"val_{column}"], rtol=1e-6)

        # The saved weights are the best epoch's: evaluated again, they give its validation loss.
        best_epoch = int(np.argmin(history["val_binary_crossentropy"]))
        model = load_experiment(REPO / "experiments" / f"{name}.py").build_model()
        model.load_weights(run / "best.weights.h5")
        bce = keras.metrics.BinaryCrossentropy(from_logits=True)
        for features, labels in validation:
            bce.update_state(labels, model(features, training=False))
        assert float(bce.result()) == pytest.approx(history["val_binary_crossentropy"][best_epoch], rel=1e-5)
