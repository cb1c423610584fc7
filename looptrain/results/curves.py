"""Curves against the epoch: the tutorial's learning curves of finished runs, and its learning rate.

Learning curves follow tensorflow_docs' `HistoryPlotter` (training solid, validation dashed, the same
smoothing, the tutorial's y range where the curves fit; under label noise the clean and the flipped
training rows dash-dotted and dotted); a sweep over seeds is its mean with a band.
`draw_folders` picks the picture any list of run and sweep folders calls for, for `looptrain.plot`
and for the training command alike, handing sweeps over another field to `sweep_plots`. The
schedule's rates come in as numbers (`loop.optimizer.schedule_curve` works them out), so nothing
here imports TensorFlow. What each picture shows: docs/experiments.md, "Looking at finished runs".
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from looptrain.errors import InputError
from looptrain.results.aggregate import field_points
from looptrain.results.pictures import Panel, colours, refuse_twice, save
from looptrain.results.sweep_plots import draw_mean, field_figure
from looptrain.runfolder.history import COLUMNS, read_run
from looptrain.runfolder.sweep import SIZES, FinishedSweep, is_sweep, read_sweep

TUTORIAL_YLIM = (0.5, 0.7)
# What has a training and a validation column in history.csv: binary_crossentropy and accuracy.
METRICS = [name for name in COLUMNS if "val_" + name in COLUMNS]


def smooth(values, std: int) -> np.ndarray:
    """Convolve with a Gaussian bump, dividing by the kernel mass that fell inside the data, so the
    ends are not pulled towards 0. As in tensorflow_docs, `std` sets the kernel's reach (4·std
    points each side) while its shape is fixed at exp(-(x/5)²)."""
    width = std * 4
    x = np.linspace(-width, width, 2 * width + 1)
    kernel = np.exp(-((x / 5) ** 2))
    values = np.asarray(values, dtype=float)
    # The centred slice of the full convolution: `mode="same"`, also for series shorter than the kernel.
    centred = slice(width, width + len(values))
    smoothed_values = np.convolve(values, kernel, mode="full")[centred]
    smoothed_weights = np.convolve(np.ones_like(values), kernel, mode="full")[centred]
    return smoothed_values / smoothed_weights


def plot_histories(histories: dict[str, dict], path: Path, metric: str = "binary_crossentropy", smoothing_std: int = 10,
                   log_x: bool = False, ylim: tuple[float, float] | None = None) -> list[Panel]:
    """Draw `{name: history}` (columns as `history.read_history` gives them) into a picture at `path`."""
    return plot_curves({name: [history] for name, history in histories.items()}, path, metric, smoothing_std,
                       log_x, ylim)


def plot_curves(runs: dict[str, list[dict]], path: Path, metric: str = "binary_crossentropy", smoothing_std: int = 10,
                log_x: bool = False, ylim: tuple[float, float] | None = None) -> list[Panel]:
    """Draw `{name: [history, ...]}` into a picture at `path` and return what it shows: one history is a
    run, drawn as it is; several are a sweep over seeds, drawn as their mean with a band of ±1 sample
    sd (`aggregate.mean_curve`). Each run is smoothed first and the smoothed runs averaged, so that
    the band shows how the seeds differ, not how much one epoch's number jitters."""
    figure, axes = plt.subplots(figsize=(8, 5))
    colour = colours(runs)
    validation_minima, last_epoch = [], 0
    for name, histories in runs.items():
        seeds = f" (mean of {len(histories)} seeds)" if len(histories) > 1 else ""
        draw_mean(axes, [smooth(history[metric], smoothing_std) for history in histories], "-", colour[name],
                  f"{name} Train{seeds}")
        validation = draw_mean(axes, [smooth(history["val_" + metric], smoothing_std) for history in histories],
                               "--", colour[name], f"{name} Val{seeds}")
        # Under label noise, the clean and the flipped training rows apart (against the labels they were
        # given): where the flipped rows' curve turns, the network starts to memorize them.
        for part, style in (("clean", "-."), ("flipped", ":")):
            if all(f"{part}_{metric}" in history for history in histories):
                draw_mean(axes, [smooth(history[f"{part}_{metric}"], smoothing_std) for history in histories], style,
                          colour[name], f"{name} Train, {part} rows{seeds}")
        validation_minima.append(validation.mean.min())
        last_epoch = max(last_epoch, validation.epochs[-1])

    if any(len(histories) > 1 for histories in runs.values()):
        axes.set_title("Over seeds: the mean of the runs still going, ±1 sample sd (ddof=1); each run smoothed "
                       "first", fontsize=10)
    if log_x:
        # The tutorial's size comparison: a log axis shows the first epochs and the long tail alike.
        axes.set_xscale("log")
        axes.set_xlim(1, max(last_epoch, 2))
        axes.set_xlabel("Epochs [Log Scale]")
    else:
        axes.set_xlim(0, max(last_epoch, 1))
        axes.set_xlabel("Epochs")
    if ylim is not None:
        axes.set_ylim(*ylim)
    elif metric == "binary_crossentropy" and all(TUTORIAL_YLIM[0] <= low <= TUTORIAL_YLIM[1]
                                                 for low in validation_minima):
        axes.set_ylim(*TUTORIAL_YLIM)
    axes.set_ylabel(metric.replace("_", " ").title())
    axes.grid(True)
    axes.legend()
    return save(figure, path)


def draw_folders(folders: list[Path], path: Path, log_x: bool = False, metric: str = "binary_crossentropy",
                 smoothing_std: int = 10, ylim: tuple[float, float] | None = None) -> list[Panel]:
    """Draw the picture `folders` call for into `path` and return its panels. Runs and sweeps over
    seeds: learning curves against the epoch, a sweep as its mean with a band (`plot_curves`), on a
    log axis with `log_x`. Sweeps over another field, all over the same one: the best validation
    cross-entropy and the final gap against that field (`sweep_plots`), on a log axis where the field
    is a size (`sweep.SIZES`) or `log_x` asks. A mix that cannot share a picture is an `InputError`."""
    read = [read_sweep(folder) if is_sweep(folder) else read_run(folder) for folder in folders]
    refuse_twice([each.name for each in read])
    over_fields = [each for each in read if isinstance(each, FinishedSweep) and not each.over_seeds]
    if not over_fields:  # a run gives one history, a sweep over seeds one a seed
        histories = {each.name: [run.history for run in each.runs.values()] if isinstance(each, FinishedSweep)
                     else [each.history] for each in read}
        return plot_curves(histories, path, metric, smoothing_std, log_x, ylim)

    field = over_fields[0].field
    if len(over_fields) < len(read):
        raise InputError(f"{over_fields[0].folder} is a sweep over {field}, drawn against {field}, and runs and "
                         "sweeps over seeds are drawn against the epoch: draw them in separate pictures")
    fields = list(dict.fromkeys(sweep.field for sweep in over_fields))
    if len(fields) > 1:
        raise InputError(f"sweeps over {' and '.join(fields)} cannot share an axis: draw them in separate pictures")
    if metric != "binary_crossentropy" or ylim is not None:
        raise InputError(f"a sweep over {field} is drawn as cross-entropies against {field}: --metric and "
                         "--ylim are for curves against the epoch")
    points = [field_points(sweep) for sweep in over_fields]
    figure = field_figure(points, colours([each.name for each in points]), log_x or field in SIZES)
    return save(figure, path)


def plot_schedule(name: str, epochs: np.ndarray, rates: np.ndarray, path: Path) -> None:
    """The tutorial's first picture: the rate against the epoch, from zero up."""
    figure, axes = plt.subplots(figsize=(8, 5))
    axes.plot(epochs, rates)
    axes.set_ylim(0, max(axes.get_ylim()))
    axes.set_xlabel("Epoch")
    axes.set_ylabel("Learning Rate")
    axes.set_title(f"{name}: " + ("a constant rate" if rates.min() == rates.max() else "InverseTimeDecay"))
    axes.grid(True)
    save(figure, path)
