"""The peers of `benchmarks/vs_peers.py`: the same epoch written for JAX, run in an environment of its own.

    python -m venv /work/venvs/jax && /work/venvs/jax/bin/pip install jax optax keras numpy
    KERAS_BACKEND=jax /work/venvs/jax/bin/python benchmarks/jax_peers.py jax SPEC.json ROWS_DIR

This file imports neither TensorFlow nor looptrain: JAX is not one of looptrain's dependencies, and
`vs_peers.py` starts it with the other environment's Python. Three children, each printing one JSON line:

- `jax`: a hand-written loop, one `jax.jit` epoch: a fresh permutation of the training rows, gathered,
  then `lax.scan` over the batches (forward with dropout, the data loss and the L2 penalty, their
  gradient, optax's Adam on the tutorial's InverseTimeDecay schedule, the running sums of the
  metrics), then the validation rows without dropout. The weights and Adam's moments are donated.
- `keras`: Keras 3's `Model.fit` on the JAX backend, the model built from the same spec with Keras's
  own `Dropout`, the tutorial's loss, metrics and schedule; `--steps-per-execution` as fit's argument.
- `matmul`: the epoch's matrix products alone, of the same shapes and as many (forward on the
  training and validation rows, both products of the backward pass), in one jitted function: the
  limit an epoch's arithmetic sets on this machine.

SPEC.json says the model and training (`hidden`, `l2`, `dropout`, `batch_size`, `learning_rate`,
`decay_steps`, `seed`, `epochs`); ROWS_DIR holds the rows as .npy, written by `vs_peers.py` from
looptrain's own loader. Each epoch's results are read to the host as the epoch ends, as a loop that
logs them does; the epochs' end times go back to the driver, which counts the steady state.
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

EPSILON = 1e-7  # Keras's Adam's (optax's default is 1e-8); the same arithmetic either way


def load(rows_dir: str):
    rows = Path(rows_dir)
    return [np.load(rows / f"{name}.npy") for name in
            ("train_features", "train_labels", "validation_features", "validation_labels")]


class Clock:
    """Each epoch's end, in seconds of the wall clock and of the process's CPU time (all its threads)
    since the clock was made; and how many threads the process has by the end."""

    def __init__(self):
        self.start, self.cpu_start, self.ends, self.cpu = time.perf_counter(), time.process_time(), [], []

    def tick(self) -> None:
        self.ends.append(time.perf_counter() - self.start)
        self.cpu.append(time.process_time() - self.cpu_start)

    def results(self) -> dict:
        return {"ends": self.ends, "cpu": self.cpu, "threads": len(os.listdir("/proc/self/task"))}


def child_jax(spec: dict, rows_dir: str, prng: str = "threefry2x32") -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_default_prng_impl", prng)
    train_x, train_y, val_x, val_y = (jnp.asarray(a) for a in load(rows_dir))
    batch, rate, l2 = spec["batch_size"], spec["dropout"], spec["l2"]
    steps = train_x.shape[0] // batch
    widths = [train_x.shape[1], *spec["hidden"], 1]

    def init(key):
        params = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            key, sub = jax.random.split(key)
            limit = np.sqrt(6 / (fan_in + fan_out))  # Glorot uniform, Keras's Dense default
            params.append((jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit),
                           jnp.zeros(fan_out, jnp.float32)))
        return params

    def forward(params, x, key=None):
        for layer, (kernel, bias) in enumerate(params):
            x = x @ kernel + bias
            if layer < len(params) - 1:
                x = jax.nn.elu(x)
                if key is not None and rate:
                    key, sub = jax.random.split(key)
                    keep = jax.random.bernoulli(sub, 1 - rate, x.shape)
                    x = jnp.where(keep, x / (1 - rate), 0.0)
        return x

    def losses(params, x, y, key):
        logits = forward(params, x, key)
        data_loss = optax.sigmoid_binary_cross_entropy(logits, y).mean()
        penalty = l2 * sum(jnp.sum(kernel ** 2) for kernel, _ in params[:-1]) if l2 else 0.0
        return data_loss + penalty, (data_loss, penalty, logits)

    schedule = lambda count: spec["learning_rate"] / (1 + count / spec["decay_steps"])  # noqa: E731
    optimizer = optax.adam(schedule, eps=EPSILON)

    def train_step(carry, batch_rows):
        params, opt_state, key, sums = carry
        x, y = batch_rows
        key, sub = jax.random.split(key)
        (loss, (data_loss, penalty, logits)), grads = jax.value_and_grad(losses, has_aux=True)(params, x, y, sub)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        accuracy = jnp.mean((logits > 0) == (y > 0.5))
        sums = sums + jnp.stack([loss, data_loss, penalty, accuracy])
        return (params, opt_state, key, sums), None

    def epoch(params, opt_state, key):
        key, shuffle = jax.random.split(key)
        order = jax.random.permutation(shuffle, train_x.shape[0])[:steps * batch]
        batches = (train_x[order].reshape(steps, batch, -1), train_y[order].reshape(steps, batch, -1))
        (params, opt_state, key, sums), _ = jax.lax.scan(train_step, (params, opt_state, key, jnp.zeros(4)),
                                                         batches)
        logits = forward(params, val_x)
        validation = jnp.stack([optax.sigmoid_binary_cross_entropy(logits, val_y).mean(),
                                jnp.mean((logits > 0) == (val_y > 0.5))])
        return params, opt_state, key, jnp.concatenate([sums / steps, validation])

    epoch = jax.jit(epoch, donate_argnums=(0, 1))
    key = jax.random.key(spec["seed"])
    key, sub = jax.random.split(key)
    params = init(sub)
    opt_state = optimizer.init(params)
    clock = Clock()
    for _ in range(spec["epochs"]):
        params, opt_state, key, results = epoch(params, opt_state, key)
        results = [float(value) for value in results]  # the epoch's one wait for the host, as a log
        clock.tick()
    return {**clock.results(), "loss": results[0]}


def child_keras(spec: dict, rows_dir: str, steps_per_execution: int = 1) -> dict:
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    keras.utils.set_random_seed(spec["seed"])
    train_x, train_y, val_x, val_y = load(rows_dir)
    batch = spec["batch_size"]
    steps = train_x.shape[0] // batch
    # Whole batches, as looptrain's epoch and the JAX loop take: the same steps, the same arithmetic.
    train_x, train_y = train_x[:steps * batch], train_y[:steps * batch]
    regularizer = keras.regularizers.l2(spec["l2"]) if spec["l2"] else None
    layers = [keras.Input(shape=(train_x.shape[1],))]
    for units in spec["hidden"]:
        layers.append(keras.layers.Dense(units, activation="elu", kernel_regularizer=regularizer))
        if spec["dropout"]:
            layers.append(keras.layers.Dropout(spec["dropout"]))
    model = keras.Sequential([*layers, keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.InverseTimeDecay(spec["learning_rate"], spec["decay_steps"], 1)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
                  steps_per_execution=steps_per_execution)
    clock = Clock()

    class Ends(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            clock.tick()

    history = model.fit(train_x, train_y, batch_size=batch, epochs=spec["epochs"], validation_data=(val_x, val_y),
                        shuffle=True, verbose=0, callbacks=[Ends()])
    return {**clock.results(), "loss": history.history["loss"][-1]}


def child_matmul(spec: dict, rows_dir: str) -> dict:
    """The epoch's matrix products and nothing else: each step's forward products, the backward
    products of the inputs' and the kernels' gradients, the kernels moved by their gradients (so
    that every product is needed by the next step), then the validation rows forward. Returns the
    best of several timings as epochs a second."""
    import jax
    import jax.numpy as jnp

    train_x, _, val_x, _ = load(rows_dir)
    batch = spec["batch_size"]
    steps, widths = train_x.shape[0] // batch, [train_x.shape[1], *spec["hidden"], 1]
    kernels = [jnp.full((fan_in, fan_out), 1 / fan_in, jnp.float32) for fan_in, fan_out in zip(widths[:-1], widths[1:])]
    batches = jnp.asarray(train_x[:steps * batch].reshape(steps, batch, -1))

    def epoch(kernels, batches, val_x):
        def step(kernels, x):
            activations = [x]
            for kernel in kernels:
                activations.append(activations[-1] @ kernel)
            upstream, moved = activations[-1], []
            for layer in reversed(range(len(kernels))):
                moved.append(kernels[layer] - 1e-9 * (activations[layer].T @ upstream))
                if layer:  # the rows' own gradient is never needed
                    upstream = upstream @ kernels[layer].T
            return moved[::-1], None
        kernels, _ = jax.lax.scan(step, kernels, batches)
        for kernel in kernels:
            val_x = val_x @ kernel
        return kernels, val_x.sum()

    epoch = jax.jit(epoch)
    val_x = jnp.asarray(val_x)
    float(epoch(kernels, batches, val_x)[1])
    best = float("inf")
    for _ in range(spec.get("matmul_repeats", 10)):
        start = time.perf_counter()
        float(epoch(kernels, batches, val_x)[1])
        best = min(best, time.perf_counter() - start)
    return {"epochs_per_second": 1 / best}


CHILDREN = {"jax": child_jax, "keras": child_keras, "matmul": child_matmul}

if __name__ == "__main__":
    kind, spec_path, rows_dir, *options = sys.argv[1:]
    spec = json.loads(Path(spec_path).read_text())
    options = [int(option) if option.isdigit() else option for option in options]
    print("\n" + json.dumps(CHILDREN[kind](spec, rows_dir, *options)))
