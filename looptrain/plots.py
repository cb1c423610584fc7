"""Learning curves drawn the way the tutorial draws them, from finished runs' `history.csv` files.

It follows tensorflow_docs' `HistoryPlotter`: one colour per run, training solid and validation
dashed, "<Name> Train" / "<Name> Val" labels, the same edge-normalized Gaussian smoothing, and the
tutorial's y range of [0.5, 0.7] where the curves fit in it. It never imports TensorFlow.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, works on a machine without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TUTORIAL_YLIM = (0.5, 0.7)


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


def plot_histories(histories: dict[str, dict], path: Path, metric: str = "binary_crossentropy",
                   smoothing_std: int = 10, log_x: bool = False) -> None:
    """Draw `{name: history}` (columns as `history.read_history` gives them) into a PNG at `path`."""
    figure, axes = plt.subplots(figsize=(8, 5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    validation_minima = []
    for index, (name, history) in enumerate(histories.items()):
        colour = colours[index % len(colours)]
        train = smooth(history[metric], smoothing_std)
        validation = smooth(history["val_" + metric], smoothing_std)
        validation_minima.append(validation.min())
        axes.plot(history["epoch"], train, color=colour, label=f"{name} Train")
        axes.plot(history["epoch"], validation, "--", color=colour, label=f"{name} Val")

    last_epoch = max(history["epoch"][-1] for history in histories.values())
    if log_x:
        # The tutorial's size comparison: a log axis shows the first epochs and the long tail alike.
        axes.set_xscale("log")
        axes.set_xlim(1, max(last_epoch, 2))
        axes.set_xlabel("Epochs [Log Scale]")
    else:
        axes.set_xlim(0, max(last_epoch, 1))
        axes.set_xlabel("Epochs")
    if all(TUTORIAL_YLIM[0] <= minimum <= TUTORIAL_YLIM[1] for minimum in validation_minima):
        axes.set_ylim(*TUTORIAL_YLIM)
    axes.set_ylabel(metric.replace("_", " ").title())
    axes.grid(True)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
