"""The epochs' scalars in TensorBoard: what `tf.summary.scalar` itself would write, under Keras's tag
names, every epoch under its own step, however many epochs wait to be written together."""

import time

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from looptrain.models.mlp import mlp
from looptrain.runfolder.summaries import TRAIN_NAMES, VALIDATION_NAMES, Summaries


def events(folder):
    """{tag: [(step, value, plugin name)]}, read back with TensorBoard's own reader."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {tag: [(event.step, float(make_ndarray(event.tensor_proto)),
                   accumulator.SummaryMetadata(tag).plugin_data.plugin_name) for event in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


def epoch_results(epoch):
    return {name: 0.1 * index + 0.01 * epoch for index, name in enumerate(TRAIN_NAMES + VALIDATION_NAMES)}


def test_the_scalars_are_what_tf_summary_scalar_writes(tmp_path):
    summaries = Summaries(tmp_path / "looptrain", mlp([4]), histogram_every=0)
    for epoch in range(5):  # within a second: they wait, and go in one call at close
        summaries.write(epoch, epoch_results(epoch))
    summaries.close()

    for folder, names in (("train", TRAIN_NAMES), ("validation", VALIDATION_NAMES)):
        writer = tf.summary.create_file_writer(str(tmp_path / "keras" / folder))
        with writer.as_default():
            for epoch in range(5):
                for name in names:
                    tf.summary.scalar(f"epoch_{name.removeprefix('val_')}", epoch_results(epoch)[name], step=epoch)
        writer.close()
        ours, theirs = events(tmp_path / "looptrain" / folder), events(tmp_path / "keras" / folder)
        assert sorted(ours) == sorted(theirs) == sorted(f"epoch_{name.removeprefix('val_')}" for name in names)
        for tag in theirs:
            assert [step for step, _, _ in ours[tag]] == [0, 1, 2, 3, 4]
            assert [plugin for _, _, plugin in ours[tag]] == [plugin for _, _, plugin in theirs[tag]] == ["scalars"] * 5
            np.testing.assert_array_equal([value for _, value, _ in ours[tag]], [value for _, value, _ in theirs[tag]])


def test_epochs_waiting_a_second_go_to_the_writers_without_waiting_for_the_end(tmp_path):
    summaries = Summaries(tmp_path, mlp([4]), histogram_every=0)
    summaries.last_written = time.monotonic() + 60  # as if written just now, however slow the machine
    summaries.write(0, epoch_results(0))
    assert summaries.waiting_epochs == [0]  # under a second since the last write: it waits
    summaries.last_written -= 61  # as if a second had passed
    summaries.write(1, epoch_results(1))
    assert summaries.waiting_epochs == []  # both epochs handed over
    summaries.train.flush()
    assert [step for step, _, _ in events(tmp_path / "train")["epoch_loss"]] == [0, 1]
    summaries.close()
