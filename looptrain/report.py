"""The comparison table of finished runs and sweeps: printed, and written as Markdown for a README or a notebook.

    python -m looptrain.report RUN_OR_SWEEP_DIR [RUN_OR_SWEEP_DIR ...] [--out FILE.md]

One row a run: the end-of-training summary (`history.summarize`, so the same numbers the training
command prints) worked out again from the run's `history.csv`, plus what only the saved weights
tell: the parameter count and Σw² over the kernels, the number L2 keeps small. A sweep's folder
(`looptrain.runfolder.sweep`) gives rows too: a sweep over seeds one row, each number the mean ± the sample
standard deviation over its finished seeds (`aggregate.seed_row`; how many in the experiment's cell,
how the sd is defined in a note under the table), and a sweep over another field one row per point,
"Medium n_train=1000". Runs and sweeps may share a table. The Markdown goes to `--out`, by default
`report.md` in the folder that holds the runs, beside `looptrain.plot`'s pictures; its first line,
an HTML comment that Markdown does not show, signs it as looptrain's (`ownership`), and a file that
does not carry it is never written over. It never imports TensorFlow. Not here: pictures
(`looptrain.plot`), and the arithmetic across a sweep (`aggregate`).
"""

import sys
from pathlib import Path

from rich.console import Console

from looptrain.errors import ArgumentParser, InputError, WriteFailed
from looptrain.launch.console import summary_cells, summary_table
from looptrain.results.aggregate import Spread, seed_row
from looptrain.runfolder import ownership
from looptrain.runfolder.files import write_whole
from looptrain.runfolder.history import Run, common_folder, kernels, read_run, read_weights, summarize
from looptrain.runfolder.sweep import is_sweep, read_sweep

# The report file's first line: Markdown shows nothing of it, and it tells looptrain the file is its own.
SIGNED = f"<!-- {ownership.SIGNATURE}.report, from the runs' history.csv and best.weights.h5 -->\n"
# Under a table with a sweep over seeds in it: what its "±" means.
SPREAD_NOTE = ("Over a sweep's n seeds, \"(n seeds)\": mean ± sample standard deviation (ddof=1, dividing by "
               "n − 1); \"± –\" where n = 1, which has no spread.")


def run_row(run: Run) -> dict:
    """The summary of one finished run, and the size of its saved weights."""
    row = summarize(run.name, run.epochs, run.best_epoch)
    weights = read_weights(run.folder / "best.weights.h5")
    row["parameters"] = sum(values.size for values in weights.values())
    row["squared_weights"] = sum(float((kernel ** 2).sum()) for kernel in kernels(weights).values())
    return row


def rows_of(folder: Path) -> list[dict]:
    """A run folder's row, a sweep over seeds' one row, or a sweep over another field's row per point."""
    if not is_sweep(folder):
        return [run_row(read_run(folder))]
    sweep = read_sweep(folder)
    rows = [run_row(run) for run in sweep.runs.values()]
    if sweep.over_seeds:
        return [seed_row(f"{sweep.name} ({len(rows)} seed{'s' if len(rows) > 1 else ''})", rows)]
    for run, row in zip(sweep.runs.values(), rows):
        row["name"] = f"{sweep.name} {run.folder.name}"  # the point's folder is named FIELD=VALUE
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The console table's headings and cells as a Markdown table: the experiment left, numbers right."""
    headings, cells = summary_cells(rows)
    lines = ["| " + " | ".join(headings) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(headings) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="python -m looptrain.report",
                            description="Compare finished runs in one table, printed and written as Markdown.")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_OR_SWEEP_DIR",
                        help="run folders (LOGDIR/<experiment>/) holding config.json, history.csv and "
                             "best.weights.h5, or sweep folders holding sweep.json and a run folder per point")
    parser.add_argument("--out", type=Path, metavar="FILE.md",
                        help="where the Markdown table goes (default: report.md in the folder that holds the runs)")
    return parser


def parse_args(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.out and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: folder {args.out.parent} does not exist")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or common_folder(args.runs) / "report.md"
    try:
        rows = [row for folder in args.runs for row in rows_of(folder)]
        sweeps_over_seeds = any(isinstance(value, Spread) for row in rows for value in row.values())
        note = f"\n{SPREAD_NOTE}\n" if sweeps_over_seeds else ""
        ownership.check_file(out, "choose another --out")
        write_whole(out, lambda path: path.write_text(SIGNED + markdown_table(rows) + note))
    except (InputError, WriteFailed) as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return error.exit_code
    # A terminal's own width; elsewhere (a file, a pipe) wide enough for every column, not rich's 80.
    table = summary_table(rows)
    if sweeps_over_seeds:
        table.caption = SPREAD_NOTE
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
