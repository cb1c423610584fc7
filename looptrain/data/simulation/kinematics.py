"""Four-vector arithmetic for the synthetic HIGGS events, with numpy only.

A four-vector is an array whose last axis holds (E, px, py, pz) in GeV; every function takes arrays
of any leading shape, so that one call handles a whole chunk of events. What is here: massless
vectors from (pT, η, φ) and those read back, invariant masses, Lorentz boosts, the decay of a moving
particle into two, Breit-Wigner masses, and the neutrino's longitudinal momentum from the W mass.
What is not: any process or detector (`looptrain.data.simulation.synthetic`), or HIGGS's features
(`looptrain.data.simulation.reconstruction`).
"""

import numpy as np


def massless(pt, eta, phi) -> np.ndarray:
    """The four-vector of a massless particle (a jet, a lepton, a neutrino) of the given pT, η and φ."""
    pt, eta, phi = np.broadcast_arrays(pt, eta, phi)
    cos, sin = cos_sin(phi)
    return np.stack([pt * np.cosh(eta), pt * cos, pt * sin, pt * np.sinh(eta)], axis=-1)


def cos_sin(angle) -> tuple:
    """cos and sin of an array of angles, worked out in float32 (faster than numpy's float64 versions:
    docs/synthetic.md, "Speed") and returned as float64, rescaled so that cos² + sin² = 1 to float64
    precision: the angle is then off by 2e-7 at most, far below any resolution here, but a massless
    vector stays massless and a decay gives its daughters their masses exactly."""
    angle = np.asarray(angle, dtype=np.float32)
    cos, sin = np.cos(angle).astype(np.float64), np.sin(angle).astype(np.float64)
    norm = np.sqrt(cos * cos + sin * sin)
    return cos / norm, sin / norm


def transverse_momentum(p: np.ndarray) -> np.ndarray:
    return np.sqrt(p[..., 1] ** 2 + p[..., 2] ** 2)  # np.hypot is slower (docs/synthetic.md, "Speed")


def pseudorapidity(p: np.ndarray) -> np.ndarray:
    # A vector with no transverse momentum (an absent jet is all zeros) reads as η = 0, not a NaN.
    return np.arcsinh(p[..., 3] / np.maximum(transverse_momentum(p), 1e-12))


def azimuth(p: np.ndarray) -> np.ndarray:
    """φ in (-π, π]."""
    return np.arctan2(p[..., 2], p[..., 1])


def mass(p: np.ndarray) -> np.ndarray:
    """The invariant mass; rounding can make E² - p² of a massless vector a hair negative, read as 0."""
    squared = p[..., 0] * p[..., 0] - p[..., 1] * p[..., 1] - p[..., 2] * p[..., 2] - p[..., 3] * p[..., 3]
    return np.sqrt(np.maximum(squared, 0.0))


def boost(p: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """The vectors p as seen from a frame moving at -velocity (a vector in units of c, last axis 3):
    a particle at rest in a parent's frame, boosted by the parent's velocity, moves with the parent.
    Written component by component: numpy sums over a last axis of 3 slowly."""
    bx, by, bz = velocity[..., 0], velocity[..., 1], velocity[..., 2]
    gamma = 1.0 / np.sqrt(1.0 - (bx * bx + by * by + bz * bz))
    along = bx * p[..., 1] + by * p[..., 2] + bz * p[..., 3]  # β·p
    # (γ - 1)/β² is γ²/(γ + 1), which stays finite at β = 0.
    common = gamma * gamma / (gamma + 1.0) * along + gamma * p[..., 0]
    return np.stack([gamma * (p[..., 0] + along), p[..., 1] + common * bx, p[..., 2] + common * by,
                     p[..., 3] + common * bz], axis=-1)


def two_body_decay(rng: np.random.Generator, parent: np.ndarray, mass1, mass2, cos_theta=None, axis=None) -> tuple:
    """The daughters of moving parents (n, 4) decaying into masses mass1 and mass2, back to back in
    the parent's rest frame: the first at polar angle cos_theta (uniform, that is isotropic, if not
    given) from `axis` (n, 3; the z axis if not given) there, at a uniform azimuth about it."""
    n = len(parent)
    m = mass(parent)
    momentum = np.sqrt(np.maximum((m ** 2 - (mass1 + mass2) ** 2) * (m ** 2 - (mass1 - mass2) ** 2), 0.0)) / (2 * m)
    cos_theta = rng.uniform(-1.0, 1.0, n) if cos_theta is None else cos_theta
    cos_phi, sin_phi = cos_sin(rng.uniform(-np.pi, np.pi, n))
    sin_theta = np.sqrt(1.0 - cos_theta ** 2)
    direction = np.stack([sin_theta * cos_phi, sin_theta * sin_phi, cos_theta], axis=-1)
    if axis is not None:
        direction = _rotated_from_z(direction, axis)
    at_rest = np.concatenate([np.sqrt(momentum ** 2 + mass1 ** 2)[:, None], momentum[:, None] * direction], axis=-1)
    first = boost(at_rest, parent[:, 1:] / parent[:, :1])
    return first, parent - first  # the second daughter carries the rest of the parent's four-momentum


def _rotated_from_z(direction: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Unit vectors given about the z axis, turned so that z becomes `axis` (any length): expressed
    in an orthonormal frame (u, v, w) with w along the axis, u = x × w normalized (y × w where the
    axis lies near x) and v = w × u. Written out by component: np.cross is slow on short vectors."""
    wx, wy, wz = (axis / np.sqrt(np.sum(axis ** 2, axis=-1, keepdims=True))).T
    near_x = np.abs(wx) > 0.9
    ux, uy, uz = np.where(near_x, wz, 0.0), np.where(near_x, 0.0, -wz), np.where(near_x, -wx, wy)
    norm = np.sqrt(ux ** 2 + uy ** 2 + uz ** 2)
    ux, uy, uz = ux / norm, uy / norm, uz / norm
    vx, vy, vz = wy * uz - wz * uy, wz * ux - wx * uz, wx * uy - wy * ux
    a, b, c = direction.T
    return np.stack([a * ux + b * vx + c * wx, a * uy + b * vy + c * wy, a * uz + b * vz + c * wz], axis=-1)


def breit_wigner(rng: np.random.Generator, n: int, centre: float, width: float, low, high) -> np.ndarray:
    """n masses from a Breit-Wigner (Cauchy) distribution of the given centre and full width, kept
    within [low, high] (numbers, or arrays of n) by drawing from the inverse CDF over that range only."""
    start, end = (np.arctan(2.0 * (np.asarray(edge) - centre) / width) for edge in (low, high))
    return centre + width / 2.0 * np.tan(rng.uniform(start, end, n))


def neutrino_pz(lepton: np.ndarray, met_x, met_y, w_mass: float) -> tuple:
    """The two longitudinal momenta of a massless neutrino of transverse momentum (met_x, met_y) that
    make the lepton and the neutrino weigh w_mass, as a pair of arrays.

    Where no real solution exists (the transverse mass of lepton and neutrino exceeds w_mass, which
    detector smearing makes common), both are the pz that gives the neutrino the lepton's η: the one
    that makes their mass smallest, equal to the transverse mass."""
    lepton_pt2 = lepton[..., 1] ** 2 + lepton[..., 2] ** 2
    met = np.sqrt(met_x ** 2 + met_y ** 2)
    mu = w_mass ** 2 / 2.0 + lepton[..., 1] * met_x + lepton[..., 2] * met_y
    discriminant = mu ** 2 - lepton_pt2 * met ** 2
    centre = mu * lepton[..., 3] / lepton_pt2
    half_gap = lepton[..., 0] * np.sqrt(np.maximum(discriminant, 0.0)) / lepton_pt2
    same_eta = met * lepton[..., 3] / np.sqrt(lepton_pt2)
    real = discriminant >= 0
    return np.where(real, centre + half_gap, same_eta), np.where(real, centre - half_gap, same_eta)
