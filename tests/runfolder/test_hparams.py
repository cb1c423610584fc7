"""TensorBoard's HParams dashboard: every finished run's session and end-of-run numbers, read back from its
event file as TensorBoard's own reader and the HParams plugin's parser read them, equal to the run's
configuration and to the numbers `looptrain.report` reads from its history.csv."""

import json

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata
from tensorboard.util.tensor_util import make_ndarray

from conftest import REPO, made_up_rows, write_rows
from looptrain.config import Config
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.results.tables import rows_of
from looptrain.runfolder.hparams import METRICS, session, tag
from looptrain.train import train

# A fast rate on made-up rows, whose labels are noise: the validation loss soon climbs, and the best
# epoch is not the last, so that the best numbers and the final ones differ.
SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "max_epochs": 6, "histogram_every": 0,
          "learning_rate": 0.05}


def read_back(run_dir):
    """(hyperparameters, experiment summary, {metric key: value}) from the run folder's own event file."""
    accumulator = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    contents = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(contents[metadata.SESSION_START_INFO_TAG])
    experiment = metadata.parse_experiment_plugin_data(contents[metadata.EXPERIMENT_TAG])
    hyperparameters = {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
                       for name, value in start.hparams.items()}
    numbers = {key: float(make_ndarray(accumulator.Tensors(tag(key))[-1].tensor_proto)) for key in METRICS}
    return start.group_name, hyperparameters, experiment, numbers


def test_each_run_writes_its_session_and_the_reports_numbers(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    for seed in (0, 1):
        experiment = load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "seed": seed})
        train(experiment, data_path, tmp_path / f"seed={seed}", DotsReporter())

    sessions = {}
    for seed in (0, 1):
        run_dir = tmp_path / f"seed={seed}"
        group, hyperparameters, experiment, numbers = read_back(run_dir)
        sessions[seed] = numbers
        fields = json.loads((run_dir / "config.json").read_text())["fields"]
        # Every field, as config.json has it; the test rows left to the data source and the sizes to the
        # experiment as "default".
        left = {"n_test": "default", "units": "default", "depth": "default"}
        assert hyperparameters == {"experiment": "Tiny", **fields, **left} and all(fields[name] is None for name in left)
        # The experiment summary names those columns, and the metrics by their tags.
        assert sorted(info.name for info in experiment.hparam_infos) == sorted(hyperparameters)
        assert [info.name.tag for info in experiment.metric_infos] == [tag(key) for key in METRICS]
        [row] = rows_of(run_dir)  # the report's row, read from history.csv
        for key in METRICS:
            assert numbers[key] == np.float32(row[key]), key  # a summary holds float32
        assert numbers["epochs"] == 6 and group  # the plugin groups sessions by this
        assert numbers["best_epoch"] < 5 and numbers["best_val"] < numbers["final_val"]
    assert sessions[0]["best_val"] != sessions[1]["best_val"]  # two seeds, two rows of the table


def test_a_resumed_run_holds_one_session_its_own(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "tiny"
    for max_epochs, resume in ((6, False), (8, True)):  # carried on past its end: two more epochs
        experiment = load_experiment(REPO / "experiments" / "tiny.py", {**SHRUNK, "max_epochs": max_epochs})
        train(experiment, data_path, run_dir, DotsReporter(), resume=resume)
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1  # the first run's session is gone
    _, _, _, numbers = read_back(run_dir)
    [row] = rows_of(run_dir)
    assert numbers["epochs"] == row["epochs"] == 8


def test_a_sweeps_point_is_filed_under_its_experiment_whatever_its_names_words():
    assert session("Noisy labels seed=3", Config())["experiment"] == "Noisy labels"
    assert session("Noisy labels dropout seed=3", Config())["experiment"] == "Noisy labels dropout"
    assert session("Double descent", Config())["experiment"] == "Double descent"  # no sweep's point
