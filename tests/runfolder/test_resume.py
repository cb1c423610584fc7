"""Checkpoints and resuming: an interrupted run, resumed, ends exactly as the run that never stopped."""

import json

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from conftest import REPO, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop import optimizer
from looptrain.runfolder.history import read_history, read_weights
from looptrain.train import train

# Dropout, so that the dropout layers' random state must survive the checkpoint too; a checkpoint
# every 2 epochs, so that the resumed run starts from the one written when the first run ended (3).
SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "checkpoint_every": 2, "seed": 3}


def run(data_path, run_dir, max_epochs, resume=False, loop="epoch", jit_compile=False, fields=None, name="dropout"):
    experiment = load_experiment(REPO / "experiments" / f"{name}.py", {
        **SHRUNK, "max_epochs": max_epochs, "loop": loop, "jit_compile": jit_compile, **(fields or {})})
    history = train(experiment, data_path, run_dir, DotsReporter(), resume=resume)
    return [{name: value for name, value in epoch.items() if name != "seconds"} for epoch in history.epochs]


@pytest.mark.parametrize("loop, jit_compile", [("epoch", False), ("epoch", True), ("step", False)],
                         ids=["epoch", "epoch-xla", "step"])
def test_a_resumed_run_ends_exactly_as_an_uninterrupted_one(tmp_path, loop, jit_compile):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(700))  # 200 past the training rows: the test rows
    straight = run(data_path, tmp_path / "straight", max_epochs=6, loop=loop, jit_compile=jit_compile)
    first = run(data_path, tmp_path / "resumed", max_epochs=3, loop=loop, jit_compile=jit_compile)
    resumed = run(data_path, tmp_path / "resumed", max_epochs=6, resume=True, loop=loop, jit_compile=jit_compile)

    assert first == straight[:3]
    assert resumed == straight  # every number of every epoch: weights, Adam, shuffling and dropout carried on
    for weights in ("best.weights.h5", "final.weights.h5"):
        for name, values in read_weights(tmp_path / "straight" / weights).items():
            np.testing.assert_array_equal(read_weights(tmp_path / "resumed" / weights)[name], values)
    # The test rows' numbers too, to the last digit: both sets of weights are the same, and so is their scoring.
    scores = json.loads((tmp_path / "straight" / "test.json").read_text())
    assert scores["final"]["epoch"] == 5 and scores["n_test"] == 200
    assert json.loads((tmp_path / "resumed" / "test.json").read_text()) == scores
    written = read_history(tmp_path / "resumed" / "history.csv")
    assert written["epoch"] == [0, 1, 2, 3, 4, 5]
    assert written["val_binary_crossentropy"] == [epoch["val_binary_crossentropy"] for epoch in straight]
    # TensorBoard: the resumed run's event file sits beside the first one, and together they hold every epoch.
    accumulator = EventAccumulator(str(tmp_path / "resumed" / "validation"), size_guidance={"tensors": 0})
    accumulator.Reload()
    logged = [(event.step, float(make_ndarray(event.tensor_proto)))
              for event in accumulator.Tensors("epoch_binary_crossentropy")]
    steps, values = zip(*logged)
    assert steps == tuple(range(6))  # every epoch once
    np.testing.assert_allclose(values, [results["val_binary_crossentropy"] for results in straight], rtol=1e-6)


def test_resuming_without_a_checkpoint_is_refused(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    (tmp_path / "runs" / "dropout").mkdir(parents=True)
    with pytest.raises(InputError, match=f"nothing to resume: {tmp_path}/runs/dropout/checkpoints holds no checkpoint"):
        run(data_path, tmp_path / "runs" / "dropout", max_epochs=2, resume=True)


def test_resuming_from_another_models_checkpoint_is_refused(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    tiny = load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "max_epochs": 1})
    train(tiny, data_path, tmp_path / "run", DotsReporter())
    history_before = (tmp_path / "run" / "history.csv").read_text()
    with pytest.raises(InputError, match="cannot resume from .*ckpt-1: it holds another model"):
        run(data_path, tmp_path / "run", max_epochs=2, resume=True)
    assert (tmp_path / "run" / "history.csv").read_text() == history_before  # nothing was touched


def test_resuming_with_the_other_loop_is_refused(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run(data_path, tmp_path / "run", max_epochs=1, loop="epoch")
    with pytest.raises(InputError, match="it was saved with loop=epoch, this run has loop=step"):
        run(data_path, tmp_path / "run", max_epochs=2, resume=True, loop="step")


# Everything that keeps state in the optimizer at once: float16's loss scale, the accumulators, the
# weights' average (and clipping, which keeps none). Under float16 some updates overflow and are
# skipped, which shifts the accumulation's boundaries off the epochs' ends: the accumulators then hold
# a part-made update at a checkpoint.
OPTIONS = {"precision": "mixed_float16", "accumulate": 2, "weight_average": 0.9, "clip_global_norm": 1.0}


@pytest.mark.parametrize("loop", ["epoch", "step"])
def test_a_resumed_run_with_the_optimizers_state_ends_exactly_as_an_uninterrupted_one(tmp_path, loop, monkeypatch):
    # The scale doubles after every update without an overflow, so it soon overflows and is halved: it
    # moves up and down all run, and a resumed run that started from Keras's initial scale would skip
    # other updates. (Medium, whose float16 steps are quick; and so that in both loops an odd number of
    # micro-batches precede the checkpoint, see the end.)
    monkeypatch.setattr(optimizer, "LOSS_SCALE_GROWTH_STEPS", 1)
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    straight = run(data_path, tmp_path / "straight", max_epochs=6, loop=loop, fields=OPTIONS, name="medium")
    run(data_path, tmp_path / "resumed", max_epochs=3, loop=loop, fields=OPTIONS, name="medium")
    resumed = run(data_path, tmp_path / "resumed", max_epochs=6, resume=True, loop=loop, fields=OPTIONS, name="medium")

    assert resumed == straight
    for name, values in read_weights(tmp_path / "straight" / "best.weights.h5").items():
        np.testing.assert_array_equal(read_weights(tmp_path / "resumed" / "best.weights.h5")[name], values)

    # The check has teeth: what the checkpoint the resumed run started from held mattered.
    checkpoint = str(tmp_path / "resumed" / "checkpoints" / "ckpt-3")

    def saved(name):
        return tf.train.load_variable(checkpoint, f"optimizer/{name}/.ATTRIBUTES/VARIABLE_VALUE")

    assert saved("dynamic_scale") != 2.0 ** 15  # the scale had moved
    micro_batches = saved("inner_optimizer/_iterations")
    assert micro_batches < 3 * 8  # of 3 epochs of 8 micro-batches of 50 rows, some were skipped,
    assert micro_batches % 2 == 1  # an odd number of them: the accumulators held half an update
    # Which of Adam's variables is which, by a twin of the run's optimizer (the checkpoint numbers them).
    twin = load_experiment(REPO / "experiments" / "medium.py", {**SHRUNK, **OPTIONS}).config
    model = load_experiment(REPO / "experiments" / "medium.py").build_model()
    inner = optimizer.make_optimizer(1e-3, 1, clip_global_norm=twin.clip_global_norm, accumulate=twin.accumulate,
                                     weight_average=twin.weight_average, loss_scaling=True).inner_optimizer
    inner.build(model.trainable_variables)
    slots = {index: variable.path for index, variable in enumerate(inner.variables)
             if not variable.path.endswith(("/iteration", "/learning_rate"))}
    assert len(slots) == 4 * 8  # eight weight tensors, each with two moments, an average and an accumulator
    for index, path in slots.items():
        if "gradient_accumulator" in path or "average" in path:
            assert np.any(saved(f"inner_optimizer/_variables/{index}") != 0), path


def test_a_resumed_run_with_label_noise_flips_the_same_rows_and_keeps_their_columns(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(700))
    noise = {"label_noise": 0.3, "n_test": 0}
    straight = run(data_path, tmp_path / "straight", max_epochs=4, fields=noise)
    run(data_path, tmp_path / "resumed", max_epochs=2, fields=noise)
    resumed = run(data_path, tmp_path / "resumed", max_epochs=4, resume=True, fields=noise)
    assert resumed == straight and "flipped_accuracy" in straight[0]
    written = read_history(tmp_path / "resumed" / "history.csv")
    assert written["flipped_accuracy"] == [epoch["flipped_accuracy"] for epoch in straight]
