"""Checkpoints: everything a run needs to carry on later exactly where it stopped.

A run saves a checkpoint to `<run>/checkpoints/` every `checkpoint_every` epochs, at its end, and when
a signal stops it; TensorFlow's `CheckpointManager` keeps the latest two. One checkpoint holds:
- the model's variables, including each dropout layer's random state (a Keras 3 `SeedGenerator`
  variable: in `model.variables`, not in `model.weights`), so that resumed dropout masks are the same;
- the optimizer's variables: Adam's moments and `iterations`, which the learning-rate schedule reads;
- where the shuffling of the training rows is (`looptrain.epoch`): the batches' iterator, shuffle
  buffer included, or the random generator that draws each epoch's order;
- the early-stopping state, the best weights so far, and the history so far.
Resuming from it gives the numbers the run would have given without stopping. What is not here:
when to save (the loop decides) and the run's other files (`train`).

Under a `tf.distribute` strategy two things change. The training batches' iterator is then the
strategy's, which TensorFlow cannot save (its issue 56372): a resumed distributed run carries on with
the same weights, optimizer and early stopping, but its batches begin a fresh shuffled pass. And in a
cluster every worker saves, since saving may need all of them, but only the chief's checkpoints are
kept in the run folder; the others save to a folder of their own (`save_to`), and all resume from the
chief's.
"""

import json
import math
from pathlib import Path

import tensorflow as tf

from looptrain.early_stopping import EarlyStopping
from looptrain.errors import InputError


class Checkpoints:
    def __init__(self, folder: Path, model, optimizer, loop: str, shuffling, every: int,
                 save_to: Path | None = None):
        """`optimizer` must be built already (`train` builds it, in the strategy's scope if there is
        one): an optimizer without its slots yet would silently skip them on restore."""
        self.folder = folder  # the run's checkpoints, which a resumed run starts from
        self.save_to = save_to or folder  # where this process saves them
        self.every = every  # 0: only at the end and when interrupted
        self.model, self.optimizer, self.shuffling = model, optimizer, shuffling
        # The two loops keep their shuffling in different objects: a run resumes only with its own.
        self.loop = tf.Variable(loop)
        # What the loop keeps as Python numbers, mirrored in variables so that a checkpoint can hold it.
        self.best_value = tf.Variable(math.inf, dtype=tf.float64)
        self.best_epoch = tf.Variable(-1, dtype=tf.int64)  # -1: no best epoch yet
        self.epochs_without_improvement = tf.Variable(0, dtype=tf.int64)
        self.history = tf.Variable("[]")  # JSON: a float's repr survives the round trip exactly

    def track(self, best_weights: list[tf.Variable]) -> None:
        """Add the loop's own state: the best weights' copies."""
        # A strategy's distributed iterator cannot be saved (TensorFlow issue 56372): under one, a
        # resumed run starts a fresh shuffled pass.
        distributed = isinstance(self.shuffling, tf.distribute.DistributedIterator)
        shuffling = {} if distributed else {"shuffling": self.shuffling}
        checkpoint = tf.train.Checkpoint(
            # The list, not the model: tf.train.Checkpoint does not find a Keras 3 model's variables itself.
            model=list(self.model.variables), optimizer=self.optimizer, **shuffling, loop=self.loop,
            best_weights=best_weights, best_value=self.best_value, best_epoch=self.best_epoch,
            epochs_without_improvement=self.epochs_without_improvement, history=self.history)
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.save_to), max_to_keep=2)

    def due(self, epochs_done: int) -> bool:
        return self.every > 0 and epochs_done % self.every == 0

    def save(self, epochs: list[dict], stopper: EarlyStopping) -> None:
        self.history.assign(json.dumps(epochs))
        self.best_value.assign(stopper.best_value)
        self.best_epoch.assign(-1 if stopper.best_epoch is None else stopper.best_epoch)
        self.epochs_without_improvement.assign(stopper.epochs_without_improvement)
        self.manager.save(checkpoint_number=len(epochs))  # named by the epochs done: ckpt-50, ckpt-100, ...

    def check_resumable(self) -> None:
        """Refuse, before anything is written, a folder without a checkpoint or one of another model."""
        path = tf.train.latest_checkpoint(str(self.folder))
        if path is None:
            raise InputError(f"nothing to resume: {self.folder} holds no checkpoint")
        saved = {name: shape for name, shape in tf.train.list_variables(path) if name.startswith("model/")}
        expected = {f"model/{index}/.ATTRIBUTES/VARIABLE_VALUE": list(variable.shape)
                    for index, variable in enumerate(self.model.variables)}
        if saved != expected:
            raise InputError(f"cannot resume from {path}: it holds another model "
                             f"({len(saved)} model variables saved, {len(expected)} in this one, or other shapes)")
        loop = tf.train.load_variable(path, "loop/.ATTRIBUTES/VARIABLE_VALUE").decode()
        if loop != self.loop.numpy().decode():
            raise InputError(f"cannot resume from {path}: it was saved with loop={loop}, this run has "
                             f"loop={self.loop.numpy().decode()} (eager mode always runs loop=step)")

    def restore(self, stopper: EarlyStopping) -> list[dict]:
        """Load the latest checkpoint into the model, the optimizer, the iterator, the best weights
        and `stopper`; return the history so far."""
        path = tf.train.latest_checkpoint(str(self.folder))
        self.manager.checkpoint.restore(path).assert_existing_objects_matched()
        stopper.best_value = float(self.best_value.numpy())
        stopper.best_epoch = None if self.best_epoch.numpy() < 0 else int(self.best_epoch.numpy())
        stopper.epochs_without_improvement = int(self.epochs_without_improvement.numpy())
        return json.loads(self.history.numpy().decode())
