"""float32 against mixed_bfloat16: the time an epoch takes, side by side in one command.

    python benchmarks/precision.py                 # Medium (300 epochs) and Combined (20), 3 repetitions each
    python benchmarks/precision.py --experiments experiments/large.py --epochs 20 --repeats 5

Each run is `vs_fit.py`'s looptrain child: `looptrain.train.train`, what the command runs, in a fresh
process, with the experiment's own defaults and `precision` set. The two precisions alternate, float32
first in odd repetitions and bfloat16 first in even ones, so that a machine that gets slower or
faster weighs on both alike; the experiments take turns within each repetition. An epoch's time is
the median gap between epochs' ends after the warm-up (`vs_fit.WARM_UP_EPOCHS`), which leaves out
tracing and compiling. It also prints what this CPU says of bfloat16 (its `/proc/cpuinfo` flags):
whether it has instructions for it at all (AVX512_BF16 multiplies pairs of bfloat16s into float32
sums; AMX multiplies whole tiles), or converts each number to float32 and back. Nothing here is a
test; the numbers go to docs/performance.md.
"""

import json
import statistics
import sys
import tempfile
from pathlib import Path

import vs_fit

from looptrain.errors import ArgumentParser

PRECISIONS = ("float32", "mixed_bfloat16")
FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16", "avx512f", "f16c")


def cpu_flags() -> str:
    """This CPU's flags that bear on bfloat16 and float16, as Linux lists them."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "unknown (no /proc/cpuinfo)"
    present = set(flags.split(":", 1)[1].split())
    return ", ".join(f"{flag} {'yes' if flag in present else 'no'}" for flag in FLAGS)


def epoch_seconds(ends: list[float]) -> float:
    """The median time between two epochs' ends, after the warm-up."""
    warm = ends[vs_fit.WARM_UP_EPOCHS - 1:]
    return statistics.median(later - earlier for earlier, later in zip(warm, warm[1:]))


def main() -> None:
    parser = ArgumentParser(prog="precision", description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", default=["experiments/medium.py", "experiments/combined.py"])
    parser.add_argument("--epochs", nargs="+", type=int, default=[300, 20],
                        help="one number for all the experiments, or one each")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    epochs = args.epochs * len(args.experiments) if len(args.epochs) == 1 else args.epochs
    if len(epochs) != len(args.experiments) or min(epochs) <= vs_fit.WARM_UP_EPOCHS + 1:
        parser.error(f"--epochs: one number, or one for each experiment, each above {vs_fit.WARM_UP_EPOCHS + 1}")

    data_path = vs_fit.prepare_data(10_000)
    times = {(experiment, precision): [] for experiment in args.experiments for precision in PRECISIONS}
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(args.repeats):
            order = PRECISIONS if repetition % 2 == 0 else PRECISIONS[::-1]
            for experiment, count in zip(args.experiments, epochs):
                for precision in order:
                    folder = Path(scratch) / f"{Path(experiment).stem}-{precision}-{repetition}"
                    results = vs_fit.run_child("looptrain", experiment, count, 10_000, data_path, folder,
                                               json.dumps({"precision": precision}))
                    times[experiment, precision].append(epoch_seconds(results["ends"]))
                    print(f"  {Path(experiment).stem} {precision} {repetition + 1}/{args.repeats}: "
                          f"{1000 * times[experiment, precision][-1]:.1f} ms an epoch", file=sys.stderr)

    print(f"CPU flags: {cpu_flags()}")
    print("| experiment | epochs | float32 ms/epoch | mixed_bfloat16 ms/epoch | bfloat16 / float32 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for experiment, count in zip(args.experiments, epochs):
        float32, bfloat16 = (statistics.median(times[experiment, precision]) for precision in PRECISIONS)
        print(f"| {Path(experiment).stem.title()} | {count} | {1000 * float32:.1f} | {1000 * bfloat16:.1f} | "
              f"{bfloat16 / float32:.2f}× |")
    print(f"(medians of {args.repeats}; each repetition's times: "
          + "; ".join(f"{Path(e).stem} {p} " + ", ".join(f"{1000 * t:.1f}" for t in ts)
                      for (e, p), ts in times.items()) + ")")


if __name__ == "__main__":
    main()
