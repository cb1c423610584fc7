"""One experiment from start to finish: data, model, optimizer, the loop, and the run's files.

`train` is what the command line calls for each run, and what a test or a notebook can call
directly. It reads top to bottom: refuse a run folder that is not looptrain's, build everything the
run trains with (`build`), take the folder and run the epochs in it (`train_in_folder`), score the
best and the final weights on the test rows once the epochs are over and write the files
(`write_outputs`), then end the run (`end_run`): return the history, or raise `WriteFailed`,
`NumericalFault` or `Interrupted` once the files are written. The math is `looptrain.loop`'s, the
folder's files, lock and checkpoints `looptrain.runfolder`'s. What a run writes and what survives what is told in
docs/resume-and-errors.md; what each worker of a cluster writes, in docs/distributed.md.
"""

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from looptrain.config import Config
from looptrain.data import higgs, label_noise, reviews
from looptrain.data.higgs import Data
from looptrain.errors import Interrupted, NumericalFault, WriteFailed
from looptrain.experiment import Experiment
from looptrain.loop import distribute, epoch, precision, weight_average
from looptrain.loop.evaluate import evaluate, holding
from looptrain.loop.fit import History, run_epochs
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps, part_metrics
from looptrain.results.curves import plot_histories
from looptrain.results.reliability import plot_reliability
from looptrain.runfolder import ownership, profile
from looptrain.runfolder.checkpoint import Checkpoints
from looptrain.runfolder.files import failed, write_whole
from looptrain.runfolder.history import read_history, summarize, write_history
from looptrain.runfolder.hparams import write_session
from looptrain.runfolder.interruption import Interruption
from looptrain.runfolder.lock import FolderLock
from looptrain.runfolder.scores import FILE as SCORES_FILE
from looptrain.runfolder.scores import scores_record, write_scores
from looptrain.runfolder.summaries import Summaries
from looptrain.runfolder.weights_file import write_weights


def train(experiment: Experiment, data_path: Path | str, run_dir: Path, reporter, resume: bool = False,
          strategy: tf.distribute.Strategy | None = None, profile_epoch: int | None = None) -> History:
    """Train one experiment into `run_dir`, replacing an earlier run there; with `resume`, carry on
    from the run's latest readable checkpoint instead, appending to its TensorBoard logs. `data_path`
    is what `higgs.resolve` made of `--data`: a HIGGS-layout file, or for an IMDB experiment which
    reviews. With a `strategy`, train on its replicas; a worker other than the chief writes nothing to
    `run_dir`. With `profile_epoch`, that epoch is traced by TensorFlow's profiler (`--profile`)."""
    chief = distribute.is_chief(strategy)
    if chief:
        ownership.check_folder(run_dir)  # before anything is built: a folder of the user's is refused whole
    training = build(experiment, data_path, run_dir, resume, strategy, chief, reporter)
    # Everything above can fail on bad input; only now is the run folder taken and written.
    history, written, signal_number = train_in_folder(training, run_dir, resume, chief, reporter, profile_epoch)
    return end_run(experiment.name, run_dir, history, written, signal_number, reporter)


@dataclass
class Training:
    """Everything one run trains with, built before its folder is taken."""

    name: str  # the experiment's, or a sweep's point's: "Tiny seed=3"
    config: Config  # the experiment's, with the `loop` this run can have
    model: keras.Model
    run_epoch: Callable[[], dict]  # trains and validates one epoch, and returns its results
    data: Data  # the rows: the epochs see the training and validation rows, the end of the run the test rows
    from_logits: bool  # whether the model's outputs are logits, or probabilities
    checkpoints: Checkpoints
    worker_checkpoints: tempfile.TemporaryDirectory | None  # where a worker other than the chief saves
    record: dict  # what config.json says of the run
    heading: str  # what the reporter shows as the run starts
    evaluated: list  # the variables the validation sees, which the loop keeps as the best weights


def build(experiment: Experiment, data_path: Path | str, run_dir: Path, resume: bool,
          strategy: tf.distribute.Strategy | None, chief: bool, reporter) -> Training:
    """The data, the model with its optimizer and metrics, the steps, the epoch and the checkpoints:
    all that bad input can make fail, so it fails with the run folder as it was. With `resume`, the
    checkpoint to carry on from is checked here, and restored by the loop."""
    config = experiment.config
    if strategy is not None:
        distribute.refuse_unsupported(config)
    if strategy is not None or tf.config.functions_run_eagerly():
        # The steps are called batch by batch under a strategy, whose replicas meet at every step to
        # add up their gradients, and in eager mode (for a debugger), where one epoch in one graph
        # would be a Python loop over batches anyway. config.json then says so.
        config = dataclasses.replace(config, loop="step")
    # Same seed, same initial weights, same shuffling, same dropout masks, same numbers.
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    data = (reviews.load if config.dataset == "imdb" else higgs.load)(data_path, config)
    for warning in (data.shortfall, data.no_test):
        if warning:
            reporter.warn(warning)
    data = label_noise.with_label_noise(data, config.label_noise, config.seed)  # only the training rows' labels
    if config.accumulate > 1:  # a train step takes a micro-batch; the optimizer adds up `accumulate` of them
        data = dataclasses.replace(data, batch_size=config.batch_size // config.accumulate,
                                   accumulate=config.accumulate)
    from_logits = config.outputs == "logits"
    # Under a strategy, variables made in its scope live on every replica and are kept equal.
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = precision.build_model(experiment.build_model, config.precision)
        optimizer = make_optimizer(config.learning_rate, decay_steps=data.steps_per_epoch // config.accumulate
                                   * config.decay_epochs, weight_decay=config.weight_decay,
                                   clip_global_norm=config.clip_global_norm, accumulate=config.accumulate,
                                   weight_average=config.weight_average,
                                   loss_scaling=precision.needs_loss_scaling(config.precision))
        # Adam's moments (and the accumulators, the averages, the loss scale) made now, before anything
        # is restored: an optimizer without its slots yet silently skips them in a checkpoint.
        optimizer.build(model.trainable_variables)
        swap = weight_average.make_swap(model, optimizer)
        metrics = {**make_metrics(from_logits), **part_metrics(data.label_parts, from_logits)}
    # A step's mean is over its own rows: the optimizer averages the micro-batches' gradients.
    steps = make_steps(model, optimizer, metrics, data.batch_size, strategy, from_logits)
    run_epoch, shuffling = make_epoch(config, steps, metrics, data, optimizer, strategy, swap)

    # A worker other than the chief saves its checkpoints to a temporary folder, removed at the end
    # (or, should bad input stop the run first, when the program exits).
    worker_checkpoints = None if chief else tempfile.TemporaryDirectory(prefix="looptrain-worker-checkpoints-")
    # Outside the scope: the checkpoint's bookkeeping (the history as a string among it) is each
    # process's own; a strategy could not mirror a string variable.
    checkpoints = Checkpoints(run_dir / "checkpoints", model, optimizer, config.loop, shuffling,
                              config.checkpoint_every, worker_checkpoints and Path(worker_checkpoints.name))
    if resume:
        checkpoints.check_resumable()
        for name, why in checkpoints.unreadable:
            reporter.warn(f"{experiment.name}: checkpoint {name} cannot be read ({why}); resuming from "
                          f"{Path(checkpoints.resume_from).name}, the one before it that reads whole")

    record = {"experiment": experiment.name, "experiment_file": str(experiment.path), "data": str(data_path),
              "n_train": data.n_train, "n_validation": data.n_validation, "n_test": data.n_test,
              "steps_per_epoch": data.steps_per_epoch, "parameters": model.count_params(),
              "fields": dataclasses.asdict(config)}
    replicas = f", {strategy.num_replicas_in_sync} replicas" if strategy is not None else ""
    heading = (f"{experiment.description}\n  {model.count_params():,} parameters, {data.n_train:,} training rows"
               f"{replicas}, {data.n_test:,} test rows, data: {data_path}")
    return Training(experiment.name, config, model, run_epoch, data, from_logits, checkpoints, worker_checkpoints,
                    record, heading, weight_average.evaluated_weights(model, optimizer))


def make_epoch(config: Config, steps, metrics: dict, data, optimizer, strategy: tf.distribute.Strategy | None,
               swap=None) -> tuple[Callable[[], dict], object]:
    """One epoch as the `loop` field says (`looptrain.loop.epoch`), and the state of its shuffling,
    which the checkpoints keep."""
    if config.loop == "epoch":
        return epoch.in_one_graph(steps, metrics, data, optimizer, config.seed, config.jit_compile, swap)
    train_batches, validation_batches = data.train_batches(), data.validation_batches()
    if strategy is not None:
        train_batches = distribute.distribute_dataset(strategy, train_batches)
        validation_batches = distribute.distribute_dataset(strategy, validation_batches)
    return epoch.step_by_step(steps, metrics, optimizer, train_batches, validation_batches, data.steps_per_epoch,
                              swap, data.part_batches())


def train_in_folder(training: Training, run_dir: Path, resume: bool, chief: bool, reporter,
                    profile_epoch: int | None = None) -> tuple[History, list[str], int | None]:
    """Take the run folder (its lock, then config.json), run the epochs, each one's results going to
    TensorBoard and the reporter, and write the run's files. Return the history, the names of the
    files written, and the signal that stopped the run if one did. A worker other than the chief takes
    no folder and writes nothing: it only trains."""
    with FolderLock(run_dir) if chief else contextlib.nullcontext() as lock:
        if lock is not None and lock.taken_over:
            reporter.warn(lock.taken_over)
        if chief:
            start_run_folder(run_dir, resume, training.record)
        summaries = (Summaries(run_dir, training.model, training.config.histogram_every, training.data.label_parts)
                     if chief else None)

        def report(epoch, results, best_epoch):
            if summaries is not None:
                summaries.write(epoch, results)
            reporter.epoch(epoch, results, best_epoch)

        config = training.config
        reporter.start(training.name, config.max_epochs, training.heading)
        closing_failure = None
        try:
            with Interruption() as interruption:
                history = run_epochs(training.model, training.run_epoch, max_epochs=config.max_epochs,
                                     patience=config.patience, min_delta=config.min_delta, report=report,
                                     checkpoints=training.checkpoints, resume=resume, stop_requested=interruption,
                                     evaluated=training.evaluated, around_epoch=profile.around_epoch(
                                         run_dir, profile_epoch if chief else None))
        finally:
            if summaries is not None:
                try:
                    summaries.close()
                except WriteFailed as failure:
                    closing_failure = failure
            if training.worker_checkpoints is not None:
                training.worker_checkpoints.cleanup()
        history.write_failure = history.write_failure or closing_failure  # the first failure is the one to tell
        written = write_outputs(run_dir, training, history) if chief else []
    return history, written, interruption.signal_number


def end_run(name: str, run_dir: Path, history: History, written: list[str], signal_number: int | None,
            reporter) -> History:
    """Say how the run ended and return its history, or raise what stopped it: a write the disk
    refused, else a loss that is no longer a number, else a signal."""
    outcome = f"best epoch {history.best_epoch} of {len(history.epochs)}, outputs in {run_dir}"
    if history.write_failure:
        reporter.finish(f"{name}: stopped, {outcome}")
        raise WriteFailed(f"{name}: {history.write_failure}; {kept(run_dir, history, written)}")
    if history.fault:
        reporter.finish(f"{name}: stopped, {outcome}")
        kept_now = (f"the history before it and the best weights are in {run_dir}" if history.epochs
                    else "no epoch came before it, so there are no weights to keep")
        raise NumericalFault(f"{name}, {history.fault}; {kept_now}")
    if history.interrupted:
        reporter.finish(f"{name}: interrupted, {outcome}, checkpoint in {run_dir / 'checkpoints'}")
        raise Interrupted(signal_number, f"{name} stopped after epoch {len(history.epochs) - 1}")
    reporter.finish(f"{name}: {outcome}")
    return history


def start_run_folder(run_dir: Path, resume: bool, record: dict) -> None:
    """Make the run folder ready: a fresh run deletes what an earlier run of looptrain's left there
    (and only that), then writes config.json, which marks the folder as looptrain's. A resumed run
    deletes the test scores of the end it carries on from: they will be of another end, or of none."""
    try:
        if not resume:
            ownership.clear_folder(run_dir)
        else:
            for name in (SCORES_FILE, "reliability.png"):
                (run_dir / name).unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise failed(run_dir, error) from None
    write_whole(run_dir / "config.json", lambda path: path.write_text(json.dumps(record, indent=2) + "\n"))


def write_outputs(run_dir: Path, training: Training, history: History) -> list[str]:
    """Write the run's files, the history first, and return the names of those written. Each is tried
    even after one fails; the first failure of the run is kept in `history.write_failure`. A run that
    ended, rather than being stopped, with test rows scores its best and final weights on them first:
    the one time the test rows are looked at."""
    name, model, data = training.name, training.model, training.data
    ended = not (history.interrupted or history.fault or history.write_failure)
    outputs = [("history.csv", lambda: write_history(run_dir / "history.csv", history.epochs))]
    if history.best_epoch is not None:  # else the model holds no epoch worth keeping (a fault in the first)
        outputs.append(("best.weights.h5", lambda: write_weights(run_dir / "best.weights.h5", model)))
    if history.final_weights is not None:
        outputs.append(("final.weights.h5", lambda: write_final_weights(run_dir / "final.weights.h5", model,
                                                                        history.final_weights)))
    if ended and data.n_test and history.best_epoch is not None:
        weights = {"best": [weight.numpy() for weight in model.weights], "final": history.final_weights}
        scored = evaluate(model, weights, (data.test_features, data.test_labels),
                          (data.validation_features, data.validation_labels), training.from_logits, data.batch_size)
        record = scores_record(data.n_test, scored, {"best": history.best_epoch, "final": len(history.epochs) - 1})
        outputs.append((SCORES_FILE, lambda: write_scores(run_dir / SCORES_FILE, record)))
        outputs.append(("reliability.png", lambda: write_whole(run_dir / "reliability.png", lambda path: (
            plot_reliability({name: record}, path)))))
    if history.epochs:
        outputs.append(("curves.png", lambda: write_whole(run_dir / "curves.png", lambda path: plot_histories(
            {name: read_history(run_dir / "history.csv")}, path))))
    written = []
    for file_name, write in outputs:
        try:
            write()
            written.append(file_name)
        except WriteFailed as failure:
            history.write_failure = history.write_failure or failure
    try:  # TensorBoard's, as train/ and validation/ are: not among the files a failed run lists as kept
        if history.epochs:
            write_session(run_dir, name, training.config, summarize(name, history.epochs, history.best_epoch))
    except WriteFailed as failure:
        history.write_failure = history.write_failure or failure
    return written


def write_final_weights(path: Path, model: keras.Model, final_weights: list) -> None:
    """The final epoch's weights, written as best.weights.h5 is, from a model that holds the best."""
    with holding(model, final_weights):
        write_weights(path, model)


def kept(run_dir: Path, history: History, written: list[str]) -> str:
    """What a run that could not write everything leaves behind, and how to carry on from it."""
    checkpoint = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    survivors = ([f"checkpoint {Path(checkpoint).name}"] if checkpoint else []) + written
    left = f"kept in {run_dir}: {', '.join(survivors)}" if survivors else f"nothing of it could be kept in {run_dir}"
    carry_on = ("once the disk can take it, --resume carries on from that checkpoint" if checkpoint
                else "once the disk can take it, run it again")
    return f"the run stopped after epoch {len(history.epochs) - 1}; {left}; {carry_on}"
