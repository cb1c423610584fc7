"""The lab's measures (docs/results.md, "The lab"), read from its finished run folders.

    python benchmarks/lab.py runs/lab

The folder is the lab's `--logdir` (its commands are in docs/results.md). Markdown tables, each seed a
row and mean ± sample sd over the seeds below:
- memorization (`memorization/`, random labels): the final training cross-entropy, the first epoch it is
  below 0.05, and the final validation and test accuracies beside the larger class's share of those rows;
- noisy labels (`noisy_labels/`, `noisy_labels_dropout/`): the flipped rows' training accuracy
  (against the labels they were given) at the best validation epoch and at the end, and the first
  epoch it passes 0.5; the ratio of the two experiments' mean first epochs;
- double descent (`dd-0/seed=*/double_descent`, `dd-20/...`): the final weights' test error (1 − the
  accuracy on the test rows, test.json) and training error (1 − the last epoch's accuracy) against
  the width, mean ± sd over the seeds; the width of the test error's peak, the first width whose
  training error is 0 in every seed, and the widest network's distance below the peak in standard
  errors, √(sd²/n) of each side combined as Welch's t has it.
The bias and variance, and the sweep over the training rows (`dd-rows/`), are `python -m looptrain.report
... --bias-variance final`'s. Nothing here is a test; the numbers go to docs/results.md.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np

from looptrain.config import Config
from looptrain.launch.quiet import import_tensorflow_quietly
from looptrain.results.aggregate import spread
from looptrain.runfolder.sweep import read_record, read_sweep


def finished(folder: Path) -> list:
    """The runs of a sweep's finished points, in the order of its values; none while it has none done."""
    return list(read_sweep(folder).runs.values()) if read_record(folder)["done"] else []


def first(values, test) -> int | None:
    return next((epoch for epoch, value in enumerate(values) if test(value)), None)


def cell(values, spec=".4f") -> str:
    """Mean ± sample sd of the values given (None: a seed where it did not happen, left out)."""
    values = [value for value in values if value is not None]
    return f"{spread(values):{spec}}" if values else "–"


def majority_shares(run) -> tuple[float, float]:
    """The larger class's share of the run's validation rows and of its test rows (the same rows for
    every seed)."""
    import_tensorflow_quietly()
    from looptrain.data import higgs

    record = json.loads((run.folder / "config.json").read_text())
    config = Config(**record["fields"])
    data = higgs.load(higgs.resolve(record["data"], config), config)
    return tuple(float(max(labels.numpy().mean(), 1 - labels.numpy().mean()))
                 for labels in (data.validation_labels, data.test_labels))


def memorization(folder: Path) -> None:
    runs = finished(folder)
    if not runs:
        return
    share, test_share = majority_shares(runs[0])
    print(f"\n### Memorization ({len(runs)} seeds; the larger class is {share:.4f} of the validation rows, "
          f"{test_share:.4f} of the test rows)\n")
    print("| seed | epochs | final train BCE | first epoch < 0.05 | final val accuracy | − larger class | "
          "final test accuracy | − larger class |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    columns = []
    for run in runs:
        train, accuracy = run.history["binary_crossentropy"], run.history["val_accuracy"]
        test = run.scores["final"]["accuracy"]
        row = [len(train), train[-1], first(train, lambda v: v < 0.05), accuracy[-1], accuracy[-1] - share,
               test, test - test_share]
        columns.append(row)
        print(f"| {run.folder.name} | {row[0]} | {row[1]:.4f} | {row[2]} | {row[3]:.4f} | {row[4]:+.4f} | "
              f"{row[5]:.4f} | {row[6]:+.4f} |")
    specs = [".1f", ".4f", ".1f", ".4f", ".4f", ".4f", ".4f"]
    print("| mean ± sd | " + " | ".join(cell(column, spec) for column, spec in zip(zip(*columns), specs)) + " |")


def noisy(folders: list[Path]) -> None:
    print("\n### 20% label noise: the flipped rows' training accuracy\n")
    print("| experiment | seed | epochs | best epoch | at the best epoch | at the end | first epoch > 0.5 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    passing = {}
    for folder in folders:
        columns = []
        for run in finished(folder):
            flipped = run.history["flipped_accuracy"]
            row = [len(flipped), run.best_epoch, flipped[run.best_epoch], flipped[-1], first(flipped, lambda v: v > 0.5)]
            columns.append(row)
            print(f"| {folder.name} | {run.folder.name} | {row[0]} | {row[1]} | {row[2]:.4f} | "
                  f"{row[3]:.4f} | {row[4]} |")
        if columns:
            specs = [".1f", ".1f", ".4f", ".4f", ".1f"]
            print(f"| {folder.name} mean ± sd | | "
                  + " | ".join(cell(column, spec) for column, spec in zip(zip(*columns), specs)) + " |")
            passing[folder.name] = [row[4] for row in columns if row[4] is not None]
    if all(passing.get(name) for name in ("noisy_labels", "noisy_labels_dropout")):
        ratio = np.mean(passing["noisy_labels_dropout"]) / np.mean(passing["noisy_labels"])
        print(f"\nDropout's mean first epoch past 0.5 over the plain one's: {ratio:.2f}×")


def double_descent(folders: list[Path], title: str) -> None:
    by_width: dict[int, list[tuple[float, float]]] = {}
    for folder in folders:
        for run in finished(folder):
            width = json.loads((run.folder / "config.json").read_text())["fields"]["units"]
            by_width.setdefault(width, []).append((1 - run.scores["final"]["accuracy"], 1 - run.history["accuracy"][-1]))
    if not by_width:
        return
    print(f"\n### Double descent, {title}\n")
    print("| width | parameters | seeds | test error | training error |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    widths = sorted(by_width)
    for width in widths:
        test, train = zip(*by_width[width])
        print(f"| {width} | {30 * width + 1:,} | {len(test)} | {cell(test)} | {cell(train)} |")
    means = {width: np.mean([test for test, _ in by_width[width]]) for width in widths}
    peak, widest = max(widths, key=means.get), widths[-1]
    interpolating = next((width for width in widths if all(train == 0 for _, train in by_width[width])), None)

    def standard_error(width):
        tests = [test for test, _ in by_width[width]]
        return np.std(tests, ddof=1) / math.sqrt(len(tests)) if len(tests) > 1 else math.nan

    t = (means[peak] - means[widest]) / math.hypot(standard_error(peak), standard_error(widest))
    print(f"\nPeak of the test error at width {peak}; training error 0 in every seed from width {interpolating}; "
          f"the widest ({widest}) is {means[peak] - means[widest]:.4f} below the peak, {t:.1f} standard errors.")


def main(argv) -> int:
    if len(argv) != 1:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    lab = Path(argv[0])

    def sweeps(pattern: str) -> list[Path]:  # wherever below the lab's folder its commands put them
        return sorted(record.parent for record in lab.glob(f"**/{pattern}/sweep.json"))

    for folder in sweeps("memorization"):
        memorization(folder)
    noisy(sweeps("noisy_labels") + sweeps("noisy_labels_dropout"))
    for noise in ("0", "20"):
        double_descent(sweeps(f"dd-{noise}/seed=*/double_descent"), f"{noise}% label noise")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
