"""One experiment from start to finish: data, model, optimizer, the loop, and the run's files.

`train` is what the command line calls for each experiment, and what a test or a notebook can call
directly. It wires the pieces together and writes the outputs; the math lives in `step`, the
epochs in `loop`. Outputs, all in `run_dir`: `config.json`, `history.csv`, TensorBoard's `train/`
and `validation/`, `best.weights.h5` (the best epoch's weights), `curves.png` and `checkpoints/`.
Each file is written whole under another name and renamed into place, so that a run killed while
writing leaves the previous version, never half of one. A run ended by a signal or by a loss that is
no longer a number still writes them all, then raises `Interrupted` or `NumericalFault`.

With a `tf.distribute` strategy (`looptrain.distribute`) the model, optimizer and metrics are made in
its scope, the datasets and steps are the strategy's, and in a cluster only the chief writes the run
folder; the other workers train alike and keep only temporary checkpoints, which they remove.
"""

import contextlib
import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from looptrain import data as data_module
from looptrain import distribute, epoch, reviews
from looptrain.checkpoint import Checkpoints
from looptrain.errors import InputError, Interrupted, NumericalFault
from looptrain.experiment import Experiment
from looptrain.history import read_history, write_history, write_whole
from looptrain.interruption import Interruption
from looptrain.loop import History, run_epochs
from looptrain.plot import plot_histories
from looptrain.step import make_metrics, make_steps
from looptrain.summaries import Summaries


def make_optimizer(learning_rate: float, decay_steps: int, weight_decay: float = 0.0) -> keras.optimizers.Adam:
    """Adam with the tutorial's schedule: lr / (1 + step / decay_steps), evaluated at every step; a
    constant rate for `decay_steps=0` (the IMDB experiments' plain `Adam()`). With `weight_decay`,
    AdamW: before each Adam update the optimizer shrinks every weight by lr × weight_decay × w, a
    decay that never appears in the loss."""
    schedule = learning_rate if decay_steps == 0 else keras.optimizers.schedules.InverseTimeDecay(
        learning_rate, decay_steps=decay_steps, decay_rate=1, staircase=False)
    if weight_decay:
        return keras.optimizers.AdamW(schedule, weight_decay=weight_decay)
    return keras.optimizers.Adam(schedule)


def train(experiment: Experiment, data_path: Path | str, run_dir: Path, reporter, resume: bool = False,
          strategy: tf.distribute.Strategy | None = None) -> History:
    """Train one experiment into `run_dir`, replacing an earlier run there; with `resume`, carry on
    from the run's latest checkpoint instead, appending to its TensorBoard logs. `data_path` is what
    `data.resolve` made of `--data`: a HIGGS-layout file, or for an IMDB experiment which reviews.
    With a `strategy`, train on its replicas; a worker other than the chief writes nothing to `run_dir`."""
    config = experiment.config
    if strategy is not None or tf.config.functions_run_eagerly():
        # The steps are called batch by batch under a strategy, whose replicas meet at every step to
        # add up their gradients, and in eager mode (for a debugger), where one epoch in one graph
        # would be a Python loop over batches anyway. config.json then says so.
        config = dataclasses.replace(config, loop="step")
    chief = distribute.is_chief(strategy)
    # Same seed, same initial weights, same shuffling, same dropout masks, same numbers.
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    data = (reviews.load if config.dataset == "imdb" else data_module.load)(data_path, config)
    if data.shortfall:
        reporter.warn(data.shortfall)
    from_logits = config.outputs == "logits"
    # Under a strategy, variables made in its scope live on every replica and are kept equal.
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = experiment.build_model()
        optimizer = make_optimizer(config.learning_rate, decay_steps=data.steps_per_epoch * config.decay_epochs,
                                   weight_decay=config.weight_decay)
        # Adam's moments made now, before anything is restored: an optimizer without its slots yet
        # silently skips them in a checkpoint.
        optimizer.build(model.trainable_variables)
        metrics = make_metrics(from_logits)
    steps = make_steps(model, optimizer, metrics, config.batch_size, strategy, from_logits)
    if config.loop == "epoch":
        run_epoch, shuffling = epoch.in_one_graph(steps, metrics, data, optimizer, config.seed,
                                                  config.jit_compile)
    else:
        train_batches, validation_batches = data.train_batches(), data.validation_batches()
        if strategy is not None:
            train_batches = distribute.distribute_dataset(strategy, train_batches)
            validation_batches = distribute.distribute_dataset(strategy, validation_batches)
        run_epoch, shuffling = epoch.step_by_step(steps, metrics, optimizer, train_batches, validation_batches,
                                                  data.steps_per_epoch)
    # A worker other than the chief saves its checkpoints to a temporary folder, removed at the end
    # (or, should bad input stop the run first, when the program exits).
    save_to = None if chief else tempfile.TemporaryDirectory(prefix="looptrain-worker-checkpoints-")
    # Outside the scope: the checkpoint's bookkeeping (the history as a string among it) is each
    # process's own; a strategy could not mirror a string variable.
    checkpoints = Checkpoints(run_dir / "checkpoints", model, optimizer, config.loop, shuffling,
                              config.checkpoint_every, save_to and Path(save_to.name))
    if resume:
        checkpoints.check_resumable()

    # Everything above can fail on bad input; only now is an earlier run of this experiment replaced.
    if chief:
        try:
            if run_dir.exists() and not resume:
                shutil.rmtree(run_dir)
            run_dir.mkdir(parents=True, exist_ok=resume)
        except OSError as error:
            raise InputError(f"cannot write the run folder {run_dir}: {error.strerror}") from None
        write_whole(run_dir / "config.json", lambda path: path.write_text(json.dumps({
            "experiment": experiment.name, "experiment_file": str(experiment.path), "data": str(data_path),
            "n_train": data.n_train, "n_validation": data.n_validation, "steps_per_epoch": data.steps_per_epoch,
            "parameters": model.count_params(), "fields": dataclasses.asdict(config),
        }, indent=2) + "\n"))

    summaries = Summaries(run_dir, model, config.histogram_every) if chief else None

    def report(epoch, results, best_epoch):
        if summaries is not None:
            summaries.write(epoch, results)
        reporter.epoch(epoch, results, best_epoch)

    replicas = f", {strategy.num_replicas_in_sync} replicas" if strategy is not None else ""
    reporter.start(experiment.name, config.max_epochs, f"{experiment.description}\n"
                   f"  {model.count_params():,} parameters, {data.n_train:,} training rows{replicas}, "
                   f"data: {data_path}")
    try:
        with Interruption() as interruption:
            history = run_epochs(model, run_epoch, max_epochs=config.max_epochs,
                                 patience=config.patience, min_delta=config.min_delta, report=report,
                                 checkpoints=checkpoints, resume=resume, stop_requested=interruption)
    finally:
        if summaries is not None:
            summaries.close()
        if save_to is not None:
            save_to.cleanup()

    if chief:
        if history.best_epoch is not None:  # else the model holds no epoch worth keeping (a fault in the first)
            write_whole(run_dir / "best.weights.h5", model.save_weights)
        write_history(run_dir / "history.csv", history.epochs)
        if history.epochs:
            write_whole(run_dir / "curves.png", lambda path: plot_histories(
                {experiment.name: read_history(run_dir / "history.csv")}, path))
    outcome = f"best epoch {history.best_epoch} of {len(history.epochs)}, outputs in {run_dir}"
    if history.fault:
        reporter.finish(f"{experiment.name}: stopped, {outcome}")
        kept = (f"the history before it and the best weights are in {run_dir}" if history.epochs
                else "no epoch came before it, so there are no weights to keep")
        raise NumericalFault(f"{experiment.name}, {history.fault}; {kept}")
    if history.interrupted:
        reporter.finish(f"{experiment.name}: interrupted, {outcome}, checkpoint in {run_dir / 'checkpoints'}")
        raise Interrupted(interruption.signal_number,
                          f"{experiment.name} stopped after epoch {len(history.epochs) - 1}")
    reporter.finish(f"{experiment.name}: {outcome}")
    return history
