"""The command that compares finished runs and sweeps in one table: it parses the command line, calls
`results.tables`, prints the table and writes it as Markdown, and turns errors into exit codes.

    python -m looptrain.report RUN_OR_SWEEP_DIR [RUN_OR_SWEEP_DIR ...] [--out FILE.md]
    python -m looptrain.report SWEEP_DIR [SWEEP_DIR ...] --bias-variance best|final [--out FILE.png]

The first table compares the runs; a second, where the runs had test rows, gives their best and final
weights' scores on them (test.json). The Markdown goes to `--out`, by default `report.md` in the
folder that holds the runs, beside `looptrain.plot`'s pictures. What the columns mean:
docs/experiments.md, "Looking at finished runs". It never imports TensorFlow, but for
`--bias-variance`: the split of seed sweeps' test cross-entropy (`results.bias_variance`) needs each
seed's weights to predict the test rows again (`looptrain.predictions`); its table is printed and its
picture drawn, by default to bias-variance.png in the folder that holds the runs.
"""

import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from looptrain.errors import ArgumentParser, InputError, WriteFailed
from looptrain.launch.console import TEST_COLUMNS, summary_table
from looptrain.results import bias_variance
from looptrain.results.pictures import PICTURE_TYPES, draw_whole
from looptrain.results.tables import SPREAD_NOTE, has_spread, rows_of, test_rows_of, write_markdown
from looptrain.runfolder.history import common_folder


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m looptrain.report",
                            description="Compare finished runs in one table, printed and written as Markdown.")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_OR_SWEEP_DIR",
                        help="run folders (LOGDIR/<experiment>/) holding config.json, history.csv and "
                             "best.weights.h5, or sweep folders holding sweep.json and a run folder per point")
    parser.add_argument("--out", type=Path, metavar="FILE.md",
                        help="where the Markdown table goes (default: report.md in the folder that holds the runs); "
                             "with --bias-variance, the picture (default: bias-variance.png there)")
    parser.add_argument("--bias-variance", choices=["best", "final"], metavar="best|final",
                        help="split the test cross-entropy of seed sweeps into bias and variance, from each seed's "
                             "best or final weights (imports TensorFlow, to predict the test rows)")
    return parser


def parse_args(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.out and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: folder {args.out.parent} does not exist")
    if args.bias_variance and args.out and args.out.suffix.lstrip(".") not in PICTURE_TYPES:
        parser.error(f"--out {args.out}: with --bias-variance, a picture: .{', .'.join(PICTURE_TYPES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.bias_variance:
        return report_bias_variance(args.runs, args.bias_variance, args.out)
    out = args.out or common_folder(args.runs) / "report.md"
    try:
        rows = [row for folder in args.runs for row in rows_of(folder)]
        test_rows = [row for folder in args.runs for row in test_rows_of(folder)]
        write_markdown(rows, out, "choose another --out", test_rows)
    except (InputError, WriteFailed) as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return error.exit_code
    # A terminal's own width; elsewhere (a file, a pipe) wide enough for every column, not rich's 80.
    console = Console(width=None if sys.stdout.isatty() else 160)
    tables = [summary_table(rows)] + ([summary_table(test_rows, TEST_COLUMNS, "on the test rows")] if test_rows else [])
    if has_spread(rows + test_rows):
        tables[-1].caption = SPREAD_NOTE
    for table in tables:
        console.print(table)
    print(f"wrote {out}")
    return 0


def report_bias_variance(folders: list[Path], weights: str, out: Path | None) -> int:
    """Group the runs into seed sweeps' members, predict each member's test rows, print each group's
    split and test error, and draw them against the field that tells the groups apart."""
    out = out or common_folder(folders) / "bias-variance.png"
    from looptrain.launch.quiet import import_tensorflow_quietly

    try:
        groups = bias_variance.member_groups(folders)  # refused, where they must be, before TensorFlow starts
        import_tensorflow_quietly()  # the one part of the command that needs it: the members predict again
        from looptrain.predictions import test_logits

        results = {}
        for key, members in groups.items():
            predicted = [test_logits(member, weights) for member in members]
            labels = predicted[0][1]
            if any(len(other) != len(labels) or (other != labels).any() for _, other in predicted):
                raise InputError(f"the seeds in {members[0].parent} did not predict the same test rows")
            logits = np.stack([each for each, _ in predicted])
            member_errors, ensemble_error = bias_variance.error_rates(logits, labels)
            results[key] = {**bias_variance.split(logits, labels), "member_errors": member_errors,
                            "ensemble_error": ensemble_error,
                            "training_errors": [bias_variance.training_error(member, weights) for member in members]}
        rows = bias_variance.group_rows(results)
        draw_whole(out, lambda path: bias_variance.plot_split(rows, bias_variance.varied_field(results), weights,
                                                               path), "choose another --out")
    except (InputError, WriteFailed) as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return error.exit_code
    table = Table(title=f"bias-variance split of the test cross-entropy, {weights} weights")
    for heading in ("experiment", "seeds", "members' mean CE", "bias (ensemble CE)", "variance (mean KL)",
                    "members' test error", "ensemble's test error", "members' training error"):
        table.add_column(heading, justify="left" if heading == "experiment" else "right")
    for row in rows:
        table.add_row(row["name"], str(row["members"]), f"{row['mean_member']:.4f}", f"{row['bias']:.4f}",
                      f"{row['variance']:.4f}", f"{row['error']:.4f}", f"{row['ensemble_error']:.4f}",
                      f"{row['training_error']:.4f}")
    table.caption = SPREAD_NOTE
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
