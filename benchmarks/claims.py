"""The tutorial's claims judged over seeds, on the test rows and on the validation rows, from finished sweeps.

    python benchmarks/claims.py runs/real runs/synthetic

Each argument is a folder holding the seven experiments' and the remedies' sweeps over seeds (`tiny/`,
`small/`, ... `combined/`, `batchnorm/`, `symmetries/`, `noise/`, as `python -m looptrain.run
experiments/{tiny,...,noise}.py --sweep seed=0,1,2,3,4 --logdir FOLDER` leaves them), one data set each.
Four Markdown tables, a column group per folder:
- the pairs the tutorial compares, then the remedies' pairs (docs/results.md, "Batch normalization and
  augmentation"): Δ, the first experiment's mean minus the second's (negative: the first is better),
  and Welch's t over the seeds (docs/results.md, "How a claim is judged"), on the best weights' test
  cross-entropy and, beside it, on the best validation cross-entropy;
- the selection's optimism: each seed's best weights on the test rows minus their best validation
  cross-entropy, mean ± sample sd over the seeds;
- the cost of overfitting on the test rows: each seed's final weights' test cross-entropy minus its
  best weights', mean ± sample sd.
The numbers come from each run's history.csv and test.json (`history.summarize`); a sweep without
test rows is refused; one whose seeds are not all done is left out, with the pairs it is in, so the
tables can be drawn while the sweeps still run. Nothing here is a test; the tables go to docs/results.md.
"""

import math
import sys
from pathlib import Path

from looptrain.errors import ArgumentParser
from looptrain.results.aggregate import spread
from looptrain.runfolder.history import summarize
from looptrain.runfolder.sweep import read_record, read_sweep

EXPERIMENTS = ["tiny", "small", "medium", "large", "l2", "dropout", "combined", "batchnorm", "symmetries", "noise"]
# The tutorial's comparisons: the remedies against each other and Large, and the sizes against each other.
PAIRS = [("combined", "l2"), ("combined", "dropout"), ("combined", "large"), ("combined", "tiny"),
         ("combined", "small"), ("l2", "dropout"), ("l2", "large"), ("dropout", "large"), ("tiny", "small"),
         ("tiny", "large"), ("small", "large"), ("medium", "large"), ("tiny", "medium")]
# The remedies the tutorial names and leaves out, against what they change (Large) and its best (Combined).
REMEDY_PAIRS = [("batchnorm", "large"), ("symmetries", "large"), ("noise", "large"), ("symmetries", "noise"),
                ("symmetries", "combined"), ("batchnorm", "combined")]


def seed_numbers(folder: Path) -> dict[str, dict[str, list[float]]]:
    """{experiment: {number: [one value a seed]}} of one data set's finished sweeps; a sweep still
    running (not every seed done) or not begun is left out, and so are the pairs it is in."""
    numbers = {}
    for experiment in EXPERIMENTS:
        record = read_record(folder / experiment)
        if record is None or len(record["done"]) < len(record["values"]):
            continue
        sweep = read_sweep(folder / experiment)
        rows = [summarize(run.name, run.epochs, run.best_epoch, run.scores) for run in sweep.runs.values()]
        if any(row["test_bce"] is None for row in rows):
            sys.exit(f"claims: {folder / experiment} has runs without test rows (docs/data.md, \"Test rows\")")
        numbers[experiment] = {
            "test": [row["test_bce"] for row in rows],
            "validation": [row["best_val"] for row in rows],
            "optimism": [row["test_bce"] - row["best_val"] for row in rows],
            "overfitting": [row["final_test_bce"] - row["test_bce"] for row in rows],
        }
    return numbers


def welch(first: list[float], second: list[float]) -> tuple[float, float]:
    """(Δ of the means, Welch's t): Δ over √(sd₁²/n₁ + sd₂²/n₂)."""
    a, b = spread(first), spread(second)
    difference = a.mean - b.mean
    return difference, difference / math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n)


def verdict(t: float) -> str:
    return "beyond" if abs(t) >= 3 else "likely" if abs(t) >= 2 else "within"


def name(experiment: str) -> str:
    return {"l2": "L2"}.get(experiment, experiment.title())


def main() -> None:
    parser = ArgumentParser(prog="claims", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    args = parser.parse_args()
    data = {folder.name: seed_numbers(folder) for folder in args.folders}

    headings = [cell for label in data for cell in (f"{label}: Δ test BCE", "t", "", "Δ best val BCE", "t")]
    for pairs in (PAIRS, REMEDY_PAIRS):
        # The pairs every data set has finished.
        finished = [pair for pair in pairs if all(set(pair) <= set(numbers) for numbers in data.values())]
        if not finished:
            continue
        print("| | " + " | ".join(headings) + " |")
        print("| --- |" + " ---: | ---: | --- | ---: | ---: |" * len(data))
        for first, second in finished:
            cells = []
            for numbers in data.values():
                for kind in ("test", "validation"):
                    difference, t = welch(numbers[first][kind], numbers[second][kind])
                    cells += [f"{difference:+.4f}", f"{t:+.1f}"] + ([verdict(t)] if kind == "test" else [])
            print(f"| {name(first)} − {name(second)} | " + " | ".join(cells) + " |")
        print()

    for kind, heading in [("optimism", "test − best val (the best weights)"),
                          ("overfitting", "final − best test BCE")]:
        print("| | " + " | ".join(f"{label}: {heading}" for label in data) + " |")
        print("| --- |" + " ---: |" * len(data))
        for experiment in [experiment for experiment in EXPERIMENTS if all(experiment in numbers for numbers in data.values())]:
            print(f"| {name(experiment)} | " + " | ".join(f"{spread(numbers[experiment][kind]):.4f}"
                                                         for numbers in data.values()) + " |")
        print()


if __name__ == "__main__":
    main()
