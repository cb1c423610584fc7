"""Synthetic HIGGS: the project's own deterministic stand-in for the UCI HIGGS data set, event by event.

The two processes of the HIGGS paper (Baldi, Sadowski and Whiteson, 2014), simulated: a heavy Higgs
H0 → W H± → W W h0 with h0 → b b̄ against top pairs, t t̄ → W b W b̄, one W giving a lepton and a
neutrino and the other two quarks; then a simple detector, and the real rows' selection. Each event
kept becomes a row as HIGGS makes its own (`looptrain.data.simulation.reconstruction`). The constants
marked "calibrated" were fitted to the real sample, a few others set by hand after; no real row is
stored. docs/synthetic.md says what is simulated and what is left out, and how the constants were
found. Not here: writing rows to a file and caching it (`looptrain.data.cache`), and TensorFlow.
"""

import numpy as np

from looptrain.data.columns import COLUMNS
from looptrain.data.simulation import kinematics as kin
from looptrain.data.simulation import reconstruction
from looptrain.data.simulation.reconstruction import TOP_MASS, W_MASS

# Bump this whenever anything here or in reconstruction changes, so that cached files made by an
# older model are not reused.
VERSION = "v4"

# Share of signal rows, as in the real sample.
SIGNAL_FRACTION = 0.53

# Rows are made in chunks of this size, each from its own random stream seeded by (seed, chunk
# index): the first rows of a file then do not depend on how many rows were asked for.
CHUNK_ROWS = 10_000

# The particles (GeV): the W's and the top's widths (their masses are W_MASS and TOP_MASS), the
# Higgs bosons' masses, and the heavy one's width (the others' are neglected).
W_WIDTH, TOP_WIDTH = 2.1, 1.5
HEAVY_HIGGS_MASS, CHARGED_HIGGS_MASS, LIGHT_HIGGS_MASS = 425.0, 325.0, 125.0
HEAVY_HIGGS_WIDTH = 9.5  # calibrated; the heavy Higgs's mass is kept above its decay products'


# Production, keyed by signal (True) or background (False). All calibrated, but TOP_PAIR_EXCESS's
# scale, raised by hand (docs/synthetic.md, "Calibration").
RAPIDITY_SPREAD = {True: 1.2, False: 1.09}  # sd of the hard system's rapidity
RADIATION_MEAN = {True: 0.793, False: 1.99}  # mean number of ISR jets (Poisson, at most MAX_RADIATION)
RADIATION_PT_MIN = {True: 36.3, False: 12.3}  # GeV: ISR pT is Pareto above it...
RADIATION_PT_SLOPE = 1.21  # ...with this exponent: P(pT > x) = (x / min)^-slope
RADIATION_ETA_SPREAD = 1.7  # sd of an ISR jet's η
SOFT_RECOIL = 6.78  # GeV, sd of each transverse component of the recoil against radiation too soft for jets
TOP_PAIR_EXCESS = (1.36, 127.0)  # the t t̄ mass above the two tops': gamma (shape, scale in GeV)
TOP_FORWARD = 0.62  # share of top pairs made along cos²θ (forward and backward), the rest isotropic
TOP_W_LONGITUDINAL = 0.85  # share of longitudinal Ws in top decays (0.7 in the Standard Model), the rest left-handed
MAX_RADIATION = 3


# The detector, calibrated. A jet's pT is its parton's times a log-normal response (light and b jets
# have their own median; b jets first lose a share to a neutrino in semileptonic decays), then
# smeared with a resolution sqrt(stochastic² / E + constant²); its direction is the parton's.
# Some jets' response spreads wider: with no parton shower here, nothing else makes a jet lose much
# of its parton's momentum out of its cone (or gain a neighbour's), and without them the masses of
# the signal's decay peak more sharply than in HIGGS.
RESPONSE = {False: 0.937, True: 1.01}  # median jet pT / parton pT, keyed by b
RESPONSE_SPREAD = 0.139  # sd of log(response)
RESPONSE_TAIL = (0.3, 0.4)  # share of jets whose log(response) has a wider sd, and that sd; set by hand
SEMILEPTONIC = (0.27, 0.6)  # share of b jets that lose momentum to a neutrino (by hand), and the most they lose
RESOLUTION = (0.45, 0.11)  # stochastic term (GeV^½) and constant term of the pT resolution
LEPTON_RESOLUTION = 0.02  # relative sd of the lepton's pT
MET_SOFT = 14.4  # GeV, sd of each component of the soft term in the missing energy
B_TAG_ETA = (1.19, 1.68)  # |η| where the b-tag efficiency falls from one, and where it reaches zero
MISTAG = 0.31  # share of the b-tag efficiency a quark of the hadronic W (a charm, say) gets
RADIATION_MISTAG = 0.12  # and an ISR jet (a gluon that split to b b̄, say)

# The selection, read off the real sample's edges (GeV for pT).
LEPTON_PT_MIN, LEPTON_ETA_MAX = 15.0, 2.5
JET_PT_MIN, JET_ETA_MAX = 15.0, 3.0
SEPARATION = 0.4  # the smallest ΔR between two jets, or the lepton and a jet

# About a third of simulated events pass the selection; a batch is sized with this to need one pass,
# but holds at most MAX_BATCH events: arrays that small the allocator reuses, where larger ones go
# back to the system after each use and cost page faults when fetched again.
ACCEPTANCE, MAX_BATCH = 0.3, 8192


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
    rows = np.empty((CHUNK_ROWS, len(COLUMNS)))
    rows[:, 0] = rng.random(CHUNK_ROWS) < SIGNAL_FRACTION
    for signal in (True, False):
        wanted = rows[:, 0] == signal
        rows[wanted, 1:] = _events(rng, int(wanted.sum()), signal)
    return rows


def _events(rng, n: int, signal: bool) -> np.ndarray:
    """The 28 features of n selected events of one process: simulate batches, keep what passes."""
    kept, missing = [], n
    while missing > 0:
        batch = _simulate(rng, min(int(missing / ACCEPTANCE) + 100, MAX_BATCH), signal)
        kept.append(batch[:missing])
        missing -= len(kept[-1])
    return np.concatenate(kept) if kept else np.empty((0, len(COLUMNS) - 1))


def _simulate(rng, n: int, signal: bool) -> np.ndarray:
    """Simulate n events of one process and return the features of those the selection keeps.

    The cheap cuts come first, the lepton's, then the b tags' that need only the four quark jets:
    only the events that pass them have their ISR jets measured, the same events as measuring
    everything first, for less work."""
    lepton, neutrino, quarks, radiation = _hard_process(rng, n, signal)
    lepton = np.column_stack([kin.transverse_momentum(lepton) * (1 + LEPTON_RESOLUTION * rng.standard_normal(n)),
                              kin.pseudorapidity(lepton), kin.azimuth(lepton)])
    keep = (lepton[:, 0] > LEPTON_PT_MIN) & (np.abs(lepton[:, 1]) < LEPTON_ETA_MAX)
    lepton, neutrino, quarks, radiation = _kept(keep, lepton, neutrino, quarks, radiation)
    # Exactly two b tags. Whether a parton's jet would be tagged if seen depends on its η only, so it
    # is drawn first: an event whose quark jets have one tag goes on only if an ISR jet may add one.
    quark_taggable = _taggable(rng, kin.pseudorapidity(quarks), np.array([1.0, 1.0, MISTAG, MISTAG]))
    radiation_taggable = _taggable(rng, radiation[..., 1], RADIATION_MISTAG)
    quark_jets = _measured(rng, kin.transverse_momentum(quarks), kin.pseudorapidity(quarks), kin.azimuth(quarks),
                           is_b=np.array([True, True, False, False]))
    quark_jets["tagged"] = quark_jets["visible"] & quark_taggable
    tags = quark_jets["tagged"].sum(axis=1)
    keep = (tags == 2) | ((tags == 1) & radiation_taggable.any(axis=1))
    lepton, neutrino, radiation, radiation_taggable, quark_jets = _kept(
        keep, lepton, neutrino, radiation, radiation_taggable, quark_jets)
    radiation_jets = _measured(rng, *radiation.transpose(2, 0, 1), is_b=False)
    radiation_jets["tagged"] = radiation_jets["visible"] & radiation_taggable
    jets = {name: np.concatenate([quark_jets[name], radiation_jets[name]], axis=1) for name in quark_jets}
    keep = _selected(lepton, jets) & (jets["tagged"].sum(axis=1) == 2)
    lepton, neutrino, jets = _kept(keep, lepton, neutrino, jets)
    # The missing energy: the neutrino's pT, what the jets' measurement missed (the neutrino of a
    # semileptonic b decay, mismeasurement), and the soft term's noise. The soft radiation, and any
    # jet below threshold, the soft term measures.
    met = neutrino[:, 1:3] + jets["unseen"].sum(axis=1) + rng.normal(0.0, MET_SOFT, (len(lepton), 2))
    return reconstruction.features(rng, lepton, met, jets)


def _kept(keep, *arrays) -> tuple:
    """The rows `keep` selects of each array, or of each array in a dict."""
    return tuple({name: value[keep] for name, value in a.items()} if isinstance(a, dict) else a[keep] for a in arrays)


def _hard_process(rng, n: int, signal: bool) -> tuple:
    """The lepton, neutrino and four quarks (b, b̄ and the hadronic W's pair) of n events as
    four-vectors, and their ISR partons as (pT, η, φ) rows."""
    radiation, recoil = _radiation(rng, n, signal)

    def w_masses():
        return kin.breit_wigner(rng, n, W_MASS, W_WIDTH, W_MASS - 20, W_MASS + 20)

    if signal:  # H0 -> W H±, H± -> W h0, h0 -> b b̄
        first_mass = w_masses()
        lightest = first_mass + CHARGED_HIGGS_MASS  # what its decay needs
        higgs_mass = kin.breit_wigner(rng, n, HEAVY_HIGGS_MASS, HEAVY_HIGGS_WIDTH, lightest, 800.0)
        higgs = _moving(rng, higgs_mass, recoil, RAPIDITY_SPREAD[True])
        first_w, charged = kin.two_body_decay(rng, higgs, first_mass, CHARGED_HIGGS_MASS)
        second_w, light = kin.two_body_decay(rng, charged, w_masses(), LIGHT_HIGGS_MASS)
        b, anti_b = kin.two_body_decay(rng, light, 0.0, 0.0)
        parents, longitudinal = (higgs, charged), 1.0  # a scalar decays only to longitudinal Ws
    else:  # t t̄ -> W b W b̄
        top_masses = [kin.breit_wigner(rng, n, TOP_MASS, TOP_WIDTH, TOP_MASS - 20, TOP_MASS + 20) for _ in "tt"]
        pair = _moving(rng, sum(top_masses) + rng.gamma(*TOP_PAIR_EXCESS, n), recoil, RAPIDITY_SPREAD[False])
        # The production angle: a share TOP_FORWARD along 1 + cos²θ's forward part (density ∝ cos²θ,
        # |cos θ| = u^⅓), the rest isotropic; θ is taken from the z axis in the pair's frame.
        forward = rng.random(n) < TOP_FORWARD
        cos_theta = np.where(forward, rng.random(n) ** (1 / 3), rng.random(n)) * rng.choice([-1.0, 1.0], n)
        top, anti_top = kin.two_body_decay(rng, pair, *top_masses, cos_theta=cos_theta)
        first_w, b = kin.two_body_decay(rng, top, w_masses(), 0.0)
        second_w, anti_b = kin.two_body_decay(rng, anti_top, w_masses(), 0.0)
        parents, longitudinal = (top, anti_top), TOP_W_LONGITUDINAL
    # Each W decays along its helicity axis, its direction of flight in its parent's frame.
    axes = [kin.boost(w, -parent[:, 1:] / parent[:, :1])[:, 1:] for w, parent in zip((first_w, second_w), parents)]
    first_leptonic = (rng.random(n) < 0.5)[:, None]  # which W gives the lepton: either, evenly

    def either(first, second):
        return np.where(first_leptonic, first, second)

    lepton, neutrino = kin.two_body_decay(rng, either(first_w, second_w), 0.0, 0.0,
                                          _helicity_angle(rng, n, longitudinal), either(*axes))
    quark, anti_quark = kin.two_body_decay(rng, either(second_w, first_w), 0.0, 0.0,
                                           _helicity_angle(rng, n, longitudinal), either(*axes[::-1]))
    return lepton, neutrino, np.stack([b, anti_b, quark, anti_quark], axis=1), radiation


def _helicity_angle(rng, n: int, longitudinal: float):
    """cos θ of a W's charged lepton (or down-type quark) from the W's flight, in the W's frame: for
    a longitudinal W (3/4)(1 - c²), the median of three uniforms; for a left-handed one
    (3/8)(1 - c)², that is c = 1 - 2 u^⅓. A right-handed W does not occur here."""
    a, b, c = rng.uniform(-1.0, 1.0, (3, n))
    median = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return np.where(rng.random(n) < longitudinal, median, 1.0 - 2.0 * rng.random(n) ** (1 / 3))


def _radiation(rng, n: int, signal: bool) -> tuple:
    """Up to MAX_RADIATION ISR partons an event as (pT, η, φ) along the last axis (absent ones have
    pT 0), and the transverse recoil (n, 2) they and radiation too soft for jets give the hard system."""
    count = np.minimum(rng.poisson(RADIATION_MEAN[signal], n), MAX_RADIATION)
    present = np.arange(MAX_RADIATION) < count[:, None]
    # A Pareto pT above RADIATION_PT_MIN, cut off at 600 GeV by drawing the uniform above its image.
    lowest = (600.0 / RADIATION_PT_MIN[signal]) ** -RADIATION_PT_SLOPE
    pt = RADIATION_PT_MIN[signal] * rng.uniform(lowest, 1.0, (n, MAX_RADIATION)) ** (-1 / RADIATION_PT_SLOPE) * present
    eta = rng.normal(0.0, RADIATION_ETA_SPREAD, (n, MAX_RADIATION))
    phi = rng.uniform(-np.pi, np.pi, (n, MAX_RADIATION))
    recoil = rng.normal(0.0, SOFT_RECOIL, (n, 2)) - _transverse_sum(pt, phi)
    return np.stack([pt, eta, phi], axis=-1), recoil


def _moving(rng, mass, recoil, rapidity_spread) -> np.ndarray:
    """Four-vectors of the given masses, transverse momenta `recoil` (n, 2) and normal rapidities."""
    rapidity = rng.normal(0.0, rapidity_spread, len(mass))
    transverse_mass = np.sqrt(mass ** 2 + recoil[:, 0] ** 2 + recoil[:, 1] ** 2)
    return np.column_stack([transverse_mass * np.cosh(rapidity), recoil, transverse_mass * np.sinh(rapidity)])


def _measured(rng, pt, eta, phi, is_b) -> dict:
    """What the detector makes of partons (n, k): jets with a measured pT and direction, whether each
    is visible (above threshold and within acceptance), and the transverse momentum it takes from
    the missing energy's account (the part lost to a neutrino and the part mismeasured)."""
    shape = pt.shape
    lost = 0.0
    if np.any(is_b):
        lost = is_b * (rng.random(shape) < SEMILEPTONIC[0]) * rng.uniform(0.0, SEMILEPTONIC[1], shape)
    noise = rng.standard_normal((3,) + shape)
    median = RESPONSE[False] + (RESPONSE[True] - RESPONSE[False]) * is_b
    spread = np.where(rng.random(shape) < RESPONSE_TAIL[0], RESPONSE_TAIL[1], RESPONSE_SPREAD)
    true_pt = pt * (1 - lost) * median * np.exp(spread * noise[0])
    resolution = np.sqrt(RESOLUTION[0] ** 2 / np.maximum(true_pt * np.cosh(eta), 1.0) + RESOLUTION[1] ** 2)
    measured = true_pt * np.maximum(1 + resolution * noise[1], 0.05)
    # The transverse momentum the missing energy counts for this jet: a semileptonic b's neutrino and,
    # if the jet is seen, its mismeasurement (the soft term measures an unseen jet's momentum).
    visible = (measured > JET_PT_MIN) & (np.abs(eta) < JET_ETA_MAX)
    unseen = pt * lost + visible * (true_pt - measured)
    return dict(pt=measured, eta=eta, phi=phi, visible=visible,
                unseen=np.stack(kin.cos_sin(phi), axis=-1) * unseen[..., None], order_noise=noise[2])


def _taggable(rng, eta, share) -> np.ndarray:
    """Whether each parton's jet is b-tagged if it is seen: with the tagger's efficiency at its η (one
    in the barrel, falling to zero between the two B_TAG_ETA) times its kind's share (one for b)."""
    efficiency = np.clip((B_TAG_ETA[1] - np.abs(eta)) / (B_TAG_ETA[1] - B_TAG_ETA[0]), 0.0, 1.0)
    return rng.random(efficiency.shape) < efficiency * share


def _selected(lepton, jets: dict) -> np.ndarray:
    """Which events pass the rest of the selection: four jets or more, and no jet within
    SEPARATION of the lepton or of another jet."""
    visible = jets["visible"]
    # Invisible jets are moved far apart in η, so that no test needs to ask which jets are visible;
    # float32 is plenty for a distance cut and halves the cost of the (events, pairs) arrays.
    eta = np.where(visible, jets["eta"], 100.0 * np.arange(1, visible.shape[1] + 1)).astype(np.float32)
    phi = jets["phi"].astype(np.float32)
    first, second = np.triu_indices(visible.shape[1], 1)  # every pair of jet slots, once
    too_close = np.any(_near(lepton[:, 1:2], lepton[:, 2:3], eta, phi), axis=1)
    too_close |= np.any(_near(eta[:, first], phi[:, first], eta[:, second], phi[:, second]), axis=1)
    return (visible.sum(axis=1) >= 4) & ~too_close


def _transverse_sum(pt, phi) -> np.ndarray:
    """The vector sum (n, 2) of transverse momenta given as magnitudes and angles (n, k)."""
    cos, sin = kin.cos_sin(phi)
    return np.stack([(pt * cos).sum(axis=1), (pt * sin).sum(axis=1)], axis=1)


def _near(eta1, phi1, eta2, phi2) -> np.ndarray:
    """Whether ΔR = sqrt(Δη² + Δφ²) < SEPARATION, with Δφ the shorter way round (np.hypot is slow)."""
    dphi = np.abs(phi1 - phi2)
    dphi = np.minimum(dphi, 2 * np.pi - dphi)
    return (eta1 - eta2) ** 2 + dphi ** 2 < SEPARATION ** 2
