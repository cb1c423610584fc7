"""Two checkouts of looptrain side by side: did a change move the default path's speed?

    git worktree add /tmp/before 1ad4f73
    python benchmarks/trees.py /tmp/before .      # Tiny (300 epochs) and Combined (20), 3 repetitions
    python benchmarks/trees.py /tmp/before . --experiments experiments/medium.py --epochs 300 --repeats 5

Each run is the checkout's own `benchmarks/vs_fit.py` looptrain child (`looptrain.train.train`, what
the command runs) in a fresh process whose `PYTHONPATH` is that checkout, on the same synthetic
file, with the experiment's own defaults. The two checkouts alternate, the first first in odd
repetitions and the second first in even ones, so that a machine that gets slower or faster weighs
on both alike. The figure is `vs_fit`'s: epochs a second after the warm-up, median (and range) over
the repetitions. Nothing here is a test; the numbers go to docs/performance.md.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import vs_fit

from looptrain.errors import ArgumentParser


def run_in(checkout: Path, experiment: str, epochs: int, data_path: str, logdir: Path) -> float:
    """One run of `checkout`'s looptrain child; its steady epochs a second."""
    arguments = [sys.executable, str(checkout / "benchmarks" / "vs_fit.py"), "--child", "looptrain",
                 str(checkout / experiment), str(epochs), "10000", data_path, str(logdir)]
    finished = subprocess.run(arguments, cwd=checkout, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(checkout)})
    if finished.returncode != 0:
        sys.exit(f"trees: the run in {checkout} failed: {' '.join(arguments)}")
    return vs_fit.steady_rate(json.loads(finished.stdout.strip().splitlines()[-1])["ends"])


def main() -> None:
    parser = ArgumentParser(prog="trees", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--experiments", nargs="+", default=["experiments/tiny.py", "experiments/combined.py"])
    parser.add_argument("--epochs", nargs="+", type=int, default=[300, 20], help="one count per experiment")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if len(args.epochs) != len(args.experiments):
        parser.error("give one --epochs count per experiment")
    data_path = vs_fit.prepare_data(10_000)
    checkouts = [args.before.resolve(), args.after.resolve()]
    rates = {(experiment, checkout): [] for experiment in args.experiments for checkout in checkouts}
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(args.repeats):
            for experiment, epochs in zip(args.experiments, args.epochs):
                for checkout in checkouts if repetition % 2 == 0 else checkouts[::-1]:
                    logdir = Path(tempfile.mkdtemp(dir=scratch))  # a fresh run folder for each run
                    rates[experiment, checkout].append(run_in(checkout, experiment, epochs, data_path, logdir))
    print(f"| experiment | epochs | {checkouts[0]} epochs/s | {checkouts[1]} epochs/s | after / before |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for experiment, epochs in zip(args.experiments, args.epochs):
        before, after = (rates[experiment, checkout] for checkout in checkouts)
        cells = [f"{statistics.median(r):.2f} ({min(r):.2f}–{max(r):.2f})" for r in (before, after)]
        ratio = statistics.median(a / b for a, b in zip(after, before))
        print(f"| {Path(experiment).stem} | {epochs} | {cells[0]} | {cells[1]} | {ratio:.3f}× |")


if __name__ == "__main__":
    main()
