"""How much of a best validation cross-entropy is owed to the 1,000 rows it is measured on.

    python benchmarks/validation_draw.py runs/synthetic/{tiny,small,medium,large,l2,dropout,combined}/seed=0
    python benchmarks/validation_draw.py --sample ../shared/data/higgs-sample.csv.gz
    python benchmarks/validation_draw.py --sample ../shared/data/higgs-sample.csv.gz --experiments experiments/tiny.py

Every experiment of one data set is validated on the same 1,000 rows (the file's first), so another
draw of them would move all its numbers together, and seeds do not average that away. Run folders
made on the synthetic default data: each run's best weights scored by Keras's own cross-entropy on
the run's validation rows (which must give back the history's best, or the folder was made on other
data and is refused), on 50,000 synthetic rows the run never saw (the rows after its training rows:
the generator's first rows do not depend on how many are asked for), and the spread of that score
over the fresh rows' fifty blocks of 1,000.

The real sample has no fresh rows, so `--sample` measures both data sets the same way, by models
that did not train on the rows they score: the file's first 11,000 rows cut into eleven blocks of
1,000 (the real sample's last block 984), each block scored by a model trained on the other ten, the
validation rows being block 0. The models are logistic regression (the tests' own) and a 32-unit
network trained 40 epochs; on synthetic rows each is also trained on the tutorial's training rows and
scored on 50,000 fresh rows, the check that the blocks measure what fresh rows do. With
`--experiments`, the experiments themselves, each run by the loop (`looptrain.run`, its defaults and
seed 0, early stopping included) once per block of the first ten as its validation rows, on a
reordered copy of the rows in a temporary folder that is deleted after. `--rows` takes the synthetic
side's rows from a file (an older generator's, say) instead of today's generator. Nothing here is a
test.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_synthetic import logistic_cross_entropy, read_csv_gz  # noqa: E402

from looptrain.data import cache  # noqa: E402
from looptrain.data.simulation import synthetic
from looptrain.experiment import load_experiment  # noqa: E402
from looptrain.runfolder.history import read_run  # noqa: E402

FRESH_ROWS, BLOCK, BLOCKS = 50_000, 1_000, 11


def cross_entropies(model, rows: np.ndarray, outputs: str) -> np.ndarray:
    """Each row's binary cross-entropy under the model, in inference mode."""
    predictions = model.predict(rows[:, 1:], batch_size=10_000, verbose=0)
    return keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(
        rows[:, :1], predictions, from_logits=outputs == "logits"))


def runs_table(folders: list[Path]):
    """Each synthetic run's best weights on its validation rows and on fresh rows."""
    rows_cache = {}
    print("| run | validation rows (best) | 50,000 fresh rows | validation − fresh | sd over blocks of 1,000 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for folder in folders:
        config = json.loads((folder / "config.json").read_text())
        fields = config["fields"]
        n_validation, n_train = config["n_validation"], config["n_train"]
        key = (fields["synthetic_seed"], n_validation + n_train)
        if key not in rows_cache:
            rows_cache[key] = synthetic.generate(key[1] + FRESH_ROWS, key[0]).astype(np.float32)
        rows = rows_cache[key]
        model = load_experiment(Path(config["experiment_file"])).build_model()
        model.load_weights(folder / "best.weights.h5")
        validation = cross_entropies(model, rows[:n_validation], fields["outputs"]).mean()
        run = read_run(folder)
        best = run.history["val_binary_crossentropy"][run.best_epoch]
        if abs(validation - best) > 1e-4:
            sys.exit(f"{folder}: its best weights score {validation:.4f} on synthetic seed {key[0]}'s "
                     f"validation rows, not its best {best:.4f}: it was not trained on these rows")
        fresh = cross_entropies(model, rows[key[1]:], fields["outputs"])
        blocks = fresh.reshape(-1, BLOCK).mean(axis=1)
        print(f"| {run.name} | {validation:.4f} | {fresh.mean():.4f} | {validation - fresh.mean():+.4f} "
              f"| {blocks.std(ddof=1):.4f} |")


def network_cross_entropy(train: np.ndarray, test: np.ndarray) -> float:
    """A 32-unit network trained 40 epochs on `train` (features standardized on it): its mean
    cross-entropy on `test`."""
    mean, spread = train[:, 1:].mean(axis=0), train[:, 1:].std(axis=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit((train[:, 1:] - mean) / spread, train[:, :1], batch_size=256, epochs=40, verbose=0)
    return float(cross_entropies(model, np.column_stack([test[:, :1], (test[:, 1:] - mean) / spread]), "logits").mean())


def blocks_table(real: np.ndarray, fake: np.ndarray, fake_name: str):
    """Both data sets' blocks scored by the two quick models, cross-fitted."""
    print("| rows | model | validation rows (block 0) | other ten blocks | block 0 − others | sd over the ten "
          "| trained on the training rows: validation − 50,000 fresh rows |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    models = (("logistic regression", logistic_cross_entropy), ("32-unit network", network_cross_entropy))
    # The real sample has no rows past its blocks; a synthetic file may have none either.
    for name, rows, fresh in (("real", real, real[:0]), (fake_name, fake[:BLOCK * BLOCKS], fake[BLOCK * BLOCKS:])):
        block = np.arange(len(rows)) // BLOCK
        for model, score in models:
            scores = np.array([score(rows[block != k], rows[block == k]) for k in range(BLOCKS)])
            # Block 0's model trained on the training rows, the tutorial's: score it on fresh rows too.
            check = f"{scores[0] - score(rows[block != 0], fresh):+.4f}" if len(fresh) else "–"
            print(f"| {name} | {model} | {scores[0]:.4f} | {scores[1:].mean():.4f} | "
                  f"{scores[0] - scores[1:].mean():+.4f} | {scores[1:].std(ddof=1):.4f} | {check} |", flush=True)


def experiments_table(real: np.ndarray, fake: np.ndarray, fake_name: str, experiments: list[Path]):
    """Both data sets' first ten blocks, each the validation rows of one run of each experiment."""
    print("| experiment | rows | validation rows (block 0) | other nine blocks | block 0 − others "
          "| sd over the nine |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as scratch:
        for side, rows in (("real", real), (fake_name, fake[:BLOCK * BLOCKS])):
            block = np.arange(len(rows)) // BLOCK
            best = {path: [] for path in experiments}
            for k in range(BLOCKS - 1):  # the real sample's eleventh block is 16 rows short of a validation set
                data, logdir = Path(scratch) / f"rows-{k}.csv.gz", Path(scratch) / f"runs-{k}"
                with gzip.open(data, "wb") as out:
                    out.write(cache.csv_text(np.concatenate([rows[block == k], rows[block != k]])))
                command = [sys.executable, "-m", "looptrain.run", *map(str, experiments), "--data", str(data),
                           "--logdir", str(logdir), "--dots"]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                for path in experiments:
                    run = read_run(logdir / path.stem)
                    best[path].append(run.history["val_binary_crossentropy"][run.best_epoch])
            for path, scores in best.items():
                scores = np.array(scores)
                print(f"| {path.stem} | {side} | {scores[0]:.4f} | {scores[1:].mean():.4f} | "
                      f"{scores[0] - scores[1:].mean():+.4f} | {scores[1:].std(ddof=1):.4f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run folders holding best.weights.h5")
    parser.add_argument("--sample", type=Path, help="real HIGGS rows, a HIGGS-layout .csv.gz")
    parser.add_argument("--experiments", nargs="+", type=Path, default=[],
                        help="with --sample: experiment files to cross-fit instead of the two small models")
    parser.add_argument("--rows", type=Path, help="with --sample: a HIGGS-layout .csv.gz of synthetic rows to "
                        "cross-fit instead of today's generator's (rows past the first 11,000 are the fresh ones)")
    args = parser.parse_args()
    if not args.runs and not args.sample:
        parser.error("give run folders, --sample, or both")
    if args.runs:
        runs_table(args.runs)
    if args.sample:
        real = read_csv_gz(args.sample)[:BLOCK * BLOCKS]
        if args.rows:
            fake, fake_name = read_csv_gz(args.rows), args.rows.name
        else:
            fake = synthetic.generate(BLOCK * BLOCKS + FRESH_ROWS, 0)
            fake_name = f"synthetic {synthetic.VERSION}, seed 0"
        if args.experiments:
            experiments_table(real, fake, fake_name, args.experiments)
        else:
            blocks_table(real, fake, fake_name)


if __name__ == "__main__":
    main()
