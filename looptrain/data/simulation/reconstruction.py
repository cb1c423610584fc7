"""The HIGGS row of an event: its 21 low-level features and 7 masses, made as HIGGS makes them.

Every mass is that of massless four-vectors built from (pT, η, φ), chosen by the rules the real rows
give away (m_jj the pair of untagged jets nearest the W mass, m_jjj with the b that brings it nearest
the top's, the neutrino's pz from the W mass), which reproduce the real sample's masses from its own
momenta to rounding; the scaling is the UCI file's. The two things the real rows do not give away,
which pz solution HIGGS took and the order of the four listed jets, have stand-ins here that never
look at the true neutrino. docs/synthetic.md says how the rules were found and what each stand-in
does. Not here: the events (`looptrain.data.simulation.synthetic`), and TensorFlow.
"""

import numpy as np

from looptrain.data.columns import COLUMNS, PHI_MAX
from looptrain.data.simulation import kinematics as kin

# The masses the rules use (GeV): the real m_lv peak sits at this W mass; this top mass picks the
# real rows' b for m_jjj in 98% of events, where 165 or 180 GeV do worse.
W_MASS, TOP_MASS = 80.4, 173.0

# The UCI file's scales, read off the real sample. GeV per unit of the lepton's pT, the missing
# energy and the four jets' pT (from the steps of their rounding), and of the seven masses (the
# factors that make the rules above exact); the spread each η is divided by (the step of its
# 0.001 grid); each jet's two b-tag levels (the values themselves). φ is scaled so that ±π is
# ±PHI_MAX (`columns`).
PT_UNITS = (54.68, 58.17, 109.22, 79.50, 56.99, 41.10)
ETA_UNITS = (1.0267, 1.0099, 1.0295, 1.0986, 1.2007)
MASS_UNITS = (87.76, 179.8, 81.42, 195.25, 126.66, 336.4, 511.6)
BTAG_LEVELS = ((1.086538076, 2.173076153), (1.107436061, 2.214872122),
               (1.274112225, 2.548224449), (1.550980687, 3.101961374))
LOOSE_TAG = 0.19  # the real rows' share of tags at the lower level, the same for every jet and class

# Stand-ins for what the real rows do not give away: the share of events whose pz is the solution of
# smaller |pz| (the real rows' share, docs/synthetic.md); a small jitter of the neutrino's η, which
# gives the real m_lv peak its width and narrows it where the two solutions meet, as in the real rows
# (calibrated); and the jets' ranking, pT times a log-normal factor with b-tagged jets lowered
# (calibrated).
SMALLER_ROOT = 0.6
NEUTRINO_ETA_JITTER = 0.0087
ORDER_SPREAD, ORDER_TAG_SHIFT = 0.43, 0.088


def features(rng, lepton, met, jets: dict) -> np.ndarray:
    """The 28 HIGGS features (n, 28) of n events: the lepton as (pT, η, φ) rows, the missing energy
    as (x, y) rows, and the jets as (n, slots) arrays of pT, η, φ, whether visible and whether
    b-tagged, and a standard normal to rank them by. Nothing of the true neutrino is used."""
    n, slots = jets["pt"].shape
    rows = np.arange(n)
    vectors = kin.massless(jets["pt"], jets["eta"], jets["phi"])
    lepton_vector = kin.massless(*lepton.T)
    b_jets = vectors[rows[:, None], np.argsort(~jets["tagged"], axis=1, kind="stable")[:, :2]]
    w_jets = _w_pair(vectors, jets["visible"] & ~jets["tagged"])
    top_gaps = [np.abs(kin.mass(w_jets + b_jets[:, i]) - TOP_MASS) for i in (0, 1)]
    b_with_w = (top_gaps[1] < top_gaps[0]).astype(int)
    b_hadronic, b_leptonic = b_jets[rows, b_with_w], b_jets[rows, 1 - b_with_w]

    met_x, met_y = met.T
    pz = kin.neutrino_pz(lepton_vector, met_x, met_y, W_MASS)
    smaller = np.abs(pz[0]) <= np.abs(pz[1])
    pz = np.where(np.where(rng.random(n) < SMALLER_ROOT, smaller, ~smaller), *pz)
    met, met_phi = np.sqrt(met_x ** 2 + met_y ** 2), np.arctan2(met_y, met_x)
    neutrino_eta = np.arcsinh(pz / met) + NEUTRINO_ETA_JITTER * rng.standard_normal(n)
    w_leptonic = lepton_vector + kin.massless(met, neutrino_eta, met_phi)

    bb = b_jets[:, 0] + b_jets[:, 1]
    # In the file's order: m_jj, m_jjj, m_lv, m_jlv, m_bb, m_wbb (the larger W b b), m_wwbb.
    masses = [w_jets, w_jets + b_hadronic, w_leptonic, w_leptonic + b_leptonic, bb,
              np.where((kin.mass(w_jets + bb) > kin.mass(w_leptonic + bb))[:, None], w_jets, w_leptonic) + bb,
              w_leptonic + w_jets + bb]

    factor = np.exp(ORDER_SPREAD * jets["order_noise"] - ORDER_TAG_SHIFT * jets["tagged"])
    rank = np.where(jets["visible"], jets["pt"] * factor, -1.0)
    listed = np.argsort(-rank, axis=1, kind="stable")[:, :4]
    tight = (rng.random((n, 4)) >= LOOSE_TAG).astype(int)
    angle = PHI_MAX / np.pi
    columns = [lepton[:, 0] / PT_UNITS[0], lepton[:, 1] / ETA_UNITS[0], lepton[:, 2] * angle,
               met / PT_UNITS[1], met_phi * angle]
    for position in range(4):
        jet = listed[:, position]
        columns += [jets["pt"][rows, jet] / PT_UNITS[2 + position], jets["eta"][rows, jet] / ETA_UNITS[1 + position],
                    jets["phi"][rows, jet] * angle,
                    np.where(jets["tagged"][rows, jet], np.array(BTAG_LEVELS[position])[tight[:, position]], 0.0)]
    return np.column_stack(columns + [kin.mass(p) / unit for p, unit in zip(masses, MASS_UNITS)])


def _w_pair(vectors, candidate) -> np.ndarray:
    """The summed four-vector (n, 4) of the pair of candidate jets whose mass is closest to W_MASS.

    Every pair of slots is tried at once, from the components as (n, pairs) arrays, and in float32,
    plenty for choosing a pair: faster than (n, pairs, 4) vectors in float64 (docs/synthetic.md, "Speed")."""
    first, second = np.triu_indices(vectors.shape[1], 1)
    energy, *momentum = (vectors[..., i].astype(np.float32) for i in range(4))
    squared = (energy[:, first] + energy[:, second]) ** 2 - sum((p[:, first] + p[:, second]) ** 2 for p in momentum)
    gap = np.abs(np.sqrt(np.maximum(squared, 0.0)) - W_MASS)
    gap[~(candidate[:, first] & candidate[:, second])] = np.inf
    closest = np.argmin(gap, axis=1)
    rows = np.arange(len(vectors))
    return vectors[rows, first[closest]] + vectors[rows, second[closest]]
