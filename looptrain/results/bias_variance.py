"""The bias-variance split of a seed sweep's cross-entropy on the test rows, and its picture.

The members are one experiment trained at several seeds, each predicting the same rows. For the log
loss the ensemble that makes the split exact is the members' normalized geometric mean,
q ∝ Πᵢ pᵢ^(1/n), which for two classes is the sigmoid of the members' mean logit. Then, row by row
and so on average over the rows,

    mean over members of CE(y, pᵢ) = CE(y, q) + mean over members of KL(q ‖ pᵢ)

exactly: the members' mean cross-entropy is the ensemble's (the bias, with the labels' own noise in
it) plus how far the members stray from the ensemble (the variance, 0 when every seed predicts
alike). Yang et al. (2020) found the variance, not the bias, makes double descent's bump. Here: the
arithmetic on arrays (numpy), grouping run folders into sweeps' members by their config.json, and
the picture against a swept field. Not here: the members' predictions, which need TensorFlow
(`looptrain.predictions`), and the command (`looptrain.report --bias-variance`).
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from looptrain.errors import InputError
from looptrain.results.aggregate import spread
from looptrain.results.pictures import save
from looptrain.results.sweep_plots import positions
from looptrain.runfolder.history import read_run
from looptrain.runfolder.sweep import SIZES, experiment_of, is_sweep, read_sweep


def log_probabilities(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log p(1) and log p(0) of each logit, exact where a probability would round to 0 or 1."""
    return -np.logaddexp(0.0, -logits), -np.logaddexp(0.0, logits)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean cross-entropy over the rows (the last axis) of logits against labels 0 or 1."""
    log_one, log_zero = log_probabilities(logits)
    return -np.mean(labels * log_one + (1 - labels) * log_zero, axis=-1)


def split(logits, labels) -> dict:
    """The split of the members' `logits` (members × rows) against the rows' `labels` (0 or 1): the
    members' mean cross-entropy, the ensemble's (`bias`) and the members' mean divergence from the
    ensemble (`variance`); `bias + variance` equals `mean_member` to rounding. Float64 throughout."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels, np.float64).reshape(-1)
    if logits.ndim != 2 or logits.shape[1] != labels.size:
        raise ValueError(f"logits of shape {logits.shape} for {labels.size} labels: expected (members, rows)")
    ensemble = logits.mean(axis=0)  # the normalized geometric mean of the probabilities, as a logit
    q_one, q_zero = log_probabilities(ensemble)
    p_one, p_zero = log_probabilities(logits)
    divergence = np.exp(q_one) * (q_one - p_one) + np.exp(q_zero) * (q_zero - p_zero)  # KL(q ‖ pᵢ), row by row
    return {"members": len(logits), "mean_member": float(cross_entropy(logits, labels).mean()),
            "bias": float(cross_entropy(ensemble, labels)), "variance": float(divergence.mean())}


def error_rates(logits, labels) -> tuple[np.ndarray, float]:
    """Each member's error on the rows (a logit above 0 says 1), and the ensemble's."""
    logits, labels = np.asarray(logits, np.float64), np.asarray(labels).reshape(-1)
    return (np.mean((logits > 0) != labels, axis=1), float(np.mean((logits.mean(axis=0) > 0) != labels)))


def training_error(folder: Path, weights: str) -> float:
    """A run's training error at its best or its final epoch, from history.csv: 1 − the epoch's
    accuracy, a running mean over its train steps (with dropout on, for a model that has it)."""
    run = read_run(folder)
    epoch = run.best_epoch if weights == "best" else len(run.history["accuracy"]) - 1
    return 1 - run.history["accuracy"][epoch]


def member_groups(folders: list[Path]) -> dict[tuple, list[Path]]:
    """The finished run folders in `folders` (a sweep's points, or single runs) grouped into members:
    runs of one experiment whose fields differ only in the seed. Keyed by (experiment, the fields as
    sorted pairs, without the seed), in the order first met. A group of fewer than two seeds has no
    variance to show and is an `InputError`."""
    runs = []
    for folder in folders:
        runs += [run.folder for run in read_sweep(folder).runs.values()] if is_sweep(folder) else [Path(folder)]
    groups: dict[tuple, list[Path]] = {}
    for run in runs:
        try:
            record = json.loads((run / "config.json").read_text())
            fields = dict(record["fields"])
            experiment = experiment_of(record["experiment"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"{run} has no config.json looptrain wrote ({type(error).__name__}: {error})") from None
        fields.pop("seed")
        groups.setdefault((experiment, tuple(sorted(fields.items()))), []).append(run)
    for (experiment, _), members in groups.items():
        if len(members) < 2:
            raise InputError(f"{members[0]}: the bias-variance split needs two or more seeds of {experiment} "
                             f"with the same fields, and this run has no other")
    return groups


def varied_field(groups) -> str | None:
    """The one field whose value tells the groups apart (`units`, `n_train`), or None where they are
    of different experiments or several fields differ: then they are laid out side by side."""
    if len({experiment for experiment, _ in groups}) > 1:
        return None
    first = dict(next(iter(groups))[1])
    varied = {name for _, fields in groups for name, value in fields if value != first.get(name)}
    return varied.pop() if len(varied) == 1 else None


def group_rows(groups: dict[tuple, dict]) -> list[dict]:
    """The table's rows, a group's split, its members' test error (mean ± sd) and its ensemble's,
    named by experiment and, where one field tells them apart, by its value."""
    field = varied_field(groups)
    rows = []
    for (experiment, fields), result in groups.items():
        value = dict(fields)[field] if field else None
        rows.append({"name": f"{experiment} {field}={value}" if field else experiment, "value": value,
                     **result, "error": spread(result["member_errors"]),
                     "training_error": spread(result["training_errors"])})
    return rows


def plot_split(rows: list[dict], field: str | None, weights: str, path: Path):
    """Two panels: the split (members' mean cross-entropy, bias, variance) and the error (the members'
    on the test rows, mean ± 1 sd, the ensemble's, and the members' training error), against `field`
    or side by side."""
    figure, (split_axes, error_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
    x = positions([row["value"] for row in rows]) if field else [row["name"] for row in rows]
    for key, label in (("mean_member", "members' mean CE"), ("bias", "bias: the ensemble's CE"),
                       ("variance", "variance: mean KL(ensemble ‖ member)")):
        split_axes.plot(x, [row[key] for row in rows], "o-", label=label)
    error_axes.errorbar(x, [row["error"].mean for row in rows], yerr=[row["error"].sd for row in rows], fmt="o-",
                        capsize=3, label="members' test error (±1 sd)")
    error_axes.plot(x, [row["ensemble_error"] for row in rows], "s--", label="the ensemble's test error")
    error_axes.plot(x, [row["training_error"].mean for row in rows], "^:", label="members' training error")
    split_axes.set_title(f"Test cross-entropy split over seeds ({weights} weights)")
    split_axes.set_ylabel("Binary Crossentropy")
    error_axes.set_title(f"Test error ({weights} weights)")
    error_axes.set_ylabel("Error rate")
    log_x = field in SIZES or field == "units"
    for axes in (split_axes, error_axes):
        if log_x:
            axes.set_xscale("log")
        axes.set_xlabel((field or "experiment") + (" [Log Scale]" if log_x else ""))
        axes.grid(True)
        axes.legend()
    return save(figure, path)
