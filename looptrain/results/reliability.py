"""Reliability diagrams of finished runs: how far the probabilities of the best and the final weights
can be trusted, before and after temperature scaling.

For each set of weights a panel: the rows of the test set in bins of the predicted probability, each
bin drawn at its mean probability (x) and the share of its rows that are signal (y). A calibrated
model lies on the diagonal; an overconfident one lies below it at the right and above it at the left,
its probabilities further from 1/2 than the rows bear out. Dashed, the same rows after temperature
scaling. The numbers come from each run's test.json (`runfolder.scores`), read without TensorFlow;
single runs only, as `weights`. Not here: the arithmetic (`looptrain.loop.calibration`).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from looptrain.errors import InputError
from looptrain.results.pictures import Panel, colours, save, single_runs
from looptrain.runfolder.scores import WEIGHTS


def read_reliability(folders: list[Path]) -> dict[str, dict]:
    """`{name: test.json}` of each run folder; a sweep, or a run without test scores, is an `InputError`."""
    runs = single_runs(folders, "--reliability")
    for run in runs:
        if run.scores is None:
            raise InputError(f"{run.folder} has no test.json: the run had no test rows, or did not end "
                             f"(docs/data.md, \"Test rows\")")
    return {run.name: run.scores for run in runs}


def plot_reliability(scores: dict[str, dict], path: Path) -> list[Panel]:
    """One panel for the best weights and one for the final, each run's bins as a line (solid as the
    model gave them, dashed after temperature scaling), the diagonal for a calibrated model."""
    figure, all_axes = plt.subplots(1, len(WEIGHTS), figsize=(12, 5.5), sharey=True)
    colour = colours(scores)
    for axes, weights in zip(all_axes, WEIGHTS):
        axes.plot([0, 1], [0, 1], color="0.6", linewidth=1, label="_diagonal")
        for name, record in scores.items():
            numbers = record[weights]
            raw = f"{name}: ECE {numbers['ece']:.3f}, BCE {numbers['binary_crossentropy']:.3f}"
            scaled = (f"{name} at T = {numbers['temperature']:.2f}: ECE {numbers['scaled_ece']:.3f}, "
                      f"BCE {numbers['scaled_binary_crossentropy']:.3f}")
            for bins, style, label in [(numbers["reliability"], "o-", raw),
                                       (numbers["scaled_reliability"], "s--", scaled)]:
                counts = np.asarray(bins["counts"])
                filled = counts > 0  # an empty bin has no point
                x = np.asarray(bins["mean_probability"], dtype=float)[filled]
                y = np.asarray(bins["signal_share"], dtype=float)[filled]
                axes.plot(x, y, style, color=colour[name], label=label, markersize=3, linewidth=1)
                # Each point's area by its share of the rows: a bin of a handful of rows says little.
                axes.scatter(x, y, s=400 * counts[filled] / counts.sum(), color=colour[name], alpha=0.3)
        epochs = {record[weights]["epoch"] for record in scores.values()}
        at = f" (epoch {epochs.pop()})" if len(epochs) == 1 else ""
        axes.set_title(f"{weights.title()} weights{at}, on {row_counts(scores)} test rows")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("Predicted probability of signal (bin mean)")
        axes.grid(True)
        axes.legend(fontsize=8, loc="upper left")
    all_axes[0].set_ylabel("Share of signal rows in the bin")
    return save(figure, path)


def row_counts(scores: dict[str, dict]) -> str:
    counts = sorted({record["n_test"] for record in scores.values()})
    return " or ".join(f"{count:,}" for count in counts)
