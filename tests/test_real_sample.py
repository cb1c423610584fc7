"""Against real HIGGS rows (from ../shared, never part of the project): the loop learns something."""

import math

from conftest import REPO
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.train import train


def test_tiny_lowers_the_validation_cross_entropy_on_real_rows(higgs_sample, tmp_path, capsys):
    experiment = load_experiment(REPO / "experiments" / "tiny.py", {"max_epochs": 10})
    history = train(experiment, higgs_sample, tmp_path / "tiny", DotsReporter())

    validation = [epoch["val_binary_crossentropy"] for epoch in history.epochs]
    assert validation[-1] < validation[0]
    # Better than knowing only the base rate: 53% signal has an entropy of 0.691 nats.
    base_rate = 0.53
    assert min(validation) < -(base_rate * math.log(base_rate) + (1 - base_rate) * math.log(1 - base_rate))
    # The sample is 16 rows short of 1,000 + 10,000, and the run says so.
    assert "training on 9984 rows, not 10000" in capsys.readouterr().out
