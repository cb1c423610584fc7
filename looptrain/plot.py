"""The tutorial's pictures, drawn from finished runs, and the command line that draws them.

    python -m looptrain.plot RUN_DIR [RUN_DIR ...] [--metric binary_crossentropy] [--smoothing-std 10]
                                                   [--log-x] [--ylim LOW HIGH] [--out FILE]
    python -m looptrain.plot --weights RUN_DIR [RUN_DIR ...] [--out FILE]
    python -m looptrain.plot --schedule EXPERIMENT.py [--out FILE]

Learning curves follow tensorflow_docs' `HistoryPlotter`: training solid and validation dashed,
"<Name> Train" / "<Name> Val" labels, the same edge-normalized Gaussian smoothing, and the tutorial's
y range of [0.5, 0.7] for the cross-entropy where the curves fit in it. Each experiment keeps its
colour in every picture. `--weights` overlays the distributions of the kernels saved in
`best.weights.h5`; `--schedule` draws an experiment's learning rate against the epoch.

A RUN_DIR may also be a sweep's folder (`looptrain.runfolder.sweep`). A sweep over seeds is drawn as its mean
curves with a band of ±1 sample standard deviation (`aggregate.mean_curve`), among runs or other
seed sweeps; sweeps over another field, all over the same one, make their own picture against that
field (`sweep_plots`). `draw_folders` picks the picture for any such list of folders, for this
command and for the training command alike; `--weights` takes single runs only.

It reads what the runs left on disk and never imports TensorFlow, except for `--schedule`, which asks
the optimizer training builds for its rates. Every picture is signed in its metadata as looptrain's
(`ownership`), written whole, and never written over a file that is not looptrain's. Not here: the
numbers across a sweep (`aggregate`), and the table of numbers (`looptrain.report`).
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, works on a machine without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from looptrain.config import Config  # noqa: E402
from looptrain.errors import ArgumentParser, InputError, WriteFailed  # noqa: E402
from looptrain.results.aggregate import field_points  # noqa: E402
from looptrain.results.sweep_plots import draw_mean, field_figure  # noqa: E402
from looptrain.runfolder import ownership  # noqa: E402
from looptrain.runfolder.files import write_whole  # noqa: E402
from looptrain.runfolder.history import COLUMNS, common_folder, kernels, read_run, read_weights  # noqa: E402
from looptrain.runfolder.sweep import SIZES, FinishedSweep, is_sweep, read_sweep  # noqa: E402

TUTORIAL_YLIM = (0.5, 0.7)
# The file types whose metadata can carry looptrain's signature.
PICTURE_TYPES = ("png", "svg", "pdf")
# The tutorial's experiments in its order. Each keeps the colour of its place here in every picture,
# so Large is the same red in the size comparison and in the regularizer comparison.
EXPERIMENT_ORDER = ["Tiny", "Small", "Medium", "Large", "L2", "Dropout", "Combined", "Batchnorm", "Symmetries",
                    "Noise"]
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


def colours(names) -> dict[str, str]:
    """Matplotlib's colour cycle by `EXPERIMENT_ORDER`; other names take, in turn, the colours the
    picture's named experiments leave free, so that no two lines of one picture share a colour."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    named = {name: cycle[EXPERIMENT_ORDER.index(name) % len(cycle)] for name in names if name in EXPERIMENT_ORDER}
    free = [colour for colour in cycle if colour not in named.values()] or cycle
    others = iter(free * len(names))
    return {name: named[name] if name in named else next(others) for name in names}


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


def schedule_curve(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """The learning rate at 50 points from epoch 0 to `max_epochs`, the way the loop logs it: the
    optimizer `optimizer.make_optimizer` builds, its step counter set, its rate read."""
    from looptrain.loop.optimizer import make_optimizer  # imports TensorFlow: only this picture needs it

    steps_per_epoch = config.n_train // config.batch_size
    optimizer = make_optimizer(config.learning_rate, decay_steps=steps_per_epoch * config.decay_epochs)
    steps = np.linspace(0, config.max_epochs * steps_per_epoch).round().astype(int)  # the tutorial's linspace
    rates = []
    for step in steps:
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    return steps / steps_per_epoch, np.array(rates)


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


def draw_whole(path: Path, draw, advice: str) -> None:
    """`draw(temporary_path)` written whole to `path`, which must not be a file of someone else's."""
    ownership.check_file(path, advice)
    write_whole(path, draw)


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m looptrain.plot",
                            description="Draw finished runs' learning curves (the default), their kernel "
                                        "weights (--weights), or an experiment's learning-rate schedule "
                                        "(--schedule).")
    parser.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR",
                        help="run folders (LOGDIR/<experiment>/) holding history.csv and config.json, or sweep "
                             "folders holding sweep.json")
    parser.add_argument("--weights", action="store_true",
                        help="overlay the runs' kernel weights from best.weights.h5 instead of their curves")
    parser.add_argument("--schedule", type=Path, metavar="EXPERIMENT.py",
                        help="draw this experiment's learning rate against the epoch (no run folders)")
    parser.add_argument("--metric", default="binary_crossentropy", choices=METRICS,
                        help="the curves' metric (default binary_crossentropy); a sweep over a field other "
                             "than the seed always draws cross-entropies")
    parser.add_argument("--smoothing-std", type=int, default=10, metavar="N",
                        help="the curves' smoothing, as tensorflow_docs' smoothing_std, each run's before a "
                             "sweep's mean; 0 draws them raw (default 10)")
    parser.add_argument("--log-x", action="store_true",
                        help="a log-scaled epoch axis, as the tutorial's size comparison; for sweeps over a "
                             "field, a log-scaled field axis (sizes have one anyway)")
    parser.add_argument("--ylim", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="the curves' y range (default: the tutorial's 0.5 to 0.7 where the curves fit)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="where the picture goes: a .png, .svg or .pdf file (default: comparison.png or "
                             "weights.png in the folder that holds the runs, schedule.png here)")
    return parser


def parse_args(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.schedule and (args.runs or args.weights):
        parser.error("--schedule draws one experiment file; give no run folders and no --weights")
    if not args.schedule and not args.runs:
        parser.error("give at least one RUN_DIR, or --schedule EXPERIMENT.py")
    if args.smoothing_std < 0:
        parser.error(f"--smoothing-std must not be negative, got {args.smoothing_std}")
    if args.ylim and not args.ylim[0] < args.ylim[1]:
        parser.error(f"--ylim LOW HIGH needs LOW < HIGH, got {args.ylim[0]:g} {args.ylim[1]:g}")
    if args.out and args.out.suffix.lstrip(".").lower() not in PICTURE_TYPES:
        # Only these carry looptrain's signature, which lets a later command replace the file.
        parser.error(f"--out {args.out}: looptrain writes .png, .svg or .pdf pictures, not "
                     f"{args.out.suffix or 'a file without a suffix'}")
    if args.out and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: folder {args.out.parent} does not exist")
    return args


def draw(args) -> Path:
    """Read what the chosen picture needs, draw it, and return where it went."""
    advice = "choose another --out"
    if args.schedule:
        from looptrain.experiment import load_experiment
        from looptrain.launch.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()  # an experiment file imports Keras
        experiment = load_experiment(args.schedule)
        out = args.out or Path("schedule.png")
        ownership.check_file(out, advice)  # before TensorFlow computes anything
        curve = schedule_curve(experiment.config)
        draw_whole(out, lambda path: plot_schedule(experiment.name, *curve, path), advice)
        return out

    if args.weights:
        for folder in args.runs:
            if is_sweep(folder):  # one set of weights per point: pooled, they would hide what each point learned
                raise InputError(f"--weights draws single runs, and {folder} is a sweep: give the folders of "
                                 f"some of its points ({folder}/FIELD=VALUE)")
        runs = [read_run(folder) for folder in args.runs]
        refuse_twice([run.name for run in runs])
        values = {}
        for run in runs:
            run_kernels = kernels(read_weights(run.folder / "best.weights.h5"))
            values[run.name] = np.concatenate([kernel.ravel() for kernel in run_kernels.values()])
        out = args.out or common_folder(args.runs) / "weights.png"
        draw_whole(out, lambda path: plot_weights(values, path), advice)
    else:
        out = args.out or common_folder(args.runs) / "comparison.png"
        draw_whole(out, lambda path: draw_folders(args.runs, path, log_x=args.log_x, metric=args.metric,
                                                  smoothing_std=args.smoothing_std, ylim=args.ylim), advice)
    return out


def refuse_twice(names: list[str]) -> None:
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # a picture tells runs apart by name and colour; two of one name would be one
        raise InputError(f"more than one run of {', '.join(twice)}: draw them in separate pictures")


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


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        out = draw(args)
    except (InputError, WriteFailed) as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return error.exit_code
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
