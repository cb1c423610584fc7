"""looptrain against the tutorial's `Model.fit`: the same experiment, data and epochs, side by side.

    python benchmarks/vs_fit.py                          # Tiny, 300 epochs, 3 repetitions of each
    python benchmarks/vs_fit.py --experiment experiments/large.py --epochs 20
    python benchmarks/vs_fit.py --scale                  # looptrain at n_train = 1e4, 1e5, 1e6
    python benchmarks/vs_fit.py --set jit_compile=false  # looptrain with a field changed

Each run is a child process of this one, so that each has its own peak resident memory (the kernel's
`ru_maxrss`, read with `os.wait4`) and neither inherits the other's caches. The two sides alternate,
fit first in odd repetitions and looptrain first in even ones, so that a machine that gets slower or
faster during the benchmark weighs on both alike. The figures are medians over the repetitions.

- fit: the tutorial's `compile_and_fit`: `Model.fit(train_ds, steps_per_epoch, epochs,
  validation_data)` with the EpochDots-style progress, `EarlyStopping(val_binary_crossentropy,
  patience)` and `TensorBoard` callbacks, Adam with `InverseTimeDecay`, reading the same file through
  the tutorial's own `tf.data` pipeline (`CsvDataset`, `cache`, `shuffle(N_TRAIN)`).
- looptrain: `looptrain.train.train`, what the command runs: TensorBoard summaries, the rich progress
  bar (drawn to /dev/null as if to a terminal), early stopping, checkpoints and history.
Patience is the number of epochs, so that early stopping watches every epoch and ends neither run.
Epochs per second are counted from the end of epoch 5 to the last epoch: the first epochs trace the
graphs, which is a one-off cost reported apart as "start-up". Nothing here is a test; the numbers go
to the docs' performance page, docs/performance.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from looptrain.config import parse_set
from looptrain.errors import ArgumentParser, InputError

REPO = Path(__file__).resolve().parents[1]
WARM_UP_EPOCHS = 5


def child_fit(experiment_path: str, epochs: int, n_train: int, data_path: str, logdir: str) -> dict:
    import keras

    from looptrain.experiment import load_experiment
    from looptrain.loop.optimizer import make_optimizer

    experiment = load_experiment(experiment_path, {"n_train": n_train})
    config = experiment.config
    keras.utils.set_random_seed(config.seed)
    train_batches, validation_batches = tutorial_datasets(data_path, config)
    steps_per_epoch = config.n_train // config.batch_size
    model = experiment.build_model()
    model.compile(optimizer=make_optimizer(config.learning_rate, steps_per_epoch * config.decay_epochs),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.losses.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           "accuracy"])
    ends = []

    class EpochDots(keras.callbacks.Callback):  # tensorflow_docs' EpochDots, which the tutorial uses
        def on_epoch_end(self, epoch, logs=None):
            if epoch % 100 == 0:
                print(f"\nEpoch: {epoch}, " + ", ".join(f"{k}:{v:0.4f}" for k, v in sorted(logs.items())))
            print(".", end="", flush=True)
            ends.append(time.perf_counter())

    start = time.perf_counter()
    model.fit(train_batches, steps_per_epoch=steps_per_epoch, epochs=epochs,
              validation_data=validation_batches, verbose=0,
              callbacks=[EpochDots(),
                         keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", patience=epochs),
                         keras.callbacks.TensorBoard(logdir)])
    return {"ends": [end - start for end in ends], "examples_per_epoch": steps_per_epoch * config.batch_size,
            "kernels": [list(weight.shape) for weight in model.weights if len(weight.shape) == 2],
            "n_validation": config.n_validation}


def tutorial_datasets(data_path: str, config):
    """The tutorial's input pipeline, as it is written there: `CsvDataset`, rows packed 10,000 at a
    time, validation rows first, both sets cached, the training set shuffled over all of it."""
    import tensorflow as tf

    def pack_row(*row):
        # Labels as (rows, 1), the one change: Keras 3's metrics refuse (rows,) against the logits.
        return tf.stack(row[1:], 1), tf.expand_dims(row[0], 1)

    rows = tf.data.experimental.CsvDataset(data_path, [float()] * 29, compression_type="GZIP")
    packed = rows.batch(10_000).map(pack_row).unbatch()
    validation = packed.take(config.n_validation).cache()
    train = packed.skip(config.n_validation).take(config.n_train).cache()
    return (train.shuffle(config.n_train).repeat().batch(config.batch_size),
            validation.batch(config.batch_size))


def child_looptrain(experiment_path: str, epochs: int, n_train: int, data_path: str, logdir: str,
                    fields: str = "{}") -> dict:
    from rich.console import Console

    from looptrain.experiment import load_experiment
    from looptrain.launch.console import ProgressReporter
    from looptrain.train import train

    experiment = load_experiment(experiment_path, {**json.loads(fields), "n_train": n_train, "max_epochs": epochs,
                                                   "patience": epochs})
    reporter = ProgressReporter(Console(file=open(os.devnull, "w"), force_terminal=True, width=120))
    history = train(experiment, Path(data_path), Path(logdir), reporter)
    config = json.loads((Path(logdir) / "config.json").read_text())
    return {"ends": [epoch["seconds"] for epoch in history.epochs],
            "examples_per_epoch": config["steps_per_epoch"] * experiment.config.batch_size,
            "n_validation": config["n_validation"]}


def child_matmul_peak() -> dict:
    """The machine's dense fp32 matmul rate, the best of several timings of a 2048² chain."""
    import tensorflow as tf

    size, repeats = 2048, 10
    a = tf.random.normal((size, size))

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.linalg.matmul(x, a) * (1.0 / size)  # scaled, so the values stay finite
        return x

    chain(a).numpy()  # trace and warm up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - start)
    return {"gflops": 2 * size ** 3 * repeats / best / 1e9}


CHILDREN = {"fit": child_fit, "looptrain": child_looptrain, "peak": child_matmul_peak}


def run_child(kind: str, *arguments) -> dict:
    """Run one measurement in a fresh process; return its results and its peak resident memory."""
    process = subprocess.Popen([sys.executable, __file__, "--child", kind, *map(str, arguments)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"vs_fit: the {kind} run failed (status {status}); run it alone to see why: "
                 f"python {__file__} --child {kind} {' '.join(map(str, arguments))}")
    results = json.loads(output.strip().splitlines()[-1])
    results["peak_mb"] = usage.ru_maxrss / 1024  # Linux gives kilobytes
    return results


def steady_rate(ends: list[float]) -> float:
    """Epochs per second after the warm-up epochs."""
    return (len(ends) - WARM_UP_EPOCHS) / (ends[-1] - ends[WARM_UP_EPOCHS - 1])


def training_flops(kernels: list[list[int]], examples_per_epoch: int, n_validation: int) -> float:
    """Multiply-adds of the dense layers, 2 flops each: forward, and twice more for the backward
    pass (the gradients of the inputs and of the weights) on training rows; forward only on validation."""
    per_example = sum(2 * rows * columns for rows, columns in kernels)
    return per_example * (3 * examples_per_epoch + n_validation)


def compare(args) -> None:
    from rich.console import Console
    from rich.table import Table

    data_path = prepare_data(args.n_train)
    name = Path(args.experiment).stem
    runs = {"fit": [], "looptrain": []}
    peaks = []
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(args.repeats):
            order = ["fit", "looptrain"] if repetition % 2 == 0 else ["looptrain", "fit"]
            for kind in order:
                fields = [json.dumps(args.fields)] if kind == "looptrain" else []
                runs[kind].append(run_child(kind, args.experiment, args.epochs, args.n_train, data_path,
                                            Path(scratch) / f"{kind}-{repetition}", *fields))
                print(f"  {kind} {repetition + 1}/{args.repeats}: {steady_rate(runs[kind][-1]['ends']):.1f} epochs/s",
                      file=sys.stderr)
            peaks.append(run_child("peak")["gflops"])

    changed = "".join(f", {field}={value}" for field, value in args.fields.items())
    table = Table(title=f"{name}{changed}: {args.epochs} epochs, n_train {args.n_train:,}, medians of {args.repeats}")
    for column in ("", "epochs/s", "examples/s", "start-up s", "peak memory MB", "GFLOP/s", "of matmul peak"):
        table.add_column(column, justify="right")
    peak = statistics.median(peaks)
    flops = training_flops(runs["fit"][0]["kernels"], runs["fit"][0]["examples_per_epoch"],
                           runs["fit"][0]["n_validation"])
    medians = {}
    for kind, results in runs.items():
        rate = statistics.median(steady_rate(r["ends"]) for r in results)
        startup = statistics.median(r["ends"][WARM_UP_EPOCHS - 1] - (WARM_UP_EPOCHS - 1) / steady_rate(r["ends"])
                                    for r in results)
        memory = statistics.median(r["peak_mb"] for r in results)
        medians[kind] = (rate, memory)
        table.add_row(kind, f"{rate:.1f}", f"{rate * results[0]['examples_per_epoch']:,.0f}", f"{startup:.1f}",
                      f"{memory:.0f}", f"{rate * flops / 1e9:.1f}", f"{rate * flops / 1e9 / peak:.0%}")
    table.add_row("looptrain / fit", f"{medians['looptrain'][0] / medians['fit'][0]:.2f}×",
                  f"{medians['looptrain'][0] / medians['fit'][0]:.2f}×", "",
                  f"{medians['looptrain'][1] / medians['fit'][1]:.2f}×", "", "")
    Console(width=140).print(table)
    print(f"dense fp32 matmul peak, 2048² (median of {args.repeats}): {peak:.1f} GFLOP/s")


def scale(args) -> None:
    """looptrain alone at three sizes of the training set. Each size runs enough epochs for about three
    million training examples after the warm-up, so that the small size is not timed on a handful.
    Each repetition runs the three sizes in turn, so that a machine that drifts weighs on all three."""
    from rich.console import Console
    from rich.table import Table

    name = Path(args.experiment).stem
    changed = "".join(f", {field}={value}" for field, value in args.fields.items())
    table = Table(title=f"{name}{changed}, looptrain, medians of {args.repeats}")
    for column in ("n_train", "epochs", "µs per training example", "peak memory MB", "training rows MB",
                   "memory added / rows added"):
        table.add_column(column, justify="right")
    sizes = {n_train: prepare_data(n_train) for n_train in (10_000, 100_000, 1_000_000)}
    epochs = {n_train: WARM_UP_EPOCHS + max(5, 3_000_000 // n_train) for n_train in sizes}
    runs = {n_train: [] for n_train in sizes}
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(args.repeats):
            for n_train, data_path in sizes.items():
                runs[n_train].append(run_child("looptrain", args.experiment, epochs[n_train], n_train, data_path,
                                               Path(scratch) / f"{n_train}-{repetition}", json.dumps(args.fields)))
    first = None
    for n_train, results in runs.items():
        rate = statistics.median(steady_rate(r["ends"]) for r in results)
        memory = statistics.median(r["peak_mb"] for r in results)
        rows_mb = n_train * 29 * 4 / 2 ** 20  # 28 features and a label, float32
        added = "" if first is None else f"{(memory - first[0]) / (rows_mb - first[1]):.1f}"
        first = first or (memory, rows_mb)
        table.add_row(f"{n_train:,}", str(epochs[n_train]), f"{1e6 / (rate * results[0]['examples_per_epoch']):.3f}",
                      f"{memory:.0f}", f"{rows_mb:.1f}", added)
    Console(width=140).print(table)


def prepare_data(n_train: int) -> str:
    """The synthetic file the command would use for this many training rows (written once, cached)."""
    from looptrain.config import Config
    from looptrain.data import higgs

    return str(higgs.resolve("synthetic", Config(n_train=n_train)))


def main() -> None:
    parser = ArgumentParser(prog="vs_fit", description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="experiments/tiny.py")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="looptrain alone at n_train = 1e4, 1e5, 1e6")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a configuration field on looptrain's side, as the command's --set does")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # one measurement, in its own process
    args = parser.parse_args()
    try:
        args.fields = parse_set(args.set)
    except InputError as error:
        parser.error(str(error))
    if args.child:
        kind, *arguments = args.child
        arguments = [int(a) if a.isdigit() else a for a in arguments]  # epochs and n_train
        print("\n" + json.dumps(CHILDREN[kind](*arguments)))  # on a line of its own, after any dots
    elif args.scale:
        scale(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
