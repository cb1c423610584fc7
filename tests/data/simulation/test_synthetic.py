"""Tests of the synthetic HIGGS generator: determinism, layout, physics, and likeness to real rows.

Likeness is measured against the real sample (skipped where it is absent) four ways, each computed
here with numpy from the rows alone: every feature's distribution (the two-sample Kolmogorov-Smirnov
statistic), every pairwise correlation, the azimuthal correlations of the leading objects, and a
classifier two-sample test (a small network trained to tell real rows from synthetic ones; its AUC on
held-out rows is 0.5 when it cannot). The physics tests recompute masses from the rows' own momenta,
on synthetic and real rows alike. Only the classifier test imports Keras (and so TensorFlow); it
takes some twenty seconds, the rest of the file a few.
"""

import gzip
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from looptrain.data import columns
from looptrain.data.simulation import reconstruction, synthetic

COLUMN = {name: index for index, name in enumerate(columns.COLUMNS)}
ANGLES = [name for name in columns.COLUMNS if name.endswith("_phi")]


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """The largest gap between the two samples' empirical CDFs, over every value either sample takes."""
    first, second = np.sort(first), np.sort(second)
    values = np.concatenate([first, second])
    # side="right" counts ties as at-or-below, so both CDFs are evaluated the same way at shared values.
    first_cdf = np.searchsorted(first, values, side="right") / len(first)
    second_cdf = np.searchsorted(second, values, side="right") / len(second)
    return float(np.max(np.abs(first_cdf - second_cdf)))


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The area under the ROC curve, as the chance that a random positive outscores a random negative
    (ties count half): the Mann-Whitney U statistic from average ranks."""
    values, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # The average rank (1-based) of each distinct score: its tied run starts after all smaller scores.
    average_rank = np.cumsum(counts) - (counts - 1) / 2
    positive = labels == 1
    n_positive, n_negative = positive.sum(), (~positive).sum()
    rank_sum = average_rank[inverse][positive].sum()
    return float((rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def read_csv_gz(path) -> np.ndarray:
    with gzip.open(path, "rt") as text:
        return np.loadtxt(text, delimiter=",", ndmin=2)


def in_gev(rows: np.ndarray, name: str) -> np.ndarray:
    """An object's pT (GeV), η and φ (radians) from scaled rows: the UCI scales undone."""
    pt_columns = ("lepton", "missing_energy", "jet1", "jet2", "jet3", "jet4")
    pt_column = COLUMN[name if name == "missing_energy" else name + "_pt"]
    pt = rows[:, pt_column] * reconstruction.PT_UNITS[pt_columns.index(name)]
    eta = np.zeros(len(rows)) if name == "missing_energy" else (
        rows[:, COLUMN[name + "_eta"]] * reconstruction.ETA_UNITS[pt_columns.index(name) - (name != "lepton")])
    return pt, eta, rows[:, COLUMN[name + "_phi"]] * np.pi / columns.PHI_MAX


def test_ks_statistic_matches_hand_worked_cases():
    # CDFs of [1, 2, 3] and [2.5, 4] at 1, 2, 2.5, 3, 4: (1/3, 0), (2/3, 0), (2/3, 1/2), (1, 1/2), (1, 1).
    # The largest gap is at 2: 2/3.
    assert ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0])) == pytest.approx(2 / 3)
    # With ties: CDFs of [0, 0, 1] and [0, 1, 1] are (2/3, 1/3) at 0 and (1, 1) at 1, so 1/3.
    assert ks_statistic(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])) == pytest.approx(1 / 3)
    assert ks_statistic(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == 0.0
    assert ks_statistic(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0


def test_auc_matches_hand_worked_cases():
    # Positives score 0.35 and 0.8, negatives 0.1 and 0.4: of the four (positive, negative) pairs,
    # the positive wins three (0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4), so 3/4.
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    # A tie counts half: one positive at 0.5, negatives at 0.5 and 0.2: (1/2 + 1) / 2.
    assert auc(np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0])) == pytest.approx(0.75)
    assert auc(np.array([1.0, 2.0, 3.0]), np.array([0, 1, 1])) == 1.0


def test_rows_have_the_higgs_layout():
    rows = synthetic.generate(5_000, seed=0)
    assert rows.shape == (5_000, 29)
    assert len(columns.COLUMNS) == 29 and columns.COLUMNS[0] == "label"
    assert set(np.unique(rows[:, 0])) == {0.0, 1.0}
    assert 0.49 < rows[:, 0].mean() < 0.57  # 0.53 signal, within sampling noise of 5,000 rows
    assert np.isfinite(rows).all()
    positive = [index for index, name in enumerate(columns.COLUMNS)
                if name.endswith("_pt") or name == "missing_energy" or name.startswith("m_")]
    assert len(positive) == 13 and (rows[:, positive] > 0).all()
    for jet, levels in enumerate(reconstruction.BTAG_LEVELS, start=1):
        assert set(np.unique(rows[:, COLUMN[f"jet{jet}_btag"]])) == {0.0, *levels}
    # η within the acceptance (the lepton's and the jets' bounds, in the UCI scale of each column).
    assert np.abs(rows[:, COLUMN["lepton_eta"]]).max() < synthetic.LEPTON_ETA_MAX / reconstruction.ETA_UNITS[0]
    for jet in range(1, 5):
        assert np.abs(rows[:, COLUMN[f"jet{jet}_eta"]]).max() < synthetic.JET_ETA_MAX / reconstruction.ETA_UNITS[jet]
    angles = [COLUMN[name] for name in ANGLES]
    assert len(angles) == 6 and np.abs(rows[:, angles]).max() <= columns.PHI_MAX
    assert synthetic.generate(0, seed=0).shape == (0, 29)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        synthetic.generate(-1, seed=0)
    with pytest.raises(ValueError, match="non-negative"):
        list(synthetic.chunks(10, seed=-1))


def test_same_seed_gives_the_same_rows_and_different_seeds_different_rows():
    np.testing.assert_array_equal(synthetic.generate(1_000, seed=3), synthetic.generate(1_000, seed=3))
    first, second = synthetic.generate(1_000, seed=0), synthetic.generate(1_000, seed=1)
    assert not np.any(np.all(first == second, axis=1))
    assert not np.array_equal(first[:, 0], second[:, 0])


def test_first_rows_do_not_depend_on_the_row_count():
    # 25,000 rows cross two chunk boundaries; 12,345 stop in the middle of the second chunk.
    np.testing.assert_array_equal(synthetic.generate(25_000, seed=5)[:12_345], synthetic.generate(12_345, seed=5))


def test_the_b_tag_levels_are_those_the_real_rows_take(higgs_sample):
    real = read_csv_gz(higgs_sample)
    for jet, levels in enumerate(reconstruction.BTAG_LEVELS, start=1):
        np.testing.assert_allclose(np.unique(real[:, COLUMN[f"jet{jet}_btag"]]), [0.0, *levels], rtol=1e-8)


def b_pair_mass_agrees(rows: np.ndarray) -> np.ndarray:
    """For the rows that list exactly two b-tagged jets, whether m_bb is their invariant mass as
    massless jets, m² = 2 pT pT' (cosh Δη - cos Δφ), to half a percent: the UCI scales, read off the
    real sample, undo its scaling to about that."""
    pt, eta, phi = (np.stack(parts, axis=1) for parts in zip(*(in_gev(rows, f"jet{jet}") for jet in range(1, 5))))
    tagged = np.stack([rows[:, COLUMN[f"jet{jet}_btag"]] > 0 for jet in range(1, 5)], axis=1)
    two = tagged.sum(axis=1) == 2
    first, second = np.argsort(~tagged[two], axis=1, kind="stable")[:, :2].T
    pt, eta, phi, rows = pt[two], eta[two], phi[two], rows[two]
    r = np.arange(len(rows))
    squared = 2 * pt[r, first] * pt[r, second] * (np.cosh(eta[r, first] - eta[r, second])
                                                  - np.cos(phi[r, first] - phi[r, second]))
    return np.abs(np.sqrt(squared) / (rows[:, COLUMN["m_bb"]] * reconstruction.MASS_UNITS[4]) - 1) < 5e-3


@pytest.mark.parametrize("source", ["synthetic", "real"])
def test_m_bb_is_the_mass_of_the_two_b_tagged_jets(source, request):
    # On real rows too: the rule, and the UCI scales the generator uses, are those of HIGGS itself.
    if source == "real":
        rows = read_csv_gz(request.getfixturevalue("higgs_sample"))
    else:
        rows = synthetic.generate(11_000, seed=0)
    agrees = b_pair_mass_agrees(rows)
    assert len(agrees) > 0.7 * len(rows) and agrees.mean() > 0.99


def test_m_lv_is_the_transverse_mass_where_the_w_mass_cannot_be_met(higgs_sample):
    # With mT(lepton, neutrino) above the W mass no neutrino pz gives m_lv = m_W; HIGGS then gives
    # the neutrino the lepton's η, which makes m_lv = mT exactly. Below, m_lv sits at the W mass.
    for rows in (synthetic.generate(11_000, seed=0), read_csv_gz(higgs_sample)):
        lepton_pt, _, lepton_phi = in_gev(rows, "lepton")
        met, _, met_phi = in_gev(rows, "missing_energy")
        transverse = np.sqrt(2 * lepton_pt * met * (1 - np.cos(lepton_phi - met_phi)))
        m_lv = rows[:, COLUMN["m_lv"]] * reconstruction.MASS_UNITS[2]
        above, below = transverse > 1.01 * reconstruction.W_MASS, transverse < 0.9 * reconstruction.W_MASS
        assert above.mean() > 0.1 and np.abs(m_lv[above] / transverse[above] - 1).max() < 5e-3
        assert np.abs(np.median(m_lv[below]) - reconstruction.W_MASS) < 0.2 and np.percentile(m_lv[below], 90) < 82


@pytest.mark.parametrize("n_rows", [11_000, 1_000_000])  # the tutorial's file, and a learning curve's largest
def test_every_feature_is_distributed_like_the_real_sample(higgs_sample, n_rows):
    real = read_csv_gz(higgs_sample)
    fake = synthetic.generate(n_rows, seed=0)
    statistics = {name: ks_statistic(real[:, column], fake[:, column])
                  for column, name in enumerate(columns.COLUMNS) if column > 0}
    worst = max(statistics, key=statistics.get)
    assert statistics[worst] <= 0.1, f"{worst}: KS statistic {statistics[worst]:.3f}"


def test_every_pairwise_correlation_is_within_0_1_of_the_real_one(higgs_sample):
    # 50,000 synthetic rows: the sampling noise of 406 correlations of 11,000 rows each would by
    # itself reach some 0.04 at its largest, of a margin of 0.1.
    real, fake = read_csv_gz(higgs_sample), synthetic.generate(50_000, seed=0)
    gap = np.abs(np.corrcoef(real, rowvar=False) - np.corrcoef(fake, rowvar=False))  # the label's row too
    first, second = np.unravel_index(np.argmax(gap), gap.shape)
    assert gap.max() <= 0.1, f"{columns.COLUMNS[first]} with {columns.COLUMNS[second]}: {gap.max():.3f}"


def test_the_leading_objects_azimuthal_correlations_are_the_real_ones(higgs_sample):
    # The mean cos Δφ of each pair among lepton, missing energy, jet 1 and jet 2: 0 for independent
    # angles, -1 for back to back. Real jets 1 and 2 sit at about -0.34.
    real, fake = read_csv_gz(higgs_sample), synthetic.generate(50_000, seed=0)
    objects = ["lepton_phi", "missing_energy_phi", "jet1_phi", "jet2_phi"]
    for first, name in enumerate(objects):
        for other in objects[first + 1:]:
            means = [np.mean(np.cos((rows[:, COLUMN[name]] - rows[:, COLUMN[other]]) * np.pi / columns.PHI_MAX))
                     for rows in (real, fake)]
            assert abs(means[0] - means[1]) <= 0.05, f"{name}, {other}: real {means[0]:.3f}, synthetic {means[1]:.3f}"


def classifier_auc(real: np.ndarray, other: np.ndarray, seed: int = 0, widths=(64, 64), epochs: int = 30) -> float:
    """The held-out AUC of a network trained to tell `real` rows from as many `other` rows, label
    column included: the classifier two-sample test. 0.5 means it cannot tell them apart."""
    import keras  # here, not at the top: the rest of this file runs without TensorFlow

    n = min(len(real), len(other))
    rows = np.concatenate([real[:n], other[:n]])
    is_real = np.repeat([1.0, 0.0], n)
    order = np.random.default_rng(seed).permutation(2 * n)
    rows, is_real = rows[order], is_real[order]
    train = int(0.7 * len(rows))
    mean, spread = rows[:train].mean(axis=0), rows[:train].std(axis=0)
    rows = (rows - mean) / spread
    keras.utils.set_random_seed(seed)
    hidden = [keras.layers.Dense(width, activation="relu") for width in widths]
    model = keras.Sequential([keras.Input((rows.shape[1],)), *hidden, keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(rows[:train], is_real[:train], batch_size=256, epochs=epochs, verbose=0)
    return auc(model.predict(rows[train:], batch_size=4096, verbose=0)[:, 0], is_real[train:])


def logistic_cross_entropy(train: np.ndarray, test: np.ndarray, iterations: int = 25) -> float:
    """Logistic regression of the label on the 28 standardized features, fitted to `train` by
    Newton's method (a whisker of L2 keeps the Hessian invertible): the mean cross-entropy on `test`."""
    mean, spread = train[:, 1:].mean(axis=0), train[:, 1:].std(axis=0)

    def design(rows):
        return np.column_stack([np.ones(len(rows)), (rows[:, 1:] - mean) / spread])

    x, y, weights = design(train), train[:, 0], np.zeros(train.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-x @ weights))
        hessian = (x * (p * (1 - p))[:, None]).T @ x / len(y) + 1e-4 * np.eye(len(weights))
        weights -= np.linalg.solve(hessian, x.T @ (p - y) / len(y) + 1e-4 * weights)
    p = np.clip(1 / (1 + np.exp(-design(test) @ weights)), 1e-12, 1 - 1e-12)
    return float(-np.mean(test[:, 0] * np.log(p) + (1 - test[:, 0]) * np.log(1 - p)))


def cross_validated_cross_entropy(rows: np.ndarray, folds: int = 5) -> float:
    fold = np.arange(len(rows)) % folds
    return float(np.mean([logistic_cross_entropy(rows[fold != k], rows[fold == k]) for k in range(folds)]))


def test_logistic_regression_reaches_the_true_posteriors_cross_entropy():
    # Half the rows signal; feature 1 is normal with mean +1 for signal and -1 for background, the
    # other 27 pure noise. Then P(signal | x) = 1 / (1 + exp(-2 x₁)) exactly, a logistic model, so
    # the fit must score on fresh rows what those true probabilities score; with no informative
    # feature at all, what a coin scores, log 2.
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 20_000).astype(float)
    rows = np.column_stack([label, rng.standard_normal((20_000, 28))])
    rows[:, 1] += 2 * label - 1
    truth = 1 / (1 + np.exp(-2 * rows[10_000:, 1]))
    best = -np.mean(label[10_000:] * np.log(truth) + (1 - label[10_000:]) * np.log(1 - truth))
    assert logistic_cross_entropy(rows[:10_000], rows[10_000:]) == pytest.approx(best, abs=0.005)
    rows[:, 1] = rng.standard_normal(20_000)
    assert logistic_cross_entropy(rows[:10_000], rows[10_000:]) == pytest.approx(np.log(2), abs=0.01)


def test_the_label_is_as_hard_to_find_as_in_the_real_rows(higgs_sample):
    # Logistic regression on all 28 features, cross-validated on each set: the signal is about as easy
    # to find in synthetic rows as in real ones (a constant guess at 53% signal scores 0.691).
    real, fake = read_csv_gz(higgs_sample), synthetic.generate(11_000, seed=0)
    real_loss, fake_loss = cross_validated_cross_entropy(real), cross_validated_cross_entropy(fake)
    assert real_loss < 0.66 and abs(fake_loss - real_loss) < 0.02, f"real {real_loss:.4f}, synthetic {fake_loss:.4f}"


def test_a_classifier_can_hardly_tell_synthetic_rows_from_real_ones(higgs_sample):
    real, fake = read_csv_gz(higgs_sample), synthetic.generate(11_000, seed=0)
    # The same test can fail: with every column shuffled on its own, the synthetic rows keep each
    # feature's distribution but lose how the features of one event hang together, and it shows.
    shuffled = np.column_stack([np.random.default_rng(column).permutation(fake[:, column]) for column in range(29)])
    assert classifier_auc(real, shuffled) > 0.8
    assert classifier_auc(real, fake) <= 0.65


def test_the_generator_does_not_import_tensorflow():
    # A fresh interpreter, because this test session may already have imported TensorFlow elsewhere.
    probe = "import sys, looptrain.data.simulation.synthetic; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
