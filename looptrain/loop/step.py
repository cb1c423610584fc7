"""The train step and the eval step: the math on one batch, and nothing else.

This is what `Model.fit` hides. The train step runs the model with dropout on, adds the data loss
(binary cross-entropy, on logits or on a sigmoid's probabilities) to the regularization loss (the
penalties the layers collect in `model.losses`) and lets Adam apply the gradients of the sum. The
eval step runs the model with dropout off, as does the measure step over label noise's clean and
flipped training rows. Each updates the epoch's running metrics, which the loop reads and resets once
per epoch, so no step waits for the host. Under a `tf.distribute` strategy each replica runs the same
train step on its part of the batch, its losses scaled so that the gradients add up to the global
batch's (`looptrain.loop.distribute`). Under `mixed_float16` the gradients are of the loss times the
loss scale, which the optimizer divides out; it also clips, accumulates, averages. Not here: datasets.
"""

from collections.abc import Callable
from dataclasses import dataclass

import keras
import tensorflow as tf

from looptrain.loop.distribute import on_every_replica

# Keras's AUC counts the rows in this many evenly spaced buckets of the probability and integrates
# the ROC curve over them: an approximation, close to the exact value while the probabilities spread
# over the buckets, and cheap however many rows (docs/results.md, "The test rows", has its error).
AUC_THRESHOLDS = 1_000


def regularization_loss(model: keras.Model) -> tf.Tensor:
    """The sum of the model's penalties, or 0 for a model without any (`tf.add_n([])` would raise)."""
    penalties = model.losses  # a property: Keras computes the penalties anew on every read
    return tf.add_n(penalties) if penalties else tf.constant(0.0)


def make_metrics(from_logits: bool = True) -> dict[str, keras.metrics.Metric]:
    """The running means the loop reports each epoch, keyed by their names in the history; for a model
    that outputs logits, or (`from_logits=False`) probabilities."""
    # The tutorial's `metrics=['accuracy']` thresholds at 0.5: right for probabilities, wrong for
    # logits. A logit of 0 is a probability of 0.5, so the threshold on logits is 0.
    threshold = 0.0 if from_logits else 0.5
    return {
        "loss": keras.metrics.Mean(),  # the total: what the gradients are taken of
        "binary_crossentropy": keras.metrics.BinaryCrossentropy(from_logits=from_logits),
        "regularization_loss": keras.metrics.Mean(),
        "accuracy": keras.metrics.BinaryAccuracy(threshold=threshold),
        "val_binary_crossentropy": keras.metrics.BinaryCrossentropy(from_logits=from_logits),
        "val_accuracy": keras.metrics.BinaryAccuracy(threshold=threshold),
        # How well the outputs rank signal above background, whatever their scale: the HIGGS paper's number.
        "val_auc": keras.metrics.AUC(num_thresholds=AUC_THRESHOLDS, from_logits=from_logits),
    }


@dataclass
class Steps:
    train: Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]  # (features, labels) -> the two losses
    evaluate: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (features, labels) -> logits, or probabilities
    measure: Callable[[str, tf.Tensor, tf.Tensor], None]  # (part, features, labels): label noise's training rows


def make_steps(model: keras.Model, optimizer: keras.optimizers.Optimizer, metrics: dict,
               global_batch_size: int | None = None, strategy: tf.distribute.Strategy | None = None,
               from_logits: bool = True) -> Steps:
    """Build this model's steps. Each model needs its own: a `tf.function` that created an
    optimizer's variables on its first call cannot be reused for another model or optimizer.
    With a `strategy`, each replica runs them on its part of every global batch of `global_batch_size`
    rows (by default, the replica's batch times the number of replicas). `from_logits=False` for a
    model that ends in a sigmoid: what the steps call `logits` are then probabilities, and the loss
    takes them as such."""
    # One loss a row, for the strategy's arithmetic below.
    data_loss_fn = keras.losses.BinaryCrossentropy(from_logits=from_logits, reduction="none")

    def train_step(features, labels):
        with tf.GradientTape() as tape:
            logits = model(features, training=True)  # training=True: dropout on
            # Under a strategy every replica holds the whole model and part of the global batch, and
            # the optimizer *sums* the replicas' gradients. So each replica's loss is its share: its
            # rows' losses summed and divided by the global batch size, plus 1/replicas of the penalty,
            # which every replica computes whole. Without a strategy there is one replica and the
            # batch is the global batch: the first is the batch's mean, the second the penalty itself.
            data_loss = tf.nn.compute_average_loss(data_loss_fn(labels, logits), global_batch_size=global_batch_size)
            # Inside the tape, so that the penalties' dependence on the weights is recorded.
            penalty = regularization_loss(model)
            regularization = tf.nn.scale_regularization_loss(penalty)
            loss = data_loss + regularization
            scaled_loss = optimizer.scale_loss(loss)  # × the loss scale under mixed_float16, else the loss
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

        # A running mean adds up the values and the counts of every replica's updates: a share of the
        # total, times the number of replicas, averages to the total.
        metrics["loss"].update_state(loss * tf.distribute.get_strategy().num_replicas_in_sync)
        metrics["binary_crossentropy"].update_state(labels, logits)
        metrics["regularization_loss"].update_state(penalty)  # the penalty itself, not a replica's share
        metrics["accuracy"].update_state(labels, logits)
        return data_loss, regularization

    def eval_step(features, labels):
        logits = model(features, training=False)  # training=False: dropout off, the model as deployed
        metrics["val_binary_crossentropy"].update_state(labels, logits)
        metrics["val_accuracy"].update_state(labels, logits)
        metrics["val_auc"].update_state(labels, logits)
        return logits

    def measure_step(part, features, labels):
        # Training rows as the eval step sees its rows, against the labels they train on: a flipped
        # row the network calls by its flipped label is a row it has memorized.
        logits = model(features, training=False)
        metrics[f"{part}_binary_crossentropy"].update_state(labels, logits)
        metrics[f"{part}_accuracy"].update_state(labels, logits)

    if strategy is not None:
        train_step, eval_step = on_every_replica(strategy, train_step, eval_step)
    # Where the steps become graphs (`looptrain.loop.epoch` can make a whole epoch one graph around them).
    # `tf.config.run_functions_eagerly(True)` turns them back into plain Python, for a debugger.
    return Steps(train=tf.function(train_step), evaluate=tf.function(eval_step), measure=tf.function(measure_step))


def part_metrics(parts, from_logits: bool = True) -> dict[str, keras.metrics.Metric]:
    """Under label noise, a cross-entropy and an accuracy for each part of the training rows ("clean",
    "flipped"), which the measure step updates; none without."""
    metrics = {}
    for part in parts:
        metrics[f"{part}_binary_crossentropy"] = keras.metrics.BinaryCrossentropy(from_logits=from_logits)
        metrics[f"{part}_accuracy"] = keras.metrics.BinaryAccuracy(threshold=0.0 if from_logits else 0.5)
    return metrics
