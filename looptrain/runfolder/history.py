"""A run's record on disk: the history file, and a finished run folder read back without TensorFlow.

`history.csv` is what a finished run leaves for people and for `looptrain.plot` and
`looptrain.report`; it is written once, whole (`files.write_whole`), so a crash never leaves half a
row. A finished run folder also holds `config.json` (the experiment's name
and configuration), `best.weights.h5` and `final.weights.h5` (Keras's weights files, HDF5 files that
h5py reads without Keras) and, where the run had test rows, `test.json` (`scores`). What is not
here: drawing (`results.curves`) and tables (`console`, `results.tables`).
"""

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from looptrain.errors import InputError
from looptrain.loop.early_stopping import EarlyStopping
from looptrain.runfolder.files import write_whole
from looptrain.runfolder.scores import read_scores

COLUMNS = ["epoch", "loss", "binary_crossentropy", "regularization_loss", "accuracy",
           "val_binary_crossentropy", "val_accuracy", "val_auc", "learning_rate", "seconds"]
ADDED_LATER = {"val_auc"}  # a history written before looptrain had this column is read without it
# Under label noise, after those, each part of the training rows the run has: the clean rows and the
# flipped ones, measured with training=False against the labels they trained on (`label_noise`).
PART_COLUMNS = ["clean_binary_crossentropy", "clean_accuracy", "flipped_binary_crossentropy", "flipped_accuracy"]


def write_history(path: Path, epochs: list[dict]) -> None:
    columns = COLUMNS + [name for name in PART_COLUMNS if epochs and name in epochs[0]]

    def write(temporary: Path) -> None:
        with open(temporary, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(columns)
            for epoch, results in enumerate(epochs):
                writer.writerow([epoch] + [repr(results[name]) for name in columns[1:]])

    write_whole(path, write)


def read_history(path: Path) -> dict[str, list[float]]:
    """Columns by name: `history["val_binary_crossentropy"][epoch]`."""
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    written = reader.fieldnames or []
    names = [name for name in COLUMNS if name not in ADDED_LATER or name in written]
    names += [name for name in PART_COLUMNS if name in written]
    return {name: [float(row[name]) for row in rows] for name in names}


def summarize(name: str, epochs: list[dict], best_epoch: int | None, scores: dict | None = None) -> dict:
    """The numbers of the end-of-run table: how long, how good at best, how overfit at the end, and
    from test.json's `scores`, what the test rows say of the best and the final weights (None without)."""
    final = epochs[-1]
    best = epochs[best_epoch] if best_epoch is not None else final
    return {
        "name": name,
        "epochs": len(epochs),
        "best_epoch": best_epoch,
        "best_val": best["val_binary_crossentropy"],
        "final_val": final["val_binary_crossentropy"],
        "final_train": final["binary_crossentropy"],
        # Positive and growing when the model learns the training rows rather than the pattern.
        "gap": final["val_binary_crossentropy"] - final["binary_crossentropy"],
        "test_bce": scores["best"]["binary_crossentropy"] if scores else None,
        "test_auc": scores["best"]["auc"] if scores else None,
        "final_test_bce": scores["final"]["binary_crossentropy"] if scores else None,
        "seconds": final["seconds"],
    }


def replay_best_epoch(val_losses: list[float], min_delta: float) -> int | None:
    """The epoch whose weights the run kept, found again from the logged validation losses (the
    history file does not store it): the run's own early stopping, fed the same numbers."""
    stopper = EarlyStopping(patience=0, min_delta=min_delta)  # patience says when to stop, not which epoch is best
    for epoch, value in enumerate(val_losses):
        stopper.update(epoch, value)
    return stopper.best_epoch


@dataclass(frozen=True)
class Run:
    folder: Path
    name: str  # the experiment's name, from config.json: "Large"
    history: dict[str, list[float]]  # `read_history`'s columns
    best_epoch: int | None  # the epoch whose weights best.weights.h5 holds
    scores: dict | None = None  # test.json (`scores.read_scores`), None for a run without test rows

    @property
    def epochs(self) -> list[dict]:
        """The history as one dict per epoch, the shape the loop produced and `summarize` takes."""
        return [dict(zip(self.history, values)) for values in zip(*self.history.values())]


def read_run(folder: Path) -> Run:
    """A finished run folder's name (from config.json), history, best epoch and test scores; anything
    missing or malformed is an `InputError`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"run folder {folder} does not exist")
    for needed in ("config.json", "history.csv"):
        if not (folder / needed).is_file():
            # train writes history.csv when the run ends, so a run still going has none yet.
            raise InputError(f"{folder} has no {needed}: not a finished looptrain run")
    try:
        config = json.loads((folder / "config.json").read_text())
        history = read_history(folder / "history.csv")
        best_epoch = replay_best_epoch(history["val_binary_crossentropy"], config["fields"]["min_delta"])
        return Run(folder=folder, name=config["experiment"], history=history, best_epoch=best_epoch,
                   scores=read_scores(folder))
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{folder} holds a config.json or history.csv looptrain did not write "
                         f"({type(error).__name__}: {error})") from None


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a Keras 3 `.weights.h5` file, by its path in the file. A Dense layer's kernel
    is `layers/dense_1/vars/0` (2-D) and its bias `layers/dense_1/vars/1` (1-D); the layers are named
    by type and position (`dense`, `dense_1`, ...), whatever their `name` was while training."""
    if not Path(path).is_file():
        raise InputError(f"{path} does not exist")
    weights = {}
    try:
        with h5py.File(path, "r") as file:
            file.visititems(lambda name, item: weights.update({name: item[()]})
                            if isinstance(item, h5py.Dataset) else None)
    except OSError as error:
        raise InputError(f"{path} is not a weights file h5py can read ({error})") from None
    return weights


def kernels(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The 2-D variables, the weight matrices L2 penalizes, by layer: `{"dense_1": array}`."""
    return {name.rsplit("/vars/", 1)[0].removeprefix("layers/"): values
            for name, values in weights.items() if values.ndim == 2}


def common_folder(folders: list[Path]) -> Path:
    """The deepest folder that holds all the runs: where their comparison pictures and table go."""
    return Path(os.path.commonpath([Path(folder).absolute().parent for folder in folders]))
