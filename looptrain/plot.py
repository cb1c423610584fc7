"""The command that draws finished runs: it parses the command line, calls `looptrain.results`, and
turns errors into exit codes.

    python -m looptrain.plot RUN_DIR [RUN_DIR ...] [--metric binary_crossentropy] [--smoothing-std 10]
                                                   [--log-x] [--ylim LOW HIGH] [--out FILE]
    python -m looptrain.plot --weights RUN_DIR [RUN_DIR ...] [--out FILE]
    python -m looptrain.plot --reliability RUN_DIR [RUN_DIR ...] [--out FILE]
    python -m looptrain.plot --schedule EXPERIMENT.py [--out FILE]

The pictures are drawn by `results.curves`, `results.weights` and `results.reliability`; what each shows is in
docs/experiments.md, "Looking at finished runs". Only `--schedule` imports TensorFlow, to ask the
optimizer training builds for its rates (`loop.optimizer.schedule_curve`).
"""

import sys
from pathlib import Path

from looptrain.errors import ArgumentParser, InputError, WriteFailed
from looptrain.results.curves import METRICS, draw_folders, plot_schedule
from looptrain.results.pictures import PICTURE_TYPES, draw_whole
from looptrain.results.reliability import plot_reliability, read_reliability
from looptrain.results.weights import kernel_values, plot_weights
from looptrain.runfolder import ownership
from looptrain.runfolder.history import common_folder


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m looptrain.plot",
                            description="Draw finished runs' learning curves (the default), their kernel "
                                        "weights (--weights), their reliability diagrams (--reliability), or an "
                                        "experiment's learning-rate schedule (--schedule).")
    parser.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR",
                        help="run folders (LOGDIR/<experiment>/) holding history.csv and config.json, or sweep "
                             "folders holding sweep.json")
    parser.add_argument("--weights", action="store_true",
                        help="overlay the runs' kernel weights from best.weights.h5 instead of their curves")
    parser.add_argument("--reliability", action="store_true",
                        help="draw the runs' reliability diagrams on their test rows, from test.json, instead of "
                             "their curves")
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
                        help="where the picture goes: a .png, .svg or .pdf file (default: comparison.png, "
                             "weights.png or reliability.png in the folder that holds the runs, schedule.png here)")
    return parser


def parse_args(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.schedule and (args.runs or args.weights or args.reliability):
        parser.error("--schedule draws one experiment file; give no run folders, no --weights, no --reliability")
    if args.weights and args.reliability:
        parser.error("--weights and --reliability are two pictures: draw them one at a time")
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

        import_tensorflow_quietly()  # the experiment file and the optimizer import Keras
        from looptrain.loop.optimizer import schedule_curve

        experiment = load_experiment(args.schedule)
        config = experiment.config
        out = args.out or Path("schedule.png")
        ownership.check_file(out, advice)  # before TensorFlow computes anything
        curve = schedule_curve(config.learning_rate, config.decay_epochs, config.n_train // config.batch_size,
                               config.max_epochs)
        draw_whole(out, lambda path: plot_schedule(experiment.name, *curve, path), advice)
    elif args.weights:
        values = kernel_values(args.runs)
        out = args.out or common_folder(args.runs) / "weights.png"
        draw_whole(out, lambda path: plot_weights(values, path), advice)
    elif args.reliability:
        scores = read_reliability(args.runs)
        out = args.out or common_folder(args.runs) / "reliability.png"
        draw_whole(out, lambda path: plot_reliability(scores, path), advice)
    else:
        out = args.out or common_folder(args.runs) / "comparison.png"
        draw_whole(out, lambda path: draw_folders(args.runs, path, log_x=args.log_x, metric=args.metric,
                                                  smoothing_std=args.smoothing_std, ylim=args.ylim), advice)
    return out


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
