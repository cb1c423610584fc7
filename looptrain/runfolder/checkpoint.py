"""Checkpoints: everything a run needs to carry on later exactly where it stopped.

A run saves one to `<run>/checkpoints/` every `checkpoint_every` epochs, at its end and when a signal
stops it; TensorFlow's `CheckpointManager` keeps the latest three. One holds the model's variables
(each dropout layer's `SeedGenerator` among them), the optimizer's, where the shuffling of the
training rows is (`looptrain.loop.epoch`), the early-stopping state, the best weights and the
history: a resumed run gives the numbers the run would have given without stopping. A checkpoint
that cannot be written leaves none of its files behind (`WriteFailed`); a damaged latest one is
passed over for the newest that reads whole; what a run killed while saving leaves, and the manager
would keep for good, is removed (`tidy`). docs/resume-and-errors.md says what survives what, and
docs/distributed.md what changes under a `tf.distribute` strategy. What is not here: when to save
(the loop decides) and the run's other files (`train`).
"""

import contextlib
import json
import math
import re
import shutil
from pathlib import Path

import tensorflow as tf

from looptrain.errors import InputError
from looptrain.loop.early_stopping import EarlyStopping
from looptrain.runfolder import files

KEEP = 3  # the latest checkpoints kept: the newest, and two to resume from should it be damaged


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
        self.resume_from = None  # the checkpoint `check_resumable` chose
        self.unreadable = []  # (checkpoint, why) for each newer one it passed over

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
        self.manager = tf.train.CheckpointManager(checkpoint, str(self.save_to), max_to_keep=KEEP)

    def due(self, epochs_done: int) -> bool:
        return self.every > 0 and epochs_done % self.every == 0

    def save(self, epochs: list[dict], stopper: EarlyStopping) -> None:
        self.history.assign(json.dumps(epochs))
        self.best_value.assign(stopper.best_value)
        self.best_epoch.assign(-1 if stopper.best_epoch is None else stopper.best_epoch)
        self.epochs_without_improvement.assign(stopper.epochs_without_improvement)
        listed = self.save_to / "checkpoint"
        listed_before = listed.read_bytes() if listed.exists() else None
        try:
            self.manager.save(checkpoint_number=len(epochs))  # named by the epochs done: ckpt-50, ckpt-100, ...
        except (tf.errors.OpError, OSError) as error:
            # TensorFlow writes a checkpoint into ckpt-N_temp/, then moves it to ckpt-N.* and rewrites the
            # list of checkpoints; whatever of that it got to is removed, and the list stays as it was.
            for path in self.save_to.glob(f"ckpt-{len(epochs)}[._]*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            for path in self.save_to.glob("checkpoint.tmp*"):
                path.unlink()
            # The list is written twice, before and after the oldest checkpoint is deleted: where the
            # second write is refused (the first save, whose list is a new file, on a disk with room
            # for one list only), the first one names the checkpoint just removed. It goes back.
            if listed_before is None:
                listed.unlink(missing_ok=True)
            elif listed.read_bytes() != listed_before:
                files.write_whole(listed, lambda path: path.write_bytes(listed_before))
            raise files.failed(self.save_to / f"ckpt-{len(epochs)}", error) from None
        self.tidy()

    def check_resumable(self) -> None:
        """Choose the checkpoint to resume from, before anything is written: the newest that reads
        whole. Refuse a folder without one, or one of another model or loop."""
        candidates = saved_checkpoints(self.folder)
        if not candidates:
            raise InputError(f"nothing to resume: {self.folder} holds no checkpoint")
        for path in candidates:
            why = unreadable(path)
            if why is None:
                break
            self.unreadable.append((Path(path).name, why))
        else:
            reasons = "; ".join(f"{name}: {why}" for name, why in self.unreadable)
            raise InputError(f"cannot resume: no checkpoint in {self.folder} can be read ({reasons}); "
                             f"start afresh without --resume, which replaces the run folder")
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
        self.resume_from = path

    def restore(self, stopper: EarlyStopping) -> list[dict]:
        """Load the checkpoint `check_resumable` chose into the model, the optimizer, the iterator, the
        best weights and `stopper`; return the history so far."""
        self.manager.checkpoint.restore(self.resume_from).assert_existing_objects_matched()
        stopper.best_value = float(self.best_value.numpy())
        stopper.best_epoch = None if self.best_epoch.numpy() < 0 else int(self.best_epoch.numpy())
        stopper.epochs_without_improvement = int(self.epochs_without_improvement.numpy())
        self.tidy(also_keep=self.resume_from)
        return json.loads(self.history.numpy().decode())

    def tidy(self, also_keep: str | None = None) -> None:
        """Keep the newest KEEP checkpoints (and `also_keep`) and remove what a run killed while saving
        left beside them. TensorFlow's manager moves a checkpoint into place, then lists it, then
        deletes the oldest: killed between the first two, it never lists that checkpoint and so never
        deletes it; killed between the last two, an extra one stays while no new save comes, for good
        when the run was at its end. Also a data file without its index, a checkpoint's temporary
        folder, a temporary copy of the list. Called when nothing is being saved: after a save, and
        once a resumed run holds its folder. A file that will not go is left for the next time."""
        keep = {Path(path).name for path in saved_checkpoints(self.save_to)[:KEEP]}
        keep |= {Path(also_keep).name} if also_keep else set()
        for path in [*self.save_to.glob("ckpt-*"), *self.save_to.glob("checkpoint.tmp*")]:
            with contextlib.suppress(OSError):
                if path.is_dir():  # ckpt-N_temp/
                    shutil.rmtree(path)
                elif not path.name.startswith("ckpt-") or path.name.split(".")[0] not in keep:
                    path.unlink()


def saved_checkpoints(folder: Path) -> list[str]:
    """The checkpoints in `folder`, newest first, found by their index files, not by CheckpointManager's
    list of them: the list itself may be what was damaged."""
    numbers = [int(match.group(1)) for index in Path(folder).glob("ckpt-*.index")
               if (match := re.fullmatch(r"ckpt-(\d+)\.index", index.name))]
    return [str(Path(folder) / f"ckpt-{number}") for number in sorted(numbers, reverse=True)]


def unreadable(path: str) -> str | None:
    """None if every value of the checkpoint at `path` reads back whole; else what went wrong, in a line.
    The values are read as a restore reads them, by TensorFlow's RestoreV2, which checks each one's
    checksum and reads the batches' iterator state too (numpy cannot hold that)."""
    try:
        reader = tf.train.load_checkpoint(path)
        dtypes = reader.get_variable_to_dtype_map()
        names = sorted(dtypes)
        tf.raw_ops.RestoreV2(prefix=path, tensor_names=names, shape_and_slices=[""] * len(names),
                             dtypes=[dtypes[name] for name in names])
    # A damaged checkpoint fails in many ways: OpError for a missing shard, a bad index or a checksum,
    # IndexError for a data file cut short, and others; whichever it is, it cannot be resumed from.
    except Exception as error:
        return files.reason(error)
    return None
