"""Finished runs' best weights on rows no run saw: a test cross-entropy beside the best validation one.

    python benchmarks/held_out.py RUN_OR_SWEEP_DIR [RUN_OR_SWEEP_DIR ...] [--rows 10000]

Early stopping chooses the best epoch by the validation rows, so the best validation cross-entropy
is a little optimistic: it is the lowest of many looks at the same 1,000 rows. The synthetic generator
makes its rows one after another from its seed (the first N rows of a longer file are the N rows of a
shorter one), so the rows after a run's validation and training rows are rows that neither trained
it nor stopped it. This builds each run's model in its precision, loads its best.weights.h5 and
measures the cross-entropy on the next `--rows` of them; a sweep over seeds is a mean ± sample sd.
For runs on the synthetic data only (`--data synthetic`, the default). Nothing here is a test; the
numbers go to docs/results.md.
"""

import json
import statistics
from pathlib import Path

from looptrain.errors import ArgumentParser

REPO = Path(__file__).resolve().parents[1]


def test_loss(run_dir: Path, rows: int) -> tuple[float, float]:
    """(best validation cross-entropy, cross-entropy on the held-out rows) of one run."""
    import keras

    from looptrain.data.simulation import synthetic
    from looptrain.experiment import load_experiment
    from looptrain.loop.precision import build_model
    from looptrain.runfolder.history import read_run, summarize

    record = json.loads((run_dir / "config.json").read_text())
    fields = record["fields"]
    experiment = load_experiment(REPO / "experiments" / Path(record["experiment_file"]).name, fields)
    model = build_model(experiment.build_model, fields["precision"])
    model.load_weights(run_dir / "best.weights.h5")
    seen = fields["n_validation"] + fields["n_train"]
    table = synthetic.generate(seen + rows, seed=fields["synthetic_seed"]).astype("float32")[seen:]
    loss = keras.losses.BinaryCrossentropy(from_logits=True)(table[:, :1], model(table[:, 1:], training=False))
    run = read_run(run_dir)
    return summarize(run.name, run.epochs, run.best_epoch)["best_val"], float(loss)


def main() -> None:
    parser = ArgumentParser(prog="held_out", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_OR_SWEEP_DIR")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    print("| runs | n | best val BCE | held-out BCE |")
    print("| --- | ---: | ---: | ---: |")
    for folder in args.runs:
        points = sorted(path.parent for path in folder.glob("*/config.json")) or [folder]
        values = [test_loss(point, args.rows) for point in points]

        def spread(numbers):
            numbers = list(numbers)
            sd = f"{statistics.stdev(numbers):.4f}" if len(numbers) > 1 else "–"
            return f"{statistics.mean(numbers):.4f} ± {sd}"

        print(f"| {folder} | {len(values)} | {spread(v for v, _ in values)} | {spread(t for _, t in values)} |")


if __name__ == "__main__":
    main()
