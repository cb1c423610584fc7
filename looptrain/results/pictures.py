"""What every picture of finished runs shares: each experiment's colour, one name a run (and single runs,
not sweeps, where a picture asks for them), the signature, and what a panel shows, read back before the
figure closes.

A picture is signed in its metadata as looptrain's (`ownership`) and written whole, never over a file
that is not looptrain's. Not here: what any one picture draws (`curves`, `weights`, `sweep_plots`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, works on a machine without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from looptrain.errors import InputError  # noqa: E402
from looptrain.runfolder import ownership  # noqa: E402
from looptrain.runfolder.files import write_whole  # noqa: E402
from looptrain.runfolder.history import Run, read_run  # noqa: E402
from looptrain.runfolder.sweep import is_sweep  # noqa: E402

# The file types whose metadata can carry looptrain's signature.
PICTURE_TYPES = ("png", "svg", "pdf")
# The tutorial's experiments in its order. Each keeps the colour of its place here in every picture,
# so Large is the same red in the size comparison and in the regularizer comparison.
EXPERIMENT_ORDER = ["Tiny", "Small", "Medium", "Large", "L2", "Dropout", "Combined", "Batchnorm", "Symmetries",
                    "Noise"]


def colours(names) -> dict[str, str]:
    """Matplotlib's colour cycle by `EXPERIMENT_ORDER`; other names take, in turn, the colours the
    picture's named experiments leave free, so that no two lines of one picture share a colour."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    named = {name: cycle[EXPERIMENT_ORDER.index(name) % len(cycle)] for name in names if name in EXPERIMENT_ORDER}
    free = [colour for colour in cycle if colour not in named.values()] or cycle
    others = iter(free * len(names))
    return {name: named[name] if name in named else next(others) for name in names}


def refuse_twice(names: list[str]) -> None:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # a picture tells runs apart by name and colour; two of one name would be one
        raise InputError(f"more than one run of {', '.join(twice)}: draw them in separate pictures")


def single_runs(folders: list[Path], option: str) -> list[Run]:
    """The finished runs in `folders`, for a picture of single runs that `option` asks for: a sweep has
    one run a point, and pooled they would hide what each point did, so it is an `InputError`."""
    for folder in folders:
        if is_sweep(folder):
            raise InputError(f"{option} draws single runs, and {folder} is a sweep: give the folders of "
                             f"some of its points ({folder}/FIELD=VALUE)")
    runs = [read_run(folder) for folder in folders]
    refuse_twice([run.name for run in runs])
    return runs


@dataclass(frozen=True)
class Panel:
    """What one panel of a picture shows, read back from matplotlib before the picture is closed: what
    a test checks against numbers worked out by hand, and what a caller may print."""

    title: str
    xlabel: str
    xscale: str  # "linear" or "log"
    lines: dict  # {label: (x, y)} of every labelled line, as matplotlib holds them


def panels(figure) -> list[Panel]:
    # Matplotlib names a line drawn without a label "_child0", "_child1", ...: no series of ours.
    return [Panel(title=axes.get_title(), xlabel=axes.get_xlabel(), xscale=axes.get_xscale(),
                  lines={line.get_label(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
                         for line in axes.get_lines() if not line.get_label().startswith("_")})
            for axes in figure.axes]


def save(figure, path: Path) -> list[Panel]:
    """Save the picture, signed as looptrain's, close it, and return what its panels show. A caller
    writing into a run folder wraps this in `files.write_whole`; `draw_whole` does that for a picture
    anywhere else."""
    figure.tight_layout()
    shown = panels(figure)
    try:
        figure.savefig(path, dpi=100, metadata=ownership.picture_metadata(path))
    finally:
        plt.close(figure)
    return shown


def draw_whole(path: Path, draw: Callable[[Path], object], advice: str) -> None:
    """`draw(temporary_path)` written whole to `path`, which must not be a file of someone else's."""
    ownership.check_file(path, advice)
    write_whole(path, draw)
