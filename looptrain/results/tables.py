"""The comparison table of finished runs and sweeps: its rows read back from disk, and its Markdown.

A run gives one row: the training command's summary (`history.summarize`) worked out again from its
`history.csv` and `test.json`, plus what only the saved weights tell (the parameter count, Σw² over
the kernels). A sweep over seeds gives one row of mean ± sample sd (`aggregate.seed_row`), a sweep
over another field a row a point. A second table gives each run's test scores in full, a row for its
best and one for its final weights, beside the same weights' validation cross-entropy (`test_rows_of`). The Markdown is signed as looptrain's in its
first line. Not here: the console's tables (`launch.console`, which lends the headings and cells),
pictures (`curves`). What the columns mean: docs/experiments.md, "Looking at finished runs".
"""

from pathlib import Path

from looptrain.launch.console import SUMMARY_COLUMNS, TEST_COLUMNS, summary_cells
from looptrain.results.aggregate import Spread, seed_row
from looptrain.runfolder import ownership
from looptrain.runfolder.files import write_whole
from looptrain.runfolder.history import Run, kernels, read_run, read_weights, summarize
from looptrain.runfolder.scores import WEIGHTS
from looptrain.runfolder.sweep import is_sweep, read_sweep

# The report file's first line: Markdown shows nothing of it, and it tells looptrain the file is its own.
SIGNED = f"<!-- {ownership.SIGNATURE}.report, from the runs' history.csv, best.weights.h5 and test.json -->\n"
# Under a table with a sweep over seeds in it: what its "±" means.
SPREAD_NOTE = ("Over a sweep's n seeds, \"(n seeds)\": mean ± sample standard deviation (ddof=1, dividing by "
               "n − 1); \"± –\" where n = 1, which has no spread.")


def run_row(run: Run) -> dict:
    """The summary of one finished run, and the size of its saved weights."""
    row = summarize(run.name, run.epochs, run.best_epoch, run.scores)
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


def test_rows_of(folder: Path) -> list[dict]:
    """The test table's rows of a run or sweep folder: for the best and then the final weights, the
    numbers test.json holds, over a sweep's seeds as mean ± sd; none for runs without test rows."""
    sweep = read_sweep(folder) if is_sweep(folder) else None
    runs = list(sweep.runs.values()) if sweep else [read_run(folder)]
    scored = [run for run in runs if run.scores is not None]

    def row(run: Run, weights: str) -> dict:
        name = f"{sweep.name} {run.folder.name}" if sweep else run.name  # a point's folder: FIELD=VALUE
        scores = run.scores[weights]
        # The same weights on the validation rows. For the best weights, which the validation rows
        # chose, the test number's excess over it is the selection's optimism with the rows' draw; for
        # the final ones, which nothing chose, the draw alone.
        validation = run.history["val_binary_crossentropy"][scores["epoch"]]
        return {"name": name, "weights": weights, "val_binary_crossentropy": validation,
                "test_minus_val": scores["binary_crossentropy"] - validation,
                **{key: scores[key] for key, _, _ in TEST_COLUMNS if key in scores}}

    if sweep and sweep.over_seeds and scored:
        seeds = f"{sweep.name} ({len(scored)} seed{'s' if len(scored) > 1 else ''})"
        return [seed_row(seeds, [row(run, weights) for run in scored]) for weights in WEIGHTS]
    return [row(run, weights) for run in scored for weights in WEIGHTS]


def has_spread(rows: list[dict]) -> bool:
    """Whether a sweep over seeds gave one of `rows`, so that the table needs `SPREAD_NOTE` under it."""
    return any(isinstance(value, Spread) for row in rows for value in row.values())


def markdown_table(rows: list[dict], columns: list = SUMMARY_COLUMNS) -> str:
    """The console table's headings and cells as a Markdown table: the experiment left, numbers right."""
    headings, cells = summary_cells(rows, columns)
    lines = ["| " + " | ".join(headings) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(headings) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def write_markdown(rows: list[dict], path: Path, advice: str, test_rows: list[dict] = ()) -> None:
    """The signed Markdown table of `rows`, then of `test_rows` if any, with `SPREAD_NOTE` where it
    applies, written whole to `path`, which must not be a file of someone else's (`advice` says what
    to do instead)."""
    text = SIGNED + markdown_table(rows)
    if test_rows:
        text += "\nOn the test rows:\n\n" + markdown_table(list(test_rows), TEST_COLUMNS)
    if has_spread(rows + list(test_rows)):
        text += f"\n{SPREAD_NOTE}\n"
    ownership.check_file(path, advice)
    write_whole(path, lambda temporary: temporary.write_text(text))
