"""Decoupled weight decay: AdamW's decay never enters the loss, yet shrinks every weight on every step.

The one-step check works Keras's Adam out by hand with numpy, from a gradient Keras computes apart
from the step, and adds the decay: w ← w − lr·wd·w − lr·√(1−β₂)/(1−β₁)·m/(√v + ε).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, made_up_rows, write_rows
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.loop.optimizer import make_optimizer
from looptrain.loop.step import make_metrics, make_steps
from looptrain.train import train
from test_step import batch

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras's Adam defaults


def test_adamw_leaves_the_loss_alone_and_shrinks_each_weight_by_rate_times_decay():
    experiment = load_experiment(REPO / "experiments" / "adamw.py")
    config = experiment.config
    keras.utils.set_random_seed(0)
    model = experiment.build_model()
    before = [weight.astype("float64") for weight in model.get_weights()]
    features, labels = batch()
    # The gradient of the data loss, by Keras, apart from the step.
    with tf.GradientTape() as tape:
        data_loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels, model(features, training=True))
    keras_gradients = [g.numpy() for g in tape.gradient(data_loss, model.trainable_variables)]

    optimizer = make_optimizer(config.learning_rate, decay_steps=20 * config.decay_epochs,
                               weight_decay=config.weight_decay)
    # Note the gradients the step hands to the optimizer. A gradient summed over a batch can cancel
    # to almost nothing, and then two computations of it agree only loosely; Adam divides by its size,
    # so the hand computation below starts from the very gradients the step applied.
    applied, apply_gradients = [], optimizer.apply_gradients

    def note_and_apply(pairs):
        applied.extend(pairs)
        return apply_gradients(applied)

    optimizer.apply_gradients = note_and_apply
    metrics = make_metrics()
    train_step = make_steps(model, optimizer, metrics).train.python_function  # eager: the gradients have values
    _, regularization = train_step(features, labels)
    gradients = [gradient.numpy().astype("float64") for gradient, _ in applied]

    assert model.losses == []  # nothing for the loss to add...
    assert float(regularization) == 0.0 and float(metrics["regularization_loss"].result()) == 0.0
    assert float(metrics["loss"].result()) == pytest.approx(float(data_loss), rel=1e-6)
    for gradient, keras_gradient in zip(gradients, keras_gradients):  # the data loss's gradient, nothing else
        np.testing.assert_allclose(gradient, keras_gradient, rtol=1e-4, atol=1e-6)
    # ...yet every weight moved by the Adam update and, besides it, by lr × wd × w.
    rate, decay = config.learning_rate, config.weight_decay  # the schedule's rate at step 0 is the first one
    for weight, gradient, after in zip(before, gradients, model.get_weights()):
        # atol: float32 holds a step of about 1e-3 to about 1e-10, which matters for weights near 0.
        np.testing.assert_allclose(after, weight - adam_step(rate, gradient) - rate * decay * weight,
                                   rtol=1e-6, atol=1e-9)
    # The decay is no rounding error: Adam alone would leave the first kernel far from where it is.
    adam_only = before[0] - adam_step(rate, gradients[0])
    assert np.abs(model.get_weights()[0] - adam_only).max() > 1e3 * 1e-6 * np.abs(before[0]).max()


def adam_step(rate, gradient):
    """Keras's first Adam step from zero moments, by hand. Keras adds ε to √v before the bias
    correction, and it raises β₁ and β₂ to the step's power in float32: float32(0.999) is 0.99900001,
    which puts 1 − β₂ off by 1.3e-5, a difference rtol 1e-6 sees."""
    m, v = (1 - BETA_1) * gradient, (1 - BETA_2) * gradient ** 2
    beta_1_power, beta_2_power = float(np.float32(BETA_1)), float(np.float32(BETA_2))  # at step 1
    return rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power) * m / (np.sqrt(v) + EPSILON)


def test_l2_puts_its_penalty_in_the_loss_and_adamw_does_not(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(300))
    shrunk = {"n_validation": 100, "n_train": 200, "batch_size": 100, "max_epochs": 1, "histogram_every": 0}
    histories = {}
    for name in ("l2", "adamw"):
        experiment = load_experiment(REPO / "experiments" / f"{name}.py", shrunk)
        histories[name] = train(experiment, data_path, tmp_path / name, DotsReporter()).epochs[0]
    l2, adamw = histories["l2"], histories["adamw"]
    assert l2["regularization_loss"] > 0.1 * l2["loss"]  # l2(0.001) on 800,000 weights
    assert l2["loss"] == pytest.approx(l2["binary_crossentropy"] + l2["regularization_loss"], rel=1e-5)
    assert adamw["regularization_loss"] == 0.0
    assert adamw["loss"] == pytest.approx(adamw["binary_crossentropy"], rel=1e-6)
    assert load_experiment(REPO / "experiments" / "l2.py").config.weight_decay == 0.0  # L2 trains with Adam
