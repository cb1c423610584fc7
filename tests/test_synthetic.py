"""Tests of the synthetic HIGGS generator: determinism, layout, the cache, and likeness to real rows.

The likeness test compares each feature's distribution with the real sample by the two-sample
Kolmogorov-Smirnov statistic, implemented here with numpy (and checked by hand) so scipy is not needed.
None of these tests imports TensorFlow; the whole file runs in a few seconds.
"""

import gzip
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from looptrain import synthetic


def ks_statistic(first: np.ndarray, second: np.ndarray) -> float:
    """The largest gap between the two samples' empirical CDFs, over every value either sample takes."""
    first, second = np.sort(first), np.sort(second)
    values = np.concatenate([first, second])
    # side="right" counts ties as at-or-below, so both CDFs are evaluated the same way at shared values.
    first_cdf = np.searchsorted(first, values, side="right") / len(first)
    second_cdf = np.searchsorted(second, values, side="right") / len(second)
    return float(np.max(np.abs(first_cdf - second_cdf)))


def read_csv_gz(path) -> np.ndarray:
    with gzip.open(path, "rt") as text:
        return np.loadtxt(text, delimiter=",", ndmin=2)


def test_ks_statistic_matches_hand_worked_cases():
    # CDFs of [1, 2, 3] and [2.5, 4] at 1, 2, 2.5, 3, 4: (1/3, 0), (2/3, 0), (2/3, 1/2), (1, 1/2), (1, 1).
    # The largest gap is at 2: 2/3.
    assert ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0])) == pytest.approx(2 / 3)
    # With ties: CDFs of [0, 0, 1] and [0, 1, 1] are (2/3, 1/3) at 0 and (1, 1) at 1, so 1/3.
    assert ks_statistic(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])) == pytest.approx(1 / 3)
    assert ks_statistic(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == 0.0
    assert ks_statistic(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0


def test_rows_have_the_higgs_layout():
    rows = synthetic.generate(5_000, seed=0)
    assert rows.shape == (5_000, 29)
    assert len(synthetic.COLUMNS) == 29 and synthetic.COLUMNS[0] == "label"
    assert set(np.unique(rows[:, 0])) == {0.0, 1.0}
    assert 0.49 < rows[:, 0].mean() < 0.57  # 0.53 signal, within sampling noise of 5,000 rows
    assert np.isfinite(rows).all()
    momenta_and_masses = [synthetic.COLUMNS.index(name) for name in (*synthetic.PT, *synthetic.MASS)]
    assert (rows[:, momenta_and_masses] > 0).all()
    for name, (levels, _, _) in synthetic.BTAG.items():
        assert set(np.unique(rows[:, synthetic.COLUMNS.index(name)])) == {0.0, *levels}
    angles = [index for index, name in enumerate(synthetic.COLUMNS) if name.endswith("_phi")]
    assert len(angles) == 6 and np.abs(rows[:, angles]).max() <= synthetic.PHI_MAX
    assert synthetic.generate(0, seed=0).shape == (0, 29)


def test_different_seeds_give_different_rows():
    first, second = synthetic.generate(1_000, seed=0), synthetic.generate(1_000, seed=1)
    assert not np.any(np.all(first == second, axis=1))
    assert not np.array_equal(first[:, 0], second[:, 0])


def test_first_rows_do_not_depend_on_the_row_count():
    # 25,000 rows cross two chunk boundaries; 12,345 stop in the middle of the second chunk.
    np.testing.assert_array_equal(synthetic.generate(25_000, seed=5)[:12_345], synthetic.generate(12_345, seed=5))


def test_every_feature_is_distributed_like_the_real_sample(higgs_sample):
    real = read_csv_gz(higgs_sample)
    fake = synthetic.generate(11_000, seed=0)
    statistics = {name: ks_statistic(real[:, column], fake[:, column])
                  for column, name in enumerate(synthetic.COLUMNS) if column > 0}
    worst = max(statistics, key=statistics.get)
    assert statistics[worst] <= 0.1, f"{worst}: KS statistic {statistics[worst]:.3f}"


def test_the_generator_does_not_import_tensorflow():
    # A fresh interpreter, because this test session may already have imported TensorFlow elsewhere.
    probe = "import sys, looptrain.synthetic; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
