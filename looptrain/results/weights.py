"""The kernel weights of finished runs, as densities in one picture: what L2 and dropout do to them.

The weights are the best epoch's, read from each run's `best.weights.h5` without TensorFlow. Single
runs only: a sweep has one set of weights a point, and pooled they would hide what each point
learned. Not here: the weights epoch by epoch, which are TensorBoard's histograms (`summaries`).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from looptrain.results.pictures import colours, save, single_runs
from looptrain.runfolder.history import kernels, read_weights


def kernel_values(folders: list[Path]) -> dict[str, np.ndarray]:
    """`{name: every kernel weight of the run's best epoch, flat}` of each run folder."""
    values = {}
    for run in single_runs(folders, "--weights"):
        run_kernels = kernels(read_weights(run.folder / "best.weights.h5"))
        values[run.name] = np.concatenate([kernel.ravel() for kernel in run_kernels.values()])
    return values


def plot_weights(kernel_values: dict[str, np.ndarray], path: Path) -> None:
    """Overlay each run's kernel values (`{name: every kernel weight, flat}`) as a density, with
    shared bins. The density axis is logarithmic: L2 piles the weights up at zero, and the tails, where
    the unregularized model keeps its large weights, would otherwise vanish."""
    figure, axes = plt.subplots(figsize=(8, 5))
    colour = colours(kernel_values)
    reach = max(np.abs(values).max() for values in kernel_values.values())
    bins = np.linspace(-reach, reach, 201)
    for name, values in kernel_values.items():
        axes.hist(values, bins=bins, density=True, histtype="step", linewidth=1.5, color=colour[name],
                  label=f"{name} (std {values.std():.3f})")
    axes.set_yscale("log")
    axes.set_xlabel("Kernel Weight")
    axes.set_ylabel("Density [Log Scale]")
    axes.set_title("Kernel weights of the best epoch")
    axes.grid(True)
    axes.legend()
    save(figure, path)
