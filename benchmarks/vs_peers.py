"""looptrain against its peers on JAX: the same epoch as a hand-written JAX loop and as Keras 3's fit.

    python -m venv /work/venvs/jax && /work/venvs/jax/bin/pip install jax optax keras numpy
    python benchmarks/vs_peers.py --jax-python /work/venvs/jax/bin/python
    python benchmarks/vs_peers.py --experiments experiments/combined.py --repeats 7
    python benchmarks/vs_peers.py --data /work/shared/data/higgs-sample.csv.gz   # real rows

JAX is not a dependency of looptrain, so the peers run in an environment of their own (the first
command makes it; `--jax-python` or `LOOPTRAIN_JAX_PYTHON` says where its Python is). This driver
runs with looptrain's Python: it reads the experiment's rows with looptrain's loader and writes them
to .npy files for the peers, reads the model's widths, L2 factor and dropout rate off the
experiment's own model, and starts every run as a child process, so that each system has a process
of its own with the library's own choice of threads (each sizes its pools to the CPUs this process
may use). Each repetition runs every system once, in an order that rotates, so that a machine that
drifts weighs on all of them alike. Per experiment:

- looptrain: `looptrain.train.train`, what the command runs (summaries, the progress bar drawn to
  /dev/null, early stopping that never stops, checkpoints and history), the experiment's own fields.
- jax: `jax_peers.py jax`, one jitted epoch: a fresh permutation, `lax.scan` over the batches,
  optax's Adam on the same schedule, the same layers, L2 and dropout, validation and metrics.
- keras-jax: `jax_peers.py keras`, Keras 3's `Model.fit` on the JAX backend with the same model
  (Keras's own `Dropout`), loss, metrics and schedule.
- matmul limit: the epoch's matrix products alone (same shapes, same number, nothing else), compiled
  by XLA in each environment (`child_matmul` here, `jax_peers.py matmul` there); the faster of the
  two is the limit an epoch's arithmetic sets on this machine, and each system's median is given as
  a fraction of it.

Epochs per second count from the end of the fifth epoch to the last (the first epochs compile);
"CPU s/epoch" is the process's CPU time over the same epochs (all its threads), which a loaded
machine inflates less than the wall clock. Minimum and median over the repetitions. Nothing here is
a test; the numbers go to docs/performance.md.
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

REPO = Path(__file__).resolve().parents[1]
WARM_UP_EPOCHS = 5
DEFAULT_EPOCHS = {"tiny": 300, "small": 300}  # short epochs need many to time; the rest 20
PEERS = REPO / "benchmarks" / "jax_peers.py"


def child_looptrain(experiment_path: str, data_path: str, logdir: str) -> dict:
    """looptrain's command, without its command line: the experiment's fields, its patience the epochs."""
    from rich.console import Console

    from looptrain.experiment import load_experiment
    from looptrain.launch.console import ProgressReporter
    from looptrain.train import train

    spec = json.loads(os.environ["LOOPTRAIN_PEERS_SPEC"])
    experiment = load_experiment(experiment_path, {"max_epochs": spec["epochs"], "patience": spec["epochs"],
                                                   "n_train": spec["n_train"]})
    ends, cpu = [], []
    start, cpu_start = time.perf_counter(), time.process_time()

    class Timed(ProgressReporter):
        def epoch(self, *arguments):
            super().epoch(*arguments)
            ends.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)

    history = train(experiment, Path(data_path), Path(logdir),
                    Timed(Console(file=open(os.devnull, "w"), force_terminal=True, width=120)))
    return {"ends": ends, "cpu": cpu, "threads": len(os.listdir("/proc/self/task")),
            "loss": history.epochs[-1]["loss"]}


def child_matmul(rows_dir: str) -> dict:
    """`jax_peers.py matmul`'s epoch of matrix products, written for TensorFlow and compiled by XLA."""
    import numpy as np
    import tensorflow as tf

    spec = json.loads(os.environ["LOOPTRAIN_PEERS_SPEC"])
    train_x, val_x = (np.load(Path(rows_dir) / f"{name}.npy") for name in ("train_features", "validation_features"))
    batch = spec["batch_size"]
    steps, widths = train_x.shape[0] // batch, [train_x.shape[1], *spec["hidden"], 1]
    kernels = [tf.fill((fan_in, fan_out), 1 / fan_in) for fan_in, fan_out in zip(widths[:-1], widths[1:])]
    batches = tf.constant(train_x[:steps * batch].reshape(steps, batch, -1))

    @tf.function(jit_compile=True)
    def epoch(kernels, batches, val_x):
        for step in tf.range(steps):
            activations = [batches[step]]
            for kernel in kernels:
                activations.append(activations[-1] @ kernel)
            upstream, moved = activations[-1], []
            for layer in reversed(range(len(kernels))):
                moved.append(kernels[layer] - 1e-9 * tf.matmul(activations[layer], upstream, transpose_a=True))
                if layer:
                    upstream = tf.matmul(upstream, kernels[layer], transpose_b=True)
            kernels = moved[::-1]
        for kernel in kernels:
            val_x = val_x @ kernel
        return tf.reduce_sum(val_x)

    val_x = tf.constant(val_x)
    return best_of(lambda: float(epoch(kernels, batches, val_x)))


def best_of(run_epoch, repeats: int = 10) -> dict:
    """Epochs a second of the fastest of `repeats` epochs after a first that compiles, and the median
    CPU seconds an epoch takes (all the process's threads)."""
    run_epoch()
    best, cpu = float("inf"), []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        run_epoch()
        best = min(best, time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return {"epochs_per_second": 1 / best, "cpu": statistics.median(cpu)}


def model_spec(experiment_path: str, n_train: int, epochs: int) -> dict:
    """What the peers need to build the same model and train it the same way, read off the
    experiment's own model and configuration. Only the tutorial's family: dense layers, an optional
    L2 factor on their kernels, an optional dropout rate after each."""
    import keras

    from looptrain.experiment import load_experiment
    from looptrain.models.dropout import Dropout

    experiment = load_experiment(experiment_path, {"n_train": n_train})
    config = experiment.config
    model = experiment.build_model()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    others = [layer for layer in model.layers if not isinstance(layer, (keras.layers.Dense, Dropout))]
    if others or dense[-1].units != 1 or dense[0].activation.__name__ != "elu":
        sys.exit(f"vs_peers: {experiment_path} is not a stack of ELU dense layers with dropout, which the peers write")
    regularizer = dense[0].kernel_regularizer
    rates = {layer.rate for layer in model.layers if isinstance(layer, Dropout)}
    return {"hidden": [layer.units for layer in dense[:-1]], "l2": float(regularizer.l2) if regularizer else 0.0,
            "dropout": rates.pop() if rates else 0.0, "batch_size": config.batch_size,
            "learning_rate": config.learning_rate, "seed": config.seed, "epochs": epochs, "n_train": n_train,
            "decay_steps_per_epoch": config.decay_epochs}


def write_rows(data: str, spec: dict, folder: Path) -> str:
    """The rows looptrain reads for this experiment, as .npy files the peers read; returns the data
    file looptrain is given."""
    import numpy as np

    from looptrain.config import Config
    from looptrain.data import higgs

    config = Config(n_train=spec["n_train"], batch_size=spec["batch_size"])
    path = higgs.resolve(data, config)
    rows = higgs.load(path, config)
    for name in ("train_features", "train_labels", "validation_features", "validation_labels"):
        np.save(folder / f"{name}.npy", getattr(rows, name).numpy())
    spec["decay_steps"] = rows.steps_per_epoch * spec.pop("decay_steps_per_epoch")  # the schedule counts steps
    return str(path)


def run_child(command: list[str], spec: dict, environment: dict | None = None) -> dict:
    """One measurement in a fresh process; its last line of output is its JSON."""
    process = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                             env={**os.environ, **(environment or {}), "LOOPTRAIN_PEERS_SPEC": json.dumps(spec)})
    if process.returncode != 0:
        sys.exit(f"vs_peers: {' '.join(command)} failed (status {process.returncode}):\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def steady(run: dict) -> tuple[float, float]:
    """Epochs a second, and CPU seconds an epoch, after the warm-up epochs."""
    ends, cpu = run["ends"], run["cpu"]
    epochs = len(ends) - WARM_UP_EPOCHS
    return epochs / (ends[-1] - ends[WARM_UP_EPOCHS - 1]), (cpu[-1] - cpu[WARM_UP_EPOCHS - 1]) / epochs


def compare(experiment: str, args, scratch: Path) -> list[str]:
    name = Path(experiment).stem
    epochs = args.epochs or DEFAULT_EPOCHS.get(name, 20) + WARM_UP_EPOCHS
    spec = model_spec(experiment, args.n_train, epochs)
    rows_dir = scratch / name
    rows_dir.mkdir()
    data_path = write_rows(args.data, spec, rows_dir)
    (rows_dir / "spec.json").write_text(json.dumps(spec))
    jax_env = {"KERAS_BACKEND": "jax"}
    peer = [args.jax_python, str(PEERS)]
    commands = {
        "looptrain": lambda r: run_child([sys.executable, __file__, "--child", "looptrain", experiment, data_path,
                                          str(scratch / f"{name}-run-{r}")], spec),
        "jax": lambda r: run_child([*peer, "jax", str(rows_dir / "spec.json"), str(rows_dir), args.jax_prng],
                                   spec, jax_env),
        "keras-jax": lambda r: run_child([*peer, "keras", str(rows_dir / "spec.json"), str(rows_dir),
                                          str(args.steps_per_execution)], spec, jax_env),
    }
    limits = {"XLA in TensorFlow": lambda: run_child([sys.executable, __file__, "--child", "matmul", str(rows_dir)],
                                                     spec),
              "XLA in JAX": lambda: run_child([*peer, "matmul", str(rows_dir / "spec.json"), str(rows_dir)],
                                              spec, jax_env)}
    runs = {kind: [] for kind in commands}
    limit_runs = {kind: [] for kind in limits}
    systems = list(commands)
    for repetition in range(args.repeats):
        for kind in systems[repetition % len(systems):] + systems[:repetition % len(systems)]:
            runs[kind].append(commands[kind](repetition))
            rate, cpu = steady(runs[kind][-1])
            print(f"  {name} {kind} {repetition + 1}/{args.repeats}: {rate:.2f} epochs/s, {cpu:.3f} CPU s/epoch",
                  file=sys.stderr, flush=True)
        for kind, measure in limits.items():
            limit_runs[kind].append(measure()["epochs_per_second"])
    limit_by = {kind: statistics.median(rates) for kind, rates in limit_runs.items()}
    limit = max(limit_by.values())
    medians = {kind: statistics.median(steady(run)[0] for run in results) for kind, results in runs.items()}
    best_peer = max(rate for kind, rate in medians.items() if kind != "looptrain")
    lines = [f"### {name.title()}: {epochs} epochs, {spec['n_train']:,} rows asked, data {args.data}, "
             f"{args.repeats} repetitions",
             "",
             "| system | epochs/s min | epochs/s median | CPU s/epoch (median) | threads | × best peer | of matmul limit |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind, results in runs.items():
        rates = [steady(run)[0] for run in results]
        cpu = statistics.median(steady(run)[1] for run in results)
        ratio = f"**{medians[kind] / best_peer:.2f}×**" if kind == "looptrain" else f"{medians[kind] / best_peer:.2f}×"
        lines.append(f"| {kind} | {min(rates):.2f} | {medians[kind]:.2f} | {cpu:.3f} | {results[-1]['threads']} "
                     f"| {ratio} | {medians[kind] / limit:.0%} |")
    lines.append(f"| matmul limit | {min(min(r) for r in limit_runs.values()):.2f} | {limit:.2f} | | | | 100% |")
    lines += ["", "Matmul limit (median epochs/s of the products alone): "
              + ", ".join(f"{kind} {rate:.2f}" for kind, rate in limit_by.items()), ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="vs_peers", description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+",
                        default=["experiments/tiny.py", "experiments/large.py", "experiments/combined.py"])
    parser.add_argument("--data", default="synthetic", help="synthetic, or a HIGGS-layout file (the real sample)")
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, help="epochs a run, warm-up included (default: 305 for Tiny, 25 else)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jax-python", default=os.environ.get("LOOPTRAIN_JAX_PYTHON", "/work/venvs/jax/bin/python"),
                        help="the Python of an environment with jax, optax and keras")
    parser.add_argument("--jax-prng", default="threefry2x32", help="the JAX loop's random bits: threefry2x32, rbg")
    parser.add_argument("--steps-per-execution", type=int, default=1, help="Keras fit's, on the JAX backend")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # one measurement, in its own process
    args = parser.parse_args()
    if args.child:
        kind, *arguments = args.child
        print("\n" + json.dumps({"looptrain": child_looptrain, "matmul": child_matmul}[kind](*arguments)))
        return
    if not Path(args.jax_python).is_file():
        parser.error(f"no Python at {args.jax_python}; make the environment as the docstring says")
    # The load goes beside the numbers: on a shared machine it decides them more than anything here.
    load = [f"load average at the start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"]
    with tempfile.TemporaryDirectory() as scratch:
        lines = [line for experiment in args.experiments for line in compare(experiment, args, Path(scratch))]
    load.append(f"at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("\n".join([*lines, "; ".join(load)]))


if __name__ == "__main__":
    main()
