"""The command that compares finished runs and sweeps in one table: it parses the command line, calls
`results.tables`, prints the table and writes it as Markdown, and turns errors into exit codes.

    python -m looptrain.report RUN_OR_SWEEP_DIR [RUN_OR_SWEEP_DIR ...] [--out FILE.md]

The first table compares the runs; a second, where the runs had test rows, gives their best and final
weights' scores on them (test.json). The Markdown goes to `--out`, by default `report.md` in the
folder that holds the runs, beside `looptrain.plot`'s pictures. What the columns mean:
docs/experiments.md, "Looking at finished runs". It never imports TensorFlow.
"""

import sys
from pathlib import Path

from rich.console import Console

from looptrain.errors import ArgumentParser, InputError, WriteFailed
from looptrain.launch.console import TEST_COLUMNS, summary_table
from looptrain.results.tables import SPREAD_NOTE, has_spread, rows_of, test_rows_of, write_markdown
from looptrain.runfolder.history import common_folder


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


if __name__ == "__main__":
    sys.exit(main())
