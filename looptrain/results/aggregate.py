"""What a sweep's runs say together: a number's mean and spread over seeds, a mean curve, a field's points.

Over seeds (`looptrain.runfolder.sweep`) a number is a mean and a *sample* standard deviation
(numpy's `ddof=1`: the seeds are a sample of all that could have been run); one seed has no spread,
its sd is None, not 0. A mean curve is, at each epoch, the mean of the runs that reached it, and it
stops where fewer than two remain; past the shortest run it can jump where a run drops out
(`Curve.n` counts the runs behind each point). Over another field, one point per value: the best
validation cross-entropy and the final gap (validation − training). docs/experiments.md says how
they are shown. Here: arithmetic on numbers already read from disk (numpy, no TensorFlow). Not here:
reading the runs (`history`, `sweep`), the weight numbers (`tables`), drawing (`curves`).
"""

from dataclasses import dataclass

import numpy as np

from looptrain.runfolder.history import summarize
from looptrain.runfolder.sweep import FinishedSweep


@dataclass(frozen=True)
class Spread:
    """A number over n runs: their mean and sample standard deviation (ddof=1), None when n is 1."""

    mean: float
    sd: float | None
    n: int

    def __format__(self, spec: str) -> str:
        """"0.6123 ± 0.0041": the spec applies to the mean and the sd alike, so a table's column keeps
        its format. An empty spec (a count, like the epochs) gets one decimal: whole for each run, their
        mean is not. Without a spread the sd is written "–"."""
        spec = spec or ".1f"
        return f"{self.mean:{spec}} ± " + ("–" if self.sd is None else f"{self.sd:{spec}}")


def spread(values) -> Spread:
    """The mean and sample standard deviation of `values`; a None among them (a run without a best
    epoch) counts as NaN, and makes the mean NaN too rather than quietly leaving that run out."""
    values = np.asarray(values, dtype=float)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return Spread(mean=float(np.mean(values)), sd=sd, n=len(values))


def seed_row(name: str, rows: list[dict]) -> dict:
    """One row for a sweep over seeds from its runs' rows (`history.summarize`'s numbers, and
    `tables.run_row`'s weight numbers where the rows have them): every number a `Spread`. A text (which
    weights a test row is of) and the parameter count are the same for every seed, and stay as they
    are; a number no run has (a test score without test rows) stays None."""
    row = {"name": name}
    for key in rows[0]:
        if key == "name":
            continue
        values = [each[key] for each in rows]
        if key == "parameters" or isinstance(values[0], str):  # a seed changes no count of weights, no text
            row[key] = values[0]
        elif all(value is None for value in values):
            row[key] = None
        else:
            row[key] = spread(values)
    return row


@dataclass(frozen=True)
class Curve:
    """A metric's mean over runs, epoch by epoch, with its sample sd (NaN for a single run) and the
    number of runs each epoch's point stands on."""

    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(len(self.mean))


def mean_curve(series: list) -> Curve:
    """The mean curve of one metric's runs (`series`, one sequence per run, of any lengths): at each
    epoch over the runs that reached it, up to where fewer than two remain. A single run is its own
    curve, with no spread."""
    lengths = sorted(len(values) for values in series)
    end = lengths[-2] if len(lengths) > 1 else lengths[0]  # the second-longest run: two still going
    # One row per run, one column per epoch; the epochs a run never reached are masked out.
    table = np.ma.masked_all((len(series), end))
    for row, values in enumerate(series):
        kept = np.asarray(values[:end], dtype=float)
        table[row, :len(kept)] = kept
    mean = table.mean(axis=0).filled(np.nan)
    sd = table.std(axis=0, ddof=1).filled(np.nan) if len(series) > 1 else np.full(end, np.nan)
    return Curve(mean=mean, sd=sd, n=table.count(axis=0))


@dataclass(frozen=True)
class FieldPoints:
    """A sweep over a field other than the seed, one point per finished value, in the sweep's order."""

    name: str  # the experiment's
    field: str
    values: list
    best_val: list[float]  # the best validation cross-entropy, at the epoch early stopping kept
    gap: list[float]  # the final validation cross-entropy minus the final training one


def field_points(sweep: FinishedSweep) -> FieldPoints:
    rows = [summarize(sweep.name, run.epochs, run.best_epoch) for run in sweep.runs.values()]
    return FieldPoints(name=sweep.name, field=sweep.field, values=list(sweep.runs),
                       best_val=[row["best_val"] for row in rows], gap=[row["gap"] for row in rows])
