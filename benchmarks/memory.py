"""Peak memory of a command of several runs against each of its runs alone.

    python benchmarks/memory.py                                       # the five IMDB experiments
    python benchmarks/memory.py --experiments experiments/tiny.py --sweep seed=0,1,2,3,4

A command of several runs (several experiment files, or a sweep) trains each run in a process of its
own, so that the memory one run used goes back to the system before the next starts. This measures
whether it does: the command once with all its runs, then each run alone as a command of its own,
and the ratio of the first peak to the largest of the others (issue #17 asks for at most 1.15).

Two peaks per command, both from the operating system:
- the largest single process (`ru_maxrss` of the command and its children, from `os.wait4`);
- the whole process tree at once: the resident memory of the command and every process below it,
  read from /proc every 20 ms and summed, which is what the machine has to hold.
Each command writes to a fresh temporary --logdir, and its output is thrown away. Nothing here is a
test; the numbers go to the docs' performance page.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMDB = [f"experiments/imdb/{name}.py" for name in ("baseline", "smaller", "bigger", "l2", "dropout")]


def tree_rss_kb(root: int) -> int:
    """The resident memory of `root` and all its descendants, in kilobytes, summed."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as status:
                    fields = dict(line.split(":", 1) for line in status if ":" in line)
            except OSError:  # it ended while we looked
                continue
            children.setdefault(int(fields["PPid"]), []).append(int(entry))
            rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, waiting = 0, [root]
    while waiting:
        pid = waiting.pop()
        total += rss.get(pid, 0)
        waiting += children.get(pid, [])
    return total


def measure(arguments: list[str]) -> tuple[float, float]:
    """(largest single process MB, whole tree MB) of `python -m looptrain.run ARGUMENTS`."""
    with tempfile.TemporaryDirectory() as logdir:
        process = subprocess.Popen([sys.executable, "-m", "looptrain.run", *arguments, "--logdir", logdir, "--dots"],
                                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tree_peak = 0
        while True:
            # wait4 reaps the command and gives the operating system's accounting of it: its ru_maxrss
            # is the largest of the command and the children it waited for.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, tree_rss_kb(process.pid))
            time.sleep(0.02)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"memory: the command failed (exit {os.waitstatus_to_exitcode(status)}): "
                 f"python -m looptrain.run {' '.join(arguments)}")
    return usage.ru_maxrss / 1024, tree_peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(prog="memory", description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=IMDB, metavar="EXPERIMENT.py")
    parser.add_argument("--sweep", metavar="FIELD=VALUE,...", help="one sweep of each experiment, against its points")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args()
    options = [word for assignment in args.set for word in ("--set", assignment)]
    together = [*args.experiments, *options] + (["--sweep", args.sweep] if args.sweep else [])
    if args.sweep:
        field, _, values = args.sweep.partition("=")
        alone = [[experiment, *options, "--set", f"{field}={value}"] for experiment in args.experiments
                 for value in values.split(",")]
    else:
        alone = [[experiment, *options] for experiment in args.experiments]

    print(f"together: python -m looptrain.run {' '.join(together)}")
    largest, tree = measure(together)
    print(f"  largest process {largest:,.0f} MB, whole tree {tree:,.0f} MB")
    peaks = []
    for arguments in alone:
        peaks.append(measure(arguments))
        print(f"alone: {' '.join(arguments)}: largest process {peaks[-1][0]:,.0f} MB, whole tree {peaks[-1][1]:,.0f} MB")
    most_alone = max(peak[1] for peak in peaks)
    print(f"together / largest alone: {tree / most_alone:.2f}× (whole trees), "
          f"{largest / max(peak[0] for peak in peaks):.2f}× (largest processes)")


if __name__ == "__main__":
    main()
