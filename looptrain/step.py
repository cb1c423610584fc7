"""The train step and the eval step: the math on one batch, and nothing else.

This is what `Model.fit` hides. The train step runs the model with dropout on, computes the data loss
(binary cross-entropy on logits) and the regularization loss (the penalties the layers collect in
`model.losses`), adds them, and lets Adam apply the gradients of the sum. The eval step runs the model
with dropout off. Both update the epoch's running metrics; the loop reads and resets those once per
epoch, so no step waits for the host. What is not here: datasets, epochs, files, the console.
"""

from dataclasses import dataclass

import keras
import tensorflow as tf


def regularization_loss(model: keras.Model) -> tf.Tensor:
    """The sum of the model's penalties, or 0 for a model without any (`tf.add_n([])` would raise)."""
    penalties = model.losses  # a property: Keras computes the penalties anew on every read
    return tf.add_n(penalties) if penalties else tf.constant(0.0)


def make_metrics() -> dict[str, keras.metrics.Metric]:
    """The running means the loop reports each epoch, keyed by their names in the history."""
    return {
        "loss": keras.metrics.Mean(),  # the total: what the gradients are taken of
        "binary_crossentropy": keras.metrics.BinaryCrossentropy(from_logits=True),
        "regularization_loss": keras.metrics.Mean(),
        # The tutorial's `metrics=['accuracy']` thresholds at 0.5, which on logits is wrong:
        # a logit of 0 is a probability of 0.5, so the threshold on logits is 0.
        "accuracy": keras.metrics.BinaryAccuracy(threshold=0.0),
        "val_binary_crossentropy": keras.metrics.BinaryCrossentropy(from_logits=True),
        "val_accuracy": keras.metrics.BinaryAccuracy(threshold=0.0),
    }


@dataclass
class Steps:
    train: callable  # (features, labels) -> (data_loss, regularization_loss)
    evaluate: callable  # (features, labels) -> logits


def make_steps(model: keras.Model, optimizer: keras.optimizers.Optimizer, metrics: dict) -> Steps:
    """Build this model's steps. Each model needs its own: a `tf.function` that created an
    optimizer's variables on its first call cannot be reused for another model or optimizer."""
    data_loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def train_step(features, labels):
        with tf.GradientTape() as tape:
            logits = model(features, training=True)  # training=True: dropout on
            data_loss = data_loss_fn(labels, logits)
            # Inside the tape, so that the penalties' dependence on the weights is recorded.
            regularization = regularization_loss(model)
            loss = data_loss + regularization
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

        metrics["loss"].update_state(loss)
        metrics["binary_crossentropy"].update_state(labels, logits)
        metrics["regularization_loss"].update_state(regularization)
        metrics["accuracy"].update_state(labels, logits)
        return data_loss, regularization

    def eval_step(features, labels):
        logits = model(features, training=False)  # training=False: dropout off, the model as deployed
        metrics["val_binary_crossentropy"].update_state(labels, logits)
        metrics["val_accuracy"].update_state(labels, logits)
        return logits

    # The one place where Python becomes a graph. `tf.config.run_functions_eagerly(True)` turns
    # both back into plain Python, for a debugger.
    return Steps(train=tf.function(train_step), evaluate=tf.function(eval_step))
