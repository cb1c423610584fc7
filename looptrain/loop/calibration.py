"""What a set of outputs earns on labelled rows, and how far its probabilities can be trusted: numpy only.

The numbers: the cross-entropy (with its standard error over the rows), the accuracy, and the area
under the ROC curve, exact (`exact_auc`, from the ranks; Keras's metric approximates it with
thresholds). Then calibration: a model is calibrated when, of the rows it gives a probability near p,
a share near p are signal. `reliability` puts the rows in BINS equal bins of the predicted
probability and compares, bin by bin, the mean probability with the share of signal rows: the
reliability diagram. The expected calibration error is their mean gap, weighted by the rows in each
bin. Temperature scaling divides every logit by one number T, fitted on the validation rows to
minimize their cross-entropy (`fit_temperature`): T > 1 pulls overconfident probabilities back
towards 1/2. Dividing by a positive number keeps every logit's sign and the rows' order, so accuracy
and AUC stay exactly as they were; only the probabilities change. Everything works on logits; a
model's probabilities become logits first (`as_logits`). Not here: running the model
(`looptrain.loop.evaluate`) and drawing the diagram (`looptrain.results.reliability`).
"""

import numpy as np

# Keras's `epsilon`: its cross-entropy on probabilities clips them to [EPSILON, 1 − EPSILON] first.
EPSILON = 1e-7
BINS = 10  # the reliability diagram's bins: 0–0.1, 0.1–0.2, ..., 0.9–1 of the predicted probability


def as_logits(outputs, from_logits: bool) -> np.ndarray:
    """The outputs as float64 logits: as they are, or the log-odds of probabilities clipped as Keras's
    cross-entropy clips them, so that both give that cross-entropy."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(-1)
    if from_logits:
        return outputs
    probabilities = np.clip(outputs, EPSILON, 1 - EPSILON)
    return np.log(probabilities) - np.log1p(-probabilities)


def probabilities_of(logits: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-logits))


def cross_entropies(labels, logits: np.ndarray) -> np.ndarray:
    """Each row's binary cross-entropy: log(1 + e^z) − y·z, which is −log σ(z) for a signal row and
    −log(1 − σ(z)) for a background one, without overflow for a large |z|."""
    return np.logaddexp(0.0, logits) - np.asarray(labels, dtype=np.float64).reshape(-1) * logits


def exact_auc(labels, scores) -> float:
    """The probability that a random signal row scores above a random background one, a tie counting
    one half: the Mann–Whitney statistic, from the ranks of all the scores (tied scores share their
    mean rank), divided by the number of pairs."""
    labels = np.asarray(labels).reshape(-1) == 1
    values, position, counts = np.unique(np.asarray(scores).reshape(-1), return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2  # ranks start at 1; a tie's ranks are consecutive
    ranks = mean_rank[position]
    n_signal, n_background = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - n_signal * (n_signal + 1) / 2) / (n_signal * n_background))


def reliability(labels, probabilities, bins: int = BINS) -> dict[str, list]:
    """The reliability diagram's numbers, bin by bin of the predicted probability: how many rows fall
    in it, their mean probability and the share of them that are signal (None for an empty bin)."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    index = np.minimum((probabilities * bins).astype(int), bins - 1)  # a probability of 1 goes in the last
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_probability = np.bincount(index, weights=probabilities, minlength=bins) / counts
        signal_share = np.bincount(index, weights=labels, minlength=bins) / counts
    return {"counts": counts.tolist(), "mean_probability": [None if count == 0 else float(value) for count, value
                                                             in zip(counts, mean_probability)],
            "signal_share": [None if count == 0 else float(value) for count, value in zip(counts, signal_share)]}


def expected_calibration_error(labels, probabilities, bins: int = BINS) -> float:
    """The gap between mean probability and share of signal rows, averaged over the bins weighted by
    their rows: 0 for a model whose probabilities mean what they say."""
    diagram = reliability(labels, probabilities, bins)
    counts = np.asarray(diagram["counts"])
    filled = counts > 0
    gaps = np.abs(np.asarray(diagram["mean_probability"], dtype=float)
                  - np.asarray(diagram["signal_share"], dtype=float))
    return float(np.sum(counts[filled] * gaps[filled]) / counts.sum())


def fit_temperature(labels, logits: np.ndarray, iterations: int = 100) -> float:
    """The T > 0 that minimizes the mean cross-entropy of σ(z / T) on these rows. In a = 1/T it is a
    logistic regression with one weight and no bias, whose cross-entropy is convex in a: Newton's
    method from a = 1 (no scaling), each step halved until the cross-entropy falls and a stays
    positive, ends at the minimum in a few steps."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)

    def mean_cross_entropy(a):
        return cross_entropies(labels, a * logits).mean()

    a = 1.0
    for _ in range(iterations):
        probabilities = probabilities_of(a * logits)
        slope = np.mean((probabilities - labels) * logits)
        curvature = np.mean(probabilities * (1 - probabilities) * logits ** 2)
        if curvature <= 0:  # every logit 0, or saturated beyond float64: nothing left to fit
            break
        step = slope / curvature
        while (a - step <= 0 or mean_cross_entropy(a - step) > mean_cross_entropy(a)) and abs(step) > 1e-12 * a:
            step /= 2
        a -= step
        if abs(step) <= 1e-10 * a:
            break
    return 1 / a


def scores(labels, logits: np.ndarray, bins: int = BINS) -> dict:
    """Cross-entropy (and its standard error, the rows' sd over √n), accuracy (a logit above 0 says
    signal), exact AUC, and the expected calibration error with its reliability bins."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    row_losses = cross_entropies(labels, logits)
    probabilities = probabilities_of(logits)
    return {
        "binary_crossentropy": float(row_losses.mean()),
        "binary_crossentropy_se": float(row_losses.std(ddof=1) / np.sqrt(len(row_losses))),
        "accuracy": float(np.mean((logits > 0) == (labels == 1))),
        "auc": exact_auc(labels, logits),
        "ece": expected_calibration_error(labels, probabilities, bins),
        "reliability": reliability(labels, probabilities, bins),
    }


def calibrated_scores(test_labels, test_logits: np.ndarray, validation_labels, validation_logits: np.ndarray) -> dict:
    """The test rows' `scores` before temperature scaling, T fitted on the validation rows, and the test
    rows' cross-entropy, calibration error and reliability bins after it. The validation rows' exact
    AUC comes along, to compare with what Keras's metric reported for them."""
    temperature = fit_temperature(validation_labels, validation_logits)
    scaled = scores(test_labels, test_logits / temperature)
    return {**scores(test_labels, test_logits), "temperature": temperature,
            "scaled_binary_crossentropy": scaled["binary_crossentropy"], "scaled_ece": scaled["ece"],
            "scaled_reliability": scaled["reliability"],
            "validation_auc": exact_auc(validation_labels, validation_logits)}
