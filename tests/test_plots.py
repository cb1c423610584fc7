"""The learning-curve plots: tensorflow_docs' smoothing, checked by hand, and pictures on disk."""

import math
import subprocess
import sys

import numpy as np
import pytest

from looptrain.plots import plot_histories, smooth


def test_smoothing_a_short_series_by_hand():
    # std=1 reaches 4 points each side, so every point sees all three; weights exp(-(d/5)^2).
    k1, k2 = math.exp(-((1 / 5) ** 2)), math.exp(-((2 / 5) ** 2))
    expected = [(1 + 2 * k1 + 4 * k2) / (1 + k1 + k2),
                (1 * k1 + 2 + 4 * k1) / (k1 + 1 + k1),
                (1 * k2 + 2 * k1 + 4) / (k2 + k1 + 1)]
    np.testing.assert_allclose(smooth([1.0, 2.0, 4.0], std=1), expected, rtol=1e-12)


def test_smoothing_equals_tensorflow_docs_on_a_long_series():
    values = np.random.default_rng(0).normal(size=300)
    x = np.linspace(-40, 40, 81)  # tensorflow_docs' kernel for smoothing_std=10
    kernel = np.exp(-((x / 5) ** 2))
    reference = np.convolve(values, kernel, mode="same") / np.convolve(np.ones(300), kernel, mode="same")
    np.testing.assert_allclose(smooth(values, std=10), reference, rtol=1e-12)


def test_a_constant_series_stays_constant_to_the_edges():
    np.testing.assert_allclose(smooth(np.full(50, 0.6), std=10), 0.6)


def history(values):
    return {"epoch": list(range(len(values))), "binary_crossentropy": values,
            "val_binary_crossentropy": [v + 0.02 for v in values]}


@pytest.mark.parametrize("log_x", [False, True])
def test_the_picture_is_written(tmp_path, log_x):
    path = tmp_path / "curves.png"
    plot_histories({"Tiny": history([0.69, 0.65, 0.63]), "Large": history([0.68, 0.5, 0.3, 0.2])}, path,
                   log_x=log_x)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_plotting_does_not_import_tensorflow():
    code = "import sys, looptrain.plots, looptrain.history; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
