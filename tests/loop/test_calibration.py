"""The test rows' numbers: the exact AUC against every pair counted with numpy, Keras's AUC metric
against it, the calibration error worked by hand, and temperature scaling, which must leave accuracy
and AUC exactly as they were while it lowers an overconfident model's cross-entropy."""

import keras
import numpy as np
import pytest

from looptrain.loop import calibration
from looptrain.loop.step import AUC_THRESHOLDS, make_metrics


def pairwise_auc(labels, scores) -> float:
    """The AUC by its definition: over every (signal, background) pair, 1 if the signal row scores
    higher, 1/2 for a tie, 0 otherwise; the mean. Every pair is formed, so this is slow but plain."""
    signal, background = scores[labels == 1], scores[labels == 0]
    higher = signal[:, None] > background[None, :]
    tied = signal[:, None] == background[None, :]
    return float((higher + 0.5 * tied).mean())


def model_outputs(n: int, scale: float, seed: int = 0):
    """Labels, and logits that separate them about as well as the tutorial's models, times `scale`:
    1 for a model about as confident as it should be, larger for an overfit one's saturated logits."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.53).astype(np.float64)
    logits = scale * (rng.normal(size=n) + 0.7 * (2 * labels - 1))
    return labels, logits


def test_the_exact_auc_is_every_pair_counted_ties_included():
    labels = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    # By hand: signal scores 0.9, 0.4, 0.4, 0.1; background 0.4, 0.3, 0.1, 0.0. The pairs the signal
    # row wins: 0.9 beats all 4; each 0.4 beats 0.3, 0.1, 0.0 and ties 0.4 (3.5 each); 0.1 beats 0.0
    # and ties 0.1 (1.5). (4 + 3.5 + 3.5 + 1.5) / 16 = 12.5 / 16.
    scores = np.array([0.9, 0.4, 0.4, 0.3, 0.4, 0.1, 0.1, 0.0])
    assert calibration.exact_auc(labels, scores) == 12.5 / 16 == pairwise_auc(labels, scores)
    for seed in range(3):  # and on many rows, with ties from rounding
        labels, logits = model_outputs(2_000, 1.0, seed)
        rounded = np.round(logits, 1)
        assert calibration.exact_auc(labels, rounded) == pytest.approx(pairwise_auc(labels, rounded), abs=1e-12)


def test_keras_auc_metric_is_within_its_stated_error_of_the_exact_value():
    # What docs/results.md states: on logits spread as a well-fitted model's, Keras's AUC with
    # AUC_THRESHOLDS buckets is within 2e-4 of the exact value; on an overconfident model's, whose
    # probabilities pile up in the end buckets, it falls short by hundredths. One batch or several
    # updates count the same.
    for scale, bound in [(1.0, 2e-4), (3.0, 2e-4)]:
        labels, logits = model_outputs(1_000, scale)
        metric = make_metrics(from_logits=True)["val_auc"]
        for start in range(0, 1_000, 500):  # two validation batches, as an epoch updates it
            metric.update_state(labels[start:start + 500, None], logits[start:start + 500, None].astype("float32"))
        assert abs(float(metric.result()) - pairwise_auc(labels, logits)) < bound, scale
    labels, logits = model_outputs(1_000, 30.0)
    metric = keras.metrics.AUC(num_thresholds=AUC_THRESHOLDS, from_logits=True)
    metric.update_state(labels[:, None], logits[:, None].astype("float32"))
    assert pairwise_auc(labels, logits) - float(metric.result()) > 0.01


def test_the_metric_reads_probabilities_for_a_model_that_ends_in_a_sigmoid():
    labels, logits = model_outputs(1_000, 1.0)
    metric = make_metrics(from_logits=False)["val_auc"]
    metric.update_state(labels[:, None], (1 / (1 + np.exp(-logits)))[:, None].astype("float32"))
    assert float(metric.result()) == pytest.approx(pairwise_auc(labels, logits), abs=2e-4)


def test_the_cross_entropy_and_accuracy_are_keras_own():
    labels, logits = model_outputs(500, 3.0)
    scores = calibration.scores(labels, logits)
    bce = keras.metrics.BinaryCrossentropy(from_logits=True)
    bce.update_state(labels[:, None], logits[:, None])
    accuracy = keras.metrics.BinaryAccuracy(threshold=0.0)
    accuracy.update_state(labels[:, None], logits[:, None])
    assert scores["binary_crossentropy"] == pytest.approx(float(bce.result()), rel=1e-5)
    assert scores["accuracy"] == pytest.approx(float(accuracy.result()))
    row_losses = calibration.cross_entropies(labels, logits)
    assert scores["binary_crossentropy_se"] == pytest.approx(row_losses.std(ddof=1) / np.sqrt(500))
    # A model of probabilities: its outputs become logits first, clipped as Keras's loss clips them.
    probabilities = np.array([0.0, 0.2, 0.7, 1.0])
    on_probabilities = keras.metrics.BinaryCrossentropy(from_logits=False)
    on_probabilities.update_state([[0.0], [1.0], [1.0], [0.0]], probabilities[:, None])
    mine = calibration.cross_entropies(np.array([0, 1, 1, 0]), calibration.as_logits(probabilities, False)).mean()
    assert mine == pytest.approx(float(on_probabilities.result()), rel=1e-5)


def test_the_expected_calibration_error_by_hand():
    # Ten bins of the predicted probability. Rows: 0.05 (background) falls in bin 0; 0.15 and 0.18
    # (one signal) in bin 1; 0.95, 0.95, 0.95, 0.99 (three signal) in bin 9.
    probabilities = np.array([0.05, 0.15, 0.18, 0.95, 0.95, 0.95, 0.99])
    labels = np.array([0, 1, 0, 1, 1, 0, 1])
    diagram = calibration.reliability(labels, probabilities)
    assert diagram["counts"] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 4]
    # Bin 0: mean probability 0.05, signal share 0 → gap 0.05, 1 row.
    # Bin 1: mean 0.165, share 0.5 → gap 0.335, 2 rows.
    # Bin 9: mean (0.95 × 3 + 0.99) / 4 = 0.96, share 0.75 → gap 0.21, 4 rows.
    # ECE = (1 × 0.05 + 2 × 0.335 + 4 × 0.21) / 7 = 1.56 / 7.
    assert diagram["mean_probability"][1] == pytest.approx(0.165) and diagram["signal_share"][9] == 0.75
    assert diagram["mean_probability"][2] is None  # an empty bin has no mean
    assert calibration.expected_calibration_error(labels, probabilities) == pytest.approx(1.56 / 7)
    assert calibration.reliability([1], np.array([1.0]))["counts"][9] == 1  # a probability of 1: the last bin


def test_temperature_scaling_keeps_accuracy_and_auc_and_lowers_an_overconfident_models_cross_entropy():
    # An overconfident model: the labels are drawn from σ(z), and the model says σ(5z).
    rng = np.random.default_rng(1)
    true_logits = rng.normal(size=20_000) * 1.5
    labels = (rng.random(20_000) < 1 / (1 + np.exp(-true_logits))).astype(np.float64)
    logits = 5 * true_logits
    validation, test = slice(0, 4_000), slice(4_000, None)

    temperature = calibration.fit_temperature(labels[validation], logits[validation])
    assert temperature == pytest.approx(5, rel=0.1)  # it finds the factor the model is overconfident by
    # A minimum: the validation cross-entropy is higher a step either side of it.
    at = lambda t: calibration.cross_entropies(labels[validation], logits[validation] / t).mean()  # noqa: E731
    assert at(temperature) < min(at(temperature * 1.01), at(temperature / 1.01))

    scored = calibration.calibrated_scores(labels[test], logits[test], labels[validation], logits[validation])
    scaled = calibration.scores(labels[test], logits[test] / temperature)
    assert scaled["accuracy"] == scored["accuracy"] and scaled["auc"] == scored["auc"]  # exactly
    assert scored["scaled_binary_crossentropy"] < 0.75 * scored["binary_crossentropy"]
    assert scored["scaled_ece"] < scored["ece"] / 3
    assert scored["temperature"] == temperature


def test_a_calibrated_model_keeps_a_temperature_near_one():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=20_000) * 2
    labels = (rng.random(20_000) < 1 / (1 + np.exp(-logits))).astype(np.float64)
    assert calibration.fit_temperature(labels, logits) == pytest.approx(1, abs=0.05)
