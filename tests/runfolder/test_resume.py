"""Checkpoints and resuming: an interrupted run, resumed, ends exactly as the run that never stopped."""

import json

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from conftest import REPO, made_up_rows, write_rows
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.runfolder.history import read_history, read_weights
from looptrain.train import train

# Dropout, so that the dropout layers' random state must survive the checkpoint too; a checkpoint
# every 2 epochs, so that the resumed run starts from the one written when the first run ended (3).
SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "checkpoint_every": 2, "seed": 3}


def run(data_path, run_dir, max_epochs, resume=False, loop="epoch", jit_compile=False):
    experiment = load_experiment(REPO / "experiments" / "dropout.py",
                                 {**SHRUNK, "max_epochs": max_epochs, "loop": loop, "jit_compile": jit_compile})
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
