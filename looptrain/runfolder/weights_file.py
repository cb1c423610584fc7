"""A model's weights written to disk as Keras's `.weights.h5` file, whole or not at all.

`model.save_weights(path)` lets h5py write straight to the disk. When the disk fills in the middle,
h5py cannot close the file it holds open: it prints tracebacks from its destructors, and the process
later dies of a segmentation fault instead of ending with its one line and exit code 5. So Keras's
own writer makes the file in memory first (the same groups and arrays, which `load_weights` reads),
and Python writes its bytes, whose failure is an ordinary `OSError` that `files.write_whole` turns
into `WriteFailed`. Reading a
weights file back, without TensorFlow, is `history.read_weights`.
"""

import io
from pathlib import Path

import keras

# Keras's own writer of `.weights.h5`, the one `save_weights` uses: its store takes an in-memory file
# as well as a path. Not part of Keras's public API, so a test reads its output back with
# `model.load_weights` and compares every array.
from keras.src.saving.saving_lib import H5IOStore, _save_state

from looptrain.runfolder.files import write_whole


def weights_bytes(model: keras.Model) -> bytes:
    """The `.weights.h5` file of `model`'s weights, made in memory."""
    memory = io.BytesIO()
    store = H5IOStore(memory, mode="w")
    _save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())
    store.close()
    return memory.getvalue()


def write_weights(path: Path, model: keras.Model) -> None:
    """Write `model`'s weights to `path` whole, or raise `WriteFailed` and leave nothing half-written."""
    contents = weights_bytes(model)
    write_whole(path, lambda temporary: temporary.write_bytes(contents))
