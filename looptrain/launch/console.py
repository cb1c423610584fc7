"""What a person watching a run sees: a rich progress bar, or tensorflow_docs' dots, and a summary.

Both reporters take the same calls from `train`: `start`, then `epoch` once per epoch with that
epoch's results, then `finish`; `warn` for something to say once; `rows_made` while the synthetic
data file is made, before a run. The summary table comes last, over every run of the command.
Nothing here touches TensorFlow or the run's files.
"""

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def make_reporter(dots: bool):
    """Dots where asked, or where the output is neither a terminal nor a Jupyter notebook (a log file
    has no use for a bar); in a notebook, rich draws its live display in the cell's output."""
    console = Console()
    return DotsReporter() if dots or not (sys.stdout.isatty() or console.is_jupyter) else ProgressReporter(console)


class ProgressReporter:
    # In a notebook rich draws the bar into an ipywidgets Output, and while a thread is inside that
    # widget everything the cell shows goes into it. rich's own refresh thread would then swallow the
    # cell's later output (the run's last line, a picture, a table) now and then, so in a notebook the
    # bar is redrawn from the training thread instead, this many times a second at most.
    REDRAWS_PER_SECOND = 4

    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self.by_hand = self.console.is_jupyter
        self.drawn = 0.0

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {text}")

    def rows_made(self, done: int, total: int) -> None:
        if done == 0:
            self.making = Progress(TextColumn("making synthetic rows"), BarColumn(), MofNCompleteColumn(),
                                   TimeElapsedColumn(), console=self.console, auto_refresh=not self.by_hand)
            self.making_task = self.making.add_task("rows", total=total)
            self.making.start()
        self.making.update(self.making_task, completed=done, refresh=self.by_hand)  # a chunk at a time: each is seen
        if done == total:
            self.making.stop()

    def start(self, name: str, max_epochs: int, heading: str) -> None:
        self.console.print(heading, highlight=False)
        self.progress = Progress(
            TextColumn(f"[bold]{name}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=self.console,
            auto_refresh=not self.by_hand,
        )
        self.task = self.progress.add_task(name, total=max_epochs, status="")
        self.progress.start()

    def epoch(self, epoch: int, results: dict, best_epoch: int | None) -> None:
        done = epoch + 1
        rate = done / results["seconds"]
        # The left-over time assumes the run goes all the way; early stopping usually ends it sooner.
        left = (self.progress.tasks[0].total - done) / rate
        status = (f"train {results['binary_crossentropy']:.4f}  val {results['val_binary_crossentropy']:.4f}  "
                  f"AUC {results['val_auc']:.4f}  best epoch {best_epoch}  lr {results['learning_rate']:.2e}  "
                  f"{rate:.1f} epochs/s  ≤{left / 60:.0f} min left")
        self.progress.update(self.task, completed=done, status=status)
        if self.by_hand and time.monotonic() - self.drawn >= 1 / self.REDRAWS_PER_SECOND:
            self.progress.refresh()
            self.drawn = time.monotonic()

    def finish(self, text: str) -> None:
        self.progress.stop()
        self.console.print(text)

    def summary(self, rows: list[dict]) -> None:
        self.console.print(summary_table(rows))


class DotsReporter:
    """tensorflow_docs' EpochDots: a dot per epoch, and every 100 epochs all the results."""

    report_every = 100

    def warn(self, text: str) -> None:
        print(f"warning: {text}", flush=True)

    def rows_made(self, done: int, total: int) -> None:
        if done == 0:
            print(f"making {total:,} synthetic rows for the data cache...", end="", flush=True)
        elif done == total:
            print(" done", flush=True)

    def start(self, name: str, max_epochs: int, heading: str) -> None:
        print(heading, flush=True)

    def epoch(self, epoch: int, results: dict, best_epoch: int | None) -> None:
        if epoch % self.report_every == 0:
            print()
            print(f"Epoch: {epoch:d}, " + "".join(f"{name}:{value:0.4f},  " for name, value in sorted(results.items())))
        print(".", end="", flush=True)

    def finish(self, text: str) -> None:
        print()
        print(text, flush=True)

    def summary(self, rows: list[dict]) -> None:
        Console(width=160).print(summary_table(rows))  # wide enough for every column, as in a log file


# The summary's columns: a row's key, the heading, and how the value is written. A column shows only
# where every row has its key: the training command's rows (`history.summarize`) know nothing of the
# saved weights, which `looptrain.report` adds. A value of None (a run without test rows) is "–", and
# a column of nothing else is left out.
SUMMARY_COLUMNS = [
    ("name", "experiment", "{}"),
    ("epochs", "epochs", "{}"),
    ("best_epoch", "best epoch", "{}"),
    ("best_val", "best val BCE", "{:.4f}"),
    ("final_val", "final val BCE", "{:.4f}"),
    ("final_train", "final train BCE", "{:.4f}"),
    ("gap", "gap (val − train)", "{:.4f}"),
    ("test_bce", "test BCE", "{:.4f}"),  # the best weights', on the test rows
    ("test_auc", "test AUC", "{:.4f}"),
    ("final_test_bce", "final test BCE", "{:.4f}"),  # the final weights'
    ("parameters", "parameters", "{:,}"),
    ("squared_weights", "Σw² (kernels)", "{:,.1f}"),
    ("seconds", "seconds", "{:.0f}"),
]
# `looptrain.report`'s second table: a row for each set of weights a run kept, scored on its test rows
# (`runfolder.scores`); "at T": after temperature scaling.
TEST_COLUMNS = [
    ("name", "experiment", "{}"),
    ("weights", "weights", "{}"),
    ("epoch", "epoch", "{}"),
    ("binary_crossentropy", "test BCE", "{:.4f}"),
    ("binary_crossentropy_se", "its s.e.", "{:.4f}"),
    ("val_binary_crossentropy", "val BCE", "{:.4f}"),  # the same weights' on the validation rows, from history.csv
    ("test_minus_val", "test − val", "{:.4f}"),  # for the best weights: what choosing the epoch on them hid
    ("accuracy", "accuracy", "{:.4f}"),
    ("auc", "AUC", "{:.4f}"),
    ("ece", "ECE", "{:.4f}"),
    ("temperature", "T", "{:.2f}"),
    ("scaled_binary_crossentropy", "BCE at T", "{:.4f}"),
    ("scaled_ece", "ECE at T", "{:.4f}"),
]


def summary_cells(rows: list[dict], columns: list = SUMMARY_COLUMNS) -> tuple[list[str], list[list[str]]]:
    """The headings and each row's cells as text: one source for the console table and the Markdown
    one. The first column (the experiment) is text, the others are numbers, aligned right."""
    columns = [(key, heading, form) for key, heading, form in columns
               if all(key in row for row in rows) and (not rows or any(row[key] is not None for row in rows))]
    headings = [heading for _, heading, _ in columns]
    cells = [["–" if row[key] is None else form.format(row[key]) for key, _, form in columns] for row in rows]
    return headings, cells


def summary_table(rows: list[dict], columns: list = SUMMARY_COLUMNS, title: str = "looptrain summary") -> Table:
    table = Table(title=title)
    headings, cells = summary_cells(rows, columns)
    for index, heading in enumerate(headings):
        table.add_column(heading, justify="left" if index == 0 else "right")
    for row in cells:
        table.add_row(*row)
    return table
