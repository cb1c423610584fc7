"""TensorBoard's HParams dashboard: each finished run as a row of its table and a line of its
parallel coordinates.

A run writes, into an event file of its own folder, the HParams plugin's session (the experiment's
name and every configuration field) and the numbers of the end-of-run table (`history.summarize`,
the same numbers `looptrain.report` reads back from history.csv) as scalars under `summary/`. So
`tensorboard --logdir runs` shows a sweep's points side by side, whatever field it swept. Each run
also writes the plugin's experiment summary (`hparams_config`: which fields and numbers are the
table's columns); the plugin reads the first it finds, and every run's is the same, so no folder
needs one of its own and the command, which never imports TensorFlow, writes none. docs/
training-options.md shows the dashboard. What is not here: the per-epoch scalars (`summaries`).
"""

import dataclasses
from pathlib import Path

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from looptrain.config import Config
from looptrain.runfolder import files
from looptrain.runfolder.sweep import experiment_of

# The end-of-run numbers, by their key in `history.summarize`'s row, and what the dashboard calls them.
METRICS = {"best_val": "best val BCE", "best_epoch": "best epoch", "epochs": "epochs", "final_val": "final val BCE",
           "final_train": "final train BCE", "gap": "gap (val − train)", "seconds": "seconds"}


def tag(key: str) -> str:
    return f"summary/{key}"


def session(name: str, config: Config) -> dict:
    """The run's hyperparameters: the experiment's name and its configuration's fields; a field left to
    its data source (`n_test=None`) as "default", since the plugin takes no None."""
    fields = {field: "default" if value is None else value for field, value in dataclasses.asdict(config).items()}
    return {"experiment": experiment_of(name), **fields}


def write_session(run_dir: Path, name: str, config: Config, row: dict) -> None:
    """The run's session and its end-of-run numbers (`row`, from `history.summarize`) at the step of its
    last epoch, into the run folder itself: the plugin looks for a session's numbers in its folder."""
    # A resumed run writes its session anew; the one before it goes once the new one is whole, so that
    # the dashboard shows one session a run (run folders' own event files are only ever these).
    earlier = sorted(run_dir.glob("events.out.tfevents.*"))
    try:
        writer = tf.summary.create_file_writer(str(run_dir))
        with writer.as_default(step=row["epochs"]):
            hp.hparams_config(hparams=[hp.HParam(field) for field in session(name, config)],
                              metrics=[hp.Metric(tag(key), display_name=shown) for key, shown in METRICS.items()])
            hp.hparams(session(name, config), trial_id=name)
            for key in METRICS:
                if row[key] is not None:  # a run without a best epoch has none to show
                    tf.summary.scalar(tag(key), row[key])
        writer.close()
        for path in earlier:
            path.unlink(missing_ok=True)
    except (tf.errors.OpError, OSError) as error:
        raise files.failed(f"the HParams events in {run_dir}", error) from None
