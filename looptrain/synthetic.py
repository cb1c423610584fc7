"""Synthetic HIGGS: the project's own deterministic stand-in for the UCI HIGGS data set.

What this file holds: a small parametric model that makes rows in the HIGGS layout (label first,
then 21 low-level kinematic features and 7 high-level masses). Writing them to a gzip CSV and keeping
a checked copy in a cache folder is `looptrain.cache`'s business.

The model, in a few sentences. Each row first draws its label (signal with probability 0.53).
Given the label, 22 of the 28 features come from a Gaussian copula: one standard-normal latent per
feature, built in a fixed order as a weighted sum of a few earlier latents plus its own noise. The
masses come first, so the jets that make them follow them (jet1_pt follows m_wbb, m_wbb follows
m_wwbb), the four b-tags push against each other (an event has only so many b-jets), and the
pseudorapidities share a common boost. Each latent is then mapped to its feature: transverse momenta
and missing energy through a shifted log-normal, each mass through a two-part mixture (a narrow peak
where the decay products were paired correctly, a broad bump where they were not), pseudorapidities
through a squeezed normal, b-tags through two thresholds onto three levels. The six azimuthal angles
are uniform and independent of everything, as they are, to a good approximation, in HIGGS.

Where the label's signal lives: every weight and marginal parameter has a signal and a background
value. Signal masses sit in their peaks more often (m_bb: a Higgs boson decaying to two b-jets, a
sharp peak for signal, a wide bump for background; m_wbb and m_wwbb: the top quarks), and the
masses pull on the jets and the missing energy differently in the two classes. No feature alone
says much (the best, m_wwbb and m_bb, lower the cross-entropy of a constant guess, 0.691, to about
0.685); the combination does: logistic regression on all 28 features reaches about 0.64, a small
network about 0.60, as on real HIGGS. The classes overlap heavily, so even a perfect classifier
makes many mistakes, which is what lets a large network overfit 10,000 rows the way it overfits
the real ones.

All constants were fitted to a sample of 10,984 real HIGGS rows (the marginals by least squares on
the empirical CDF of each class, the weights by regressing each latent's normal scores on its
parents') and rounded; no rows of real data are stored here.

What it leaves out: there is no physics simulation (no four-vectors; the masses are not computed
from the jets, only correlated with them), the azimuthal angles carry no information, and nothing
here imports TensorFlow: it needs numpy and the standard library only.
"""

import math
import statistics
from functools import cache

import numpy as np

# The 29 columns of a HIGGS row, in file order.
COLUMNS = (
    "label",
    "lepton_pt", "lepton_eta", "lepton_phi", "missing_energy", "missing_energy_phi",
    "jet1_pt", "jet1_eta", "jet1_phi", "jet1_btag",
    "jet2_pt", "jet2_eta", "jet2_phi", "jet2_btag",
    "jet3_pt", "jet3_eta", "jet3_phi", "jet3_btag",
    "jet4_pt", "jet4_eta", "jet4_phi", "jet4_btag",
    "m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb",
)

# Bump this whenever a constant below changes, so cached files made by an older model are not reused.
VERSION = "v1"

# Share of signal rows, as in the real sample.
SIGNAL_FRACTION = 0.53

# Rows are made in chunks of this size, each from its own random stream seeded by (seed, chunk
# index): the first rows of a file then do not depend on how many rows were asked for.
CHUNK_ROWS = 10_000

# HIGGS rescales the azimuthal angles so that they lie in [-PHI_MAX, PHI_MAX].
PHI_MAX = 1.7438

# The latent recipe, in generation order: (feature, parents, signal weights, background weights).
# A feature's latent is the weighted sum of its parents' latents plus independent noise, scaled so
# every latent is a standard normal (see _noise_scales).
RECIPE = (
    ("m_wwbb", (), (), ()),
    ("m_wbb", ("m_wwbb",), (0.903,), (0.880,)),
    ("m_bb", ("m_wbb", "m_wwbb"), (0.879, -0.388), (1.079, -0.494)),
    ("m_jlv", ("m_wbb", "m_wwbb"), (0.240, 0.387), (0.450, 0.167)),
    ("m_jjj", ("m_wwbb", "m_jlv"), (0.701, -0.395), (0.494, -0.174)),
    ("m_jj", ("m_jjj", "m_wwbb", "m_bb"), (0.402, 0.224, -0.158), (0.496, 0.150, -0.174)),
    ("m_lv", ("m_jlv",), (0.082,), (0.110,)),
    ("jet1_pt", ("m_wbb", "m_wwbb", "m_bb"), (0.207, 0.140, 0.065), (0.178, 0.312, 0.150)),
    ("jet2_pt", ("jet1_pt", "m_wbb", "m_bb", "m_jj"), (0.275, 0.127, 0.085, 0.133), (0.240, 0.202, 0.199, 0.069)),
    ("jet3_pt", ("m_wwbb", "jet2_pt", "m_jjj", "m_bb", "m_jj"),
     (0.087, 0.214, 0.100, 0.099, 0.097),
     (0.131, 0.121, 0.077, 0.173, 0.101)),
    ("jet4_pt", ("jet3_pt", "m_jj", "jet2_pt"), (0.269, 0.116, 0.111), (0.201, 0.141, 0.077)),
    ("lepton_pt", ("m_lv", "m_wwbb", "m_wbb"), (0.182, 0.110, -0.079), (0.162, 0.347, -0.232)),
    ("missing_energy", ("m_wwbb", "lepton_pt", "m_lv", "m_bb", "m_jjj"),
     (0.374, -0.255, 0.280, -0.174, -0.132),
     (0.493, -0.351, 0.243, -0.214, -0.132)),
    ("jet1_btag", ("m_bb", "jet2_pt", "jet3_pt", "jet4_pt", "m_jlv"),
     (0.317, -0.274, -0.184, -0.125, 0.106),
     (0.464, -0.213, -0.166, -0.112, 0.088)),
    ("jet2_btag", ("jet1_btag", "m_bb", "jet3_pt", "jet4_pt", "jet2_pt"),
     (-0.402, 0.268, -0.207, -0.179, 0.109),
     (-0.385, 0.336, -0.241, -0.169, 0.139)),
    ("jet3_btag", ("jet1_btag", "jet2_btag", "jet3_pt", "jet4_pt", "m_bb"),
     (-0.413, -0.351, 0.154, -0.225, 0.144),
     (-0.426, -0.395, 0.166, -0.217, 0.127)),
    ("jet4_btag", ("jet2_btag", "jet3_btag", "jet1_btag"), (-0.480, -0.511, -0.467), (-0.559, -0.543, -0.550)),
    ("lepton_eta", (), (), ()),
    ("jet1_eta", ("lepton_eta",), (0.294,), (0.232,)),
    ("jet2_eta", ("lepton_eta", "jet1_eta"), (0.252, 0.172), (0.183, 0.216)),
    ("jet3_eta", ("jet1_eta", "jet2_eta", "lepton_eta"), (0.150, 0.134, 0.193), (0.178, 0.144, 0.090)),
    ("jet4_eta", ("jet1_eta", "jet2_eta", "lepton_eta"), (0.094, 0.085, 0.169), (0.162, 0.136, 0.048)),
)

# Momenta: x = low + exp(mu + sigma * z), a log-normal shifted by a threshold (the trigger's cut).
# (low, mu, sigma) for signal, then for background.
PT = {
    "lepton_pt": ((0.0250, -0.1933, 0.5343), (0.0559, -0.1988, 0.6298)),
    "missing_energy": ((0.0000, -0.1927, 0.5825), (0.0000, -0.1006, 0.6328)),
    "jet1_pt": ((0.0000, -0.0836, 0.3963), (0.0273, -0.1711, 0.4360)),
    "jet2_pt": ((0.0000, -0.1111, 0.4534), (0.0283, -0.1585, 0.4569)),
    "jet3_pt": ((0.0000, -0.1044, 0.4699), (0.0000, -0.1158, 0.4699)),
    "jet4_pt": ((0.0959, -0.2398, 0.5644), (0.1095, -0.3121, 0.5596)),
}

# Masses: a mixture of a peak, log-normal(peak_mu, peak_sigma) with weight w, and a broad bump,
# low + log-normal(broad_mu, broad_sigma). (w, peak_mu, peak_sigma, low, broad_mu, broad_sigma)
# for signal, then for background. m_lv's peak is so narrow because HIGGS solves for the neutrino
# with the W mass as a constraint.
MASS = {
    "m_jj": ((0.5190, -0.1178, 0.0999, 0.1598, -0.2232, 0.6432), (0.5461, -0.1304, 0.1046, 0.1433, -0.1897, 0.6393)),
    "m_jjj": ((0.2967, -0.0010, 0.1111, 0.4278, -0.6797, 0.5341), (0.5412, -0.0751, 0.0905, 0.3847, -0.4851, 0.5417)),
    "m_lv": ((0.6836, -0.0122, 0.0048, 0.5061, -0.4632, 0.2357), (0.6614, -0.0121, 0.0047, 0.5539, -0.5717, 0.2372)),
    "m_jlv": ((0.4234, -0.0119, 0.2866, 0.3649, -0.6637, 0.5739), (0.2968, -0.1339, 0.1153, 0.3374, -0.4829, 0.5841)),
    "m_bb": ((0.3943, -0.1459, 0.1185, 0.0000, -0.1956, 0.4990), (0.4947, -0.2644, 0.7068, 0.1012, -0.0559, 0.4598)),
    "m_wbb": ((0.3388, -0.0810, 0.0845, 0.3474, -0.4787, 0.4669), (0.1225, 0.0070, 0.2373, 0.4220, -0.6217, 0.5866)),
    "m_wwbb": ((0.2985, -0.2079, 0.0746, 0.4455, -0.8068, 0.5289), (0.1061, -0.2913, 0.1552, 0.4506, -0.6963, 0.5449)),
}

# Pseudorapidities: x = bound * tanh(z / width), a normal with lighter tails.
# (bound, width) for signal, then for background.
ETA = {
    "lepton_eta": ((3.173, 2.845), (2.887, 2.494)),
    "jet1_eta": ((4.491, 4.331), (3.585, 3.402)),
    "jet2_eta": ((5.337, 5.319), (4.037, 3.889)),
    "jet3_eta": ((6.334, 6.320), (4.112, 3.856)),
    "jet4_eta": ((3.630, 3.505), (3.688, 3.322)),
}

# B-tags take three values: 0 and the two levels below, exactly as HIGGS writes them.
# ((level 1, level 2), signal's P(0) and P(level 1), background's P(0) and P(level 1)).
BTAG = {
    "jet1_btag": ((1.086538076, 2.173076153), (0.493, 0.099), (0.485, 0.106)),
    "jet2_btag": ((1.107436061, 2.214872122), (0.518, 0.096), (0.469, 0.091)),
    "jet3_btag": ((1.274112225, 2.548224449), (0.588, 0.071), (0.560, 0.084)),
    "jet4_btag": ((1.550980687, 3.101961374), (0.639, 0.067), (0.654, 0.053)),
}

# The mixture's inverse CDF is tabulated on this grid of latent values and interpolated; beyond
# |z| = 6 (two rows in a billion) the table's ends are used.
Z_GRID = np.linspace(-6.0, 6.0, 4801)


def generate(n_rows: int, seed: int) -> np.ndarray:
    """Return an (n_rows, 29) float array of synthetic HIGGS rows, label first."""
    parts = list(chunks(n_rows, seed))
    return np.concatenate(parts) if parts else np.empty((0, len(COLUMNS)))


def chunks(n_rows: int, seed: int):
    """The same rows as `generate`, CHUNK_ROWS at a time, for a writer that never holds them all."""
    if n_rows < 0 or seed < 0:
        raise ValueError(f"n_rows and seed must be non-negative, got n_rows={n_rows}, seed={seed}")
    for index, start in enumerate(range(0, n_rows, CHUNK_ROWS)):
        yield _chunk(seed, index)[: n_rows - start]


def _chunk(seed: int, index: int) -> np.ndarray:
    """Make the CHUNK_ROWS rows of chunk `index`; callers cut it short, so a prefix never changes."""
    rng = np.random.default_rng([seed, index])
    is_signal = rng.random(CHUNK_ROWS) < SIGNAL_FRACTION

    def per_row(signal_value, background_value):
        return np.where(is_signal, signal_value, background_value)

    latent = {}
    for (name, parents, signal_weights, background_weights), noise in zip(RECIPE, _noise_scales()):
        value = per_row(*noise) * rng.standard_normal(CHUNK_ROWS)
        for parent, signal_weight, background_weight in zip(parents, signal_weights, background_weights):
            value += per_row(signal_weight, background_weight) * latent[parent]
        latent[name] = value

    features = {}
    for name, (signal, background) in PT.items():
        low, mu, sigma = (per_row(s, b) for s, b in zip(signal, background))
        features[name] = low + np.exp(mu + sigma * latent[name])
    for name in MASS:
        signal_table, background_table = _mass_tables(name)
        features[name] = per_row(np.interp(latent[name], Z_GRID, signal_table),
                                 np.interp(latent[name], Z_GRID, background_table))
    for name, (signal, background) in ETA.items():
        bound, width = (per_row(s, b) for s, b in zip(signal, background))
        features[name] = bound * np.tanh(latent[name] / width)
    for name, ((level_1, level_2), signal, background) in BTAG.items():
        (signal_low, signal_high), (background_low, background_high) = _btag_thresholds(signal, background)
        z = latent[name]
        features[name] = np.select([z > per_row(signal_high, background_high), z > per_row(signal_low, background_low)],
                                   [level_2, level_1], 0.0)
    for name in COLUMNS:
        if name.endswith("_phi"):
            features[name] = rng.uniform(-PHI_MAX, PHI_MAX, CHUNK_ROWS)

    features["label"] = is_signal.astype(float)
    return np.column_stack([features[name] for name in COLUMNS])


@cache
def _noise_scales() -> list:
    """For each recipe line, the (signal, background) noise scale that makes its latent's variance one.

    The parents are correlated, so the variance their weighted sum explains is w' C w, with C the
    covariance the recipe itself implies; it is tracked line by line.
    """
    names = [line[0] for line in RECIPE]
    scales = []
    for side in (0, 1):  # 0: signal weights, 1: background weights
        covariance = np.zeros((len(RECIPE), len(RECIPE)))
        side_scales = []
        for row, (name, parents, *weights_by_side) in enumerate(RECIPE):
            weights = np.array(weights_by_side[side])
            columns = [names.index(parent) for parent in parents]
            explained = weights @ covariance[np.ix_(columns, columns)] @ weights if parents else 0.0
            if explained >= 1.0:
                raise ValueError(f"the weights of {name} explain more than all its variance")
            if parents:
                covariance[row, :row] = weights @ covariance[columns, :row]
                covariance[:row, row] = covariance[row, :row]
            covariance[row, row] = 1.0
            side_scales.append(math.sqrt(1.0 - explained))
        scales.append(side_scales)
    return list(zip(*scales))


@cache
def _mass_tables(name: str) -> tuple:
    """The mass at each latent value of Z_GRID, for signal and for background: the mixture's inverse CDF."""
    tables = []
    for weight, peak_mu, peak_sigma, low, broad_mu, broad_sigma in MASS[name]:
        # The CDF on a log-spaced grid fine enough to resolve m_lv's peak (width 0.005 in log mass).
        mass = np.exp(np.linspace(-4.0, 4.0, 32001))
        broad_log = np.log(np.maximum(mass - low, 1e-300))
        cdf = weight * _normal_cdf((np.log(mass) - peak_mu) / peak_sigma) + (1 - weight) * _normal_cdf(
            (broad_log - broad_mu) / broad_sigma)
        # np.interp needs increasing abscissae; the CDF is flat (to double precision) in the far
        # tails, so keep only the points where it still rises.
        rising = np.concatenate([[True], np.diff(cdf) > 0])
        tables.append(np.interp(_normal_cdf(Z_GRID), cdf[rising], mass[rising]))
    return tuple(tables)


def _btag_thresholds(signal: tuple, background: tuple) -> tuple:
    """The latent thresholds that give each class its probabilities of b-tag levels 0, 1 and 2."""
    normal = statistics.NormalDist()
    return tuple((normal.inv_cdf(p0), normal.inv_cdf(p0 + p1)) for p0, p1 in (signal, background))


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """The standard normal CDF, elementwise (numpy has no erf; math.erf is exact and fast enough on grids)."""
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(z) / math.sqrt(2.0)))
