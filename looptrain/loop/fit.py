"""The loop: epochs of train steps, a validation pass, one dict of results per epoch, early stopping.

It reads top to bottom like the tutorial's `model.fit(..., callbacks=[EarlyStopping, TensorBoard])`
spelled out: run one epoch (train, then validate; `looptrain.loop.epoch`) → collect its results → check
they are numbers → hand them to `report` → keep the best weights → checkpoint now and then → stop
when patience runs out or a signal asks, or when `report` or a checkpoint could not be written → keep
a copy of the final weights and put the best back. It
knows nothing of files, TensorBoard, consoles or signals: whatever `report` does with each epoch, how
`checkpoints` saves (`looptrain.runfolder.checkpoint`), what `around_epoch` wraps an epoch in and who
sets `stop_requested` are the caller's business.
"""

import contextlib
import math
import time
from dataclasses import dataclass

import keras
import tensorflow as tf

from looptrain.errors import WriteFailed
from looptrain.loop.early_stopping import EarlyStopping


@dataclass
class History:
    epochs: list[dict]  # one dict of scalars per epoch, in order; epoch numbers start at 0
    best_epoch: int | None  # the epoch whose weights the model holds at the end
    interrupted: bool = False  # `stop_requested` ended the run before patience or max_epochs did
    fault: str | None = None  # why a loss stopped being a number; that epoch is not in `epochs`
    write_failure: WriteFailed | None = None  # a summary or checkpoint the filesystem refused, which ended the run
    final_weights: list | None = None  # the last epoch's evaluated weights, as arrays; None after a fault


def run_epochs(model: keras.Model, run_epoch, *, max_epochs: int, patience: int, min_delta: float = 0.0,
               report=None, checkpoints=None, resume: bool = False, stop_requested=lambda: False,
               evaluated: list | None = None, around_epoch=lambda epoch: contextlib.nullcontext()) -> History:
    """Train until patience runs out, `max_epochs`, a non-finite loss, `stop_requested()` or a write that
    fails; the model ends with the best epoch's weights. `run_epoch()` trains and validates one epoch and returns its
    results (`looptrain.loop.epoch`). With `resume`, carry on from `checkpoints`' latest. `evaluated`
    are the variables the validation saw, in `model.weights`' order (by default `model.weights`; with
    `weight_average`, the averages in place of the trainable weights): they are what is kept as best.
    Each epoch runs in the context `around_epoch(epoch)` gives (`--profile` traces one)."""
    evaluated = list(model.weights) if evaluated is None else evaluated
    stopper = EarlyStopping(patience, min_delta)
    # Copies of the best epoch's weights, kept as variables: copying them is a device-side assign,
    # not a trip to the host, and a checkpoint can hold them.
    best_weights = [tf.Variable(tf.convert_to_tensor(weight), trainable=False) for weight in evaluated]

    def keep_best():
        for best, weight in zip(best_weights, evaluated):
            best.assign(weight)

    # One traced graph for all the copies, not an assign per weight from Python: early on a run
    # improves almost every epoch, and an assign per weight would cost a good part of a short epoch.
    keep_best = tf.function(keep_best).get_concrete_function()
    epochs = []
    if checkpoints is not None:
        checkpoints.track(best_weights)
        if resume:
            epochs = checkpoints.restore(stopper)
    start = time.perf_counter() - (epochs[-1]["seconds"] if epochs else 0.0)  # a resumed clock goes on
    interrupted = fault = write_failure = None
    saved = len(epochs)  # epochs done at the latest checkpoint

    while len(epochs) < max_epochs and not stopper.should_stop:
        epoch = len(epochs)
        try:
            with around_epoch(epoch):
                # Reading the results is the epoch's one wait for the host: the steps before it ran ahead.
                results = {name: float(value) for name, value in run_epoch().items()}
        except WriteFailed as failure:  # the profile of this epoch could not be written
            write_failure = failure
            break
        results["seconds"] = time.perf_counter() - start

        # Checked once per epoch, on the epoch's means: a NaN in any step makes its epoch's mean NaN.
        fault = numerical_fault(epoch, results, model)
        if fault:
            break
        epochs.append(results)

        # Watch the validation *data* loss: the penalty is not what we want to generalize.
        if stopper.update(epoch, results["val_binary_crossentropy"]):
            keep_best()
        # A summary or a checkpoint the disk refuses ends the run: a run that cannot save cannot be
        # resumed. The epochs so far go back to the caller, which writes what it still can.
        try:
            if report is not None:
                report(epoch, results, stopper.best_epoch)
            interrupted = stop_requested()  # a signal waits for the epoch to finish, then ends the run
            if not interrupted and checkpoints is not None and checkpoints.due(len(epochs)):
                checkpoints.save(epochs, stopper)
                saved = len(epochs)
        except WriteFailed as failure:
            write_failure = failure
        if interrupted or write_failure:
            break

    # The last state goes into a checkpoint too, to resume an interrupted run or extend a finished one;
    # after a fault or a failed write the latest checkpoint stays the last good one.
    if checkpoints is not None and not fault and not write_failure and saved != len(epochs):
        try:
            checkpoints.save(epochs, stopper)
        except WriteFailed as failure:
            write_failure = failure
    # The overfit model is worth a look too (`looptrain.loop.evaluate`): one copy to the host, at the end,
    # of what the validation saw (the averages, with `weight_average`), in `model.weights`' order.
    final_weights = [weight.numpy() for weight in evaluated] if epochs and not fault else None
    if stopper.best_epoch is not None:
        for weight, best in zip(model.weights, best_weights):
            weight.assign(best)
    return History(epochs=epochs, best_epoch=stopper.best_epoch, interrupted=bool(interrupted), fault=fault,
                   write_failure=write_failure, final_weights=final_weights)


def numerical_fault(epoch: int, results: dict, model: keras.Model) -> str | None:
    """None if the epoch's results are all numbers; else which part went bad. The epoch's means cannot
    say which step came first, so this names every part that is not finite: the data loss, the
    regularization loss, and the weights (made non-finite by the gradients' update)."""
    if all(math.isfinite(value) for value in results.values()):
        return None
    parts = [f"{label} is {results[name]}" for name, label in
             [("binary_crossentropy", "the data loss"), ("regularization_loss", "the regularization loss")]
             if name in results and not math.isfinite(results[name])]
    if not all(bool(tf.reduce_all(tf.math.is_finite(weight))) for weight in model.trainable_variables):
        parts.append("the gradients made the weights non-finite")
    return f"epoch {epoch}: the loss is no longer a number ({', '.join(parts) or 'the validation loss'})"
