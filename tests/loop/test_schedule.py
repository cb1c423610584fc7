"""The learning-rate schedule as the loop logs it, and as its picture draws it: halved at epoch 1000, a
third at epoch 2000."""

import numpy as np
import pytest

from conftest import REPO, made_up_rows, write_rows
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop.optimizer import schedule_curve
from looptrain.runfolder.history import read_history
from looptrain.train import train


def test_the_logged_learning_rate_follows_inverse_time_decay(tmp_path):
    # One step per epoch keeps 2,001 epochs quick; the schedule counts epochs, whatever their size.
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(20))
    experiment = load_experiment(REPO / "experiments" / "tiny.py", {
        "n_validation": 10, "n_train": 10, "batch_size": 10, "max_epochs": 2001, "patience": 10_000})
    train(experiment, data_path, tmp_path / "run", DotsReporter())

    rates = read_history(tmp_path / "run" / "history.csv")["learning_rate"]
    assert len(rates) == 2001
    # lr(epoch) = 1e-3 / (1 + epoch / 1000), logged at the epoch's first step.
    assert rates[0] == pytest.approx(1e-3, rel=1e-6)
    assert rates[1000] == pytest.approx(1e-3 / 2, rel=1e-6)
    assert rates[2000] == pytest.approx(1e-3 / 3, rel=1e-6)
    assert rates[1] == pytest.approx(1e-3 / (1 + 1 / 1000), rel=1e-6)


def test_the_schedules_picture_is_the_tutorials_inverse_time_decay_by_hand():
    # 10,000 rows in batches of 500: 20 steps an epoch, so the rate halves at epoch 1000, step 20,000.
    epochs, rates = schedule_curve(1e-3, decay_epochs=1000, steps_per_epoch=10_000 // 500, max_epochs=2000)
    np.testing.assert_allclose(epochs, np.linspace(0, 40_000).round() / 20)
    np.testing.assert_allclose(rates, 1e-3 / (1 + epochs / 1000), rtol=1e-6)
    assert (rates[0], rates[-1]) == (pytest.approx(1e-3), pytest.approx(1e-3 / 3))
