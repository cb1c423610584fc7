"""A finished run's predictions on its test rows, for the bias-variance split of a seed sweep.

The run folder's config.json says everything needed to predict again: the experiment file and its
resolved fields (the sizes among them), and the data the run read, whose test rows are the same for
every seed of a sweep. The weights file (best or final) is loaded into a fresh model, which runs over
the test rows with `training=False`, a batch at a time, as `loop.evaluate` scores them. The run's
test.json holds only the numbers; the split needs every row's logit of every member
(`results.bias_variance`). What is not here: the split itself and the command (`looptrain.report
--bias-variance`).
"""

import json
from pathlib import Path

import numpy as np

from looptrain.data import higgs, reviews
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.loop.evaluate import inference, logits
from looptrain.loop.precision import build_model


def test_logits(folder: Path, weights: str) -> tuple[np.ndarray, np.ndarray]:
    """The logits of run `folder`'s `weights` ("best" or "final") on its test rows, and their labels."""
    try:
        record = json.loads((folder / "config.json").read_text())
        experiment = load_experiment(record["experiment_file"], record["fields"])
        source = record["data"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{folder} has no config.json looptrain wrote ({type(error).__name__}: {error})") from None
    config = experiment.config
    if config.dataset == "imdb":
        data = reviews.load(source, config)
    elif Path(source).is_file():
        data = higgs.load(Path(source), config)
    else:
        raise InputError(f"{folder}: its data, {source}, is no longer a file (run the experiment again to make it)")
    if not data.n_test:
        raise InputError(f"{folder}: its data gives no test rows to predict")
    model = build_model(experiment.build_model, config.precision)
    model.load_weights(folder / f"{weights}.weights.h5")
    test_logits = logits(inference(model), data.test_features, config.batch_size, config.outputs == "logits")
    return test_logits, data.test_labels.numpy().reshape(-1)
