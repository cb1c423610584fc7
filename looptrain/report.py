"""The comparison table of finished runs: printed, and written as Markdown for a README or a notebook.

    python -m looptrain.report RUN_DIR [RUN_DIR ...] [--out FILE.md]

One row a run: the end-of-training summary (`history.summarize`, so the same numbers the training
command prints) worked out again from the run's `history.csv`, plus what only the saved weights
tell: the parameter count and Σw² over the kernels, the number L2 keeps small. The Markdown goes to
`--out`, by default `report.md` in the folder that holds the runs, beside `looptrain.plot`'s
pictures; its first line, an HTML comment that Markdown does not show, signs it as looptrain's
(`ownership`), and a file that does not carry it is never written over. It never imports TensorFlow.
Not here: pictures (`looptrain.plot`).
"""

import sys
from pathlib import Path

from rich.console import Console

from looptrain import ownership
from looptrain.console import summary_cells, summary_table
from looptrain.errors import ArgumentParser, InputError, WriteFailed
from looptrain.files import write_whole
from looptrain.history import Run, common_folder, kernels, read_run, read_weights, summarize


# The report file's first line: Markdown shows nothing of it, and it tells looptrain the file is its own.
SIGNED = f"<!-- {ownership.SIGNATURE}.report, from the runs' history.csv and best.weights.h5 -->\n"


def run_row(run: Run) -> dict:
    """The summary of one finished run, and the size of its saved weights."""
    row = summarize(run.name, run.epochs, run.best_epoch)
    weights = read_weights(run.folder / "best.weights.h5")
    row["parameters"] = sum(values.size for values in weights.values())
    row["squared_weights"] = sum(float((kernel ** 2).sum()) for kernel in kernels(weights).values())
    return row


def markdown_table(rows: list[dict]) -> str:
    """The console table's headings and cells as a Markdown table: the experiment left, numbers right."""
    headings, cells = summary_cells(rows)
    lines = ["| " + " | ".join(headings) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(headings) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def parse_args(argv):
    parser = ArgumentParser(prog="python -m looptrain.report",
                            description="Compare finished runs in one table, printed and written as Markdown.")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run folders (LOGDIR/<experiment>/) holding config.json, history.csv and best.weights.h5")
    parser.add_argument("--out", type=Path, metavar="FILE.md",
                        help="where the Markdown table goes (default: report.md in the folder that holds the runs)")
    args = parser.parse_args(argv)
    if args.out and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: folder {args.out.parent} does not exist")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out or common_folder(args.runs) / "report.md"
    try:
        rows = [run_row(read_run(folder)) for folder in args.runs]
        ownership.check_file(out, "choose another --out")
        write_whole(out, lambda path: path.write_text(SIGNED + markdown_table(rows)))
    except (InputError, WriteFailed) as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return error.exit_code
    # A terminal's own width; elsewhere (a file, a pipe) wide enough for every column, not rich's 80.
    Console(width=None if sys.stdout.isatty() else 160).print(summary_table(rows))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
