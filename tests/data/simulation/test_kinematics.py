"""Four-vector arithmetic checked against cases worked out by hand, and against the conservation laws."""

import numpy as np
import pytest

from looptrain.data.simulation import kinematics as kin


def test_a_massless_vector_reads_back_its_pt_eta_and_phi():
    # pT 3 at η = asinh(4/3) has pz = 4 and |p| = 5 = E; at φ = π/2 it points along y.
    p = kin.massless(3.0, np.arcsinh(4 / 3), np.pi / 2)
    np.testing.assert_allclose(p, [5.0, 0.0, 3.0, 4.0], atol=1e-6)  # cos and sin are float32-accurate
    assert kin.transverse_momentum(p) == pytest.approx(3.0)
    assert kin.pseudorapidity(p) == pytest.approx(np.arcsinh(4 / 3))
    assert kin.azimuth(p) == pytest.approx(np.pi / 2, abs=1e-6)
    assert kin.mass(p) == pytest.approx(0.0, abs=1e-3)
    assert kin.pseudorapidity(np.zeros(4)) == 0.0  # an absent jet, not a NaN


def test_two_back_to_back_photons_weigh_twice_their_energy():
    # Two massless particles of energy 5 flying apart along x: m² = (5 + 5)² - 0.
    pair = kin.massless(5.0, 0.0, 0.0) + kin.massless(5.0, 0.0, np.pi)
    assert kin.mass(pair) == pytest.approx(10.0, abs=1e-4)


def test_boosting_a_particle_at_rest_gives_it_the_velocity():
    # Mass 2 at rest, boosted to β = 0.6 along z: γ = 1.25, E = 2.5, pz = γβm = 1.5.
    moving = kin.boost(np.array([[2.0, 0.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.6]]))
    np.testing.assert_allclose(moving, [[2.5, 0.0, 0.0, 1.5]])
    # Back again with the opposite velocity, and no boost at all is the identity.
    np.testing.assert_allclose(kin.boost(moving, np.array([[0.0, 0.0, -0.6]])), [[2.0, 0.0, 0.0, 0.0]], atol=1e-12)
    p = np.array([[7.0, 1.0, 2.0, 3.0]])
    np.testing.assert_allclose(kin.boost(p, np.zeros((1, 3))), p)


def test_a_decay_conserves_four_momentum_and_gives_the_daughters_their_masses():
    rng = np.random.default_rng(0)
    parent = np.column_stack([np.full(1000, 600.0), rng.normal(0, 100, (1000, 3))])
    first, second = kin.two_body_decay(rng, parent, 80.4, 173.0)
    np.testing.assert_allclose(first + second, parent)
    np.testing.assert_allclose(kin.mass(first), 80.4, rtol=1e-9)
    np.testing.assert_allclose(kin.mass(second), 173.0, rtol=1e-7)
    # In the parent's frame the daughters fly apart with the two-body momentum
    # p* = sqrt((M² - (m1 + m2)²)(M² - (m1 - m2)²)) / 2M.
    m = kin.mass(parent)
    expected = np.sqrt((m ** 2 - 253.4 ** 2) * (m ** 2 - 92.6 ** 2)) / (2 * m)
    at_rest = kin.boost(first, -parent[:, 1:] / parent[:, :1])
    np.testing.assert_allclose(np.linalg.norm(at_rest[:, 1:], axis=1), expected, rtol=1e-7)


def test_a_decay_along_an_axis_sends_the_first_daughter_at_the_angle_asked():
    rng = np.random.default_rng(1)
    parent = np.column_stack([np.full(500, 300.0), rng.normal(0, 50, (500, 3))])
    axis = rng.normal(0, 1, (500, 3))
    axis[0] = [1.0, 0.0, 0.0]  # along x, where the frame's helper switches to y
    cos_theta = rng.uniform(-1, 1, 500)
    first, _ = kin.two_body_decay(rng, parent, 0.0, 0.0, cos_theta=cos_theta, axis=axis)
    at_rest = kin.boost(first, -parent[:, 1:] / parent[:, :1])[:, 1:]
    measured = np.sum(at_rest * axis, axis=1) / np.linalg.norm(at_rest, axis=1) / np.linalg.norm(axis, axis=1)
    np.testing.assert_allclose(measured, cos_theta, atol=1e-6)


def test_breit_wigner_masses_stay_in_their_window_and_centre_on_the_peak():
    rng = np.random.default_rng(2)
    masses = kin.breit_wigner(rng, 100_000, 80.4, 2.1, 60.4, 100.4)
    assert masses.min() >= 60.4 and masses.max() <= 100.4
    # A Breit-Wigner is uniform in θ = arctan(2(m - centre)/width); cut to the window it is uniform
    # over ±θ₀, θ₀ = arctan(2·20/2.1), so the median is the centre and the quartiles sit at θ₀/2:
    # the interquartile range is width · tan(θ₀/2), 1.99 GeV (2.1 for the whole curve).
    assert np.median(masses) == pytest.approx(80.4, abs=0.02)
    expected = 2.1 * np.tan(np.arctan(2 * 20 / 2.1) / 2)
    assert np.percentile(masses, 75) - np.percentile(masses, 25) == pytest.approx(expected, rel=0.02)


def test_the_neutrino_pz_gives_the_w_mass_or_the_lepton_eta():
    # Lepton of pT 40 at η 0.5, neutrino pT 30: back to back their transverse mass is
    # sqrt(2·40·30·2) = 69.3 < 80.4, so two solutions, both making m(lepton, neutrino) = 80.4.
    lepton = kin.massless(np.array([40.0, 40.0]), 0.5, 0.0)
    met_x, met_y = np.array([-30.0, -60.0]), np.array([0.0, 0.0])
    first, second = kin.neutrino_pz(lepton, met_x, met_y, 80.4)
    for pz in (first[0], second[0]):
        neutrino = np.array([np.hypot(30.0, pz), -30.0, 0.0, pz])
        assert kin.mass(lepton[0] + neutrino) == pytest.approx(80.4, rel=1e-9)
    assert first[0] != second[0]
    # A neutrino pT of 60 gives sqrt(2·40·60·2) = 98.0 > 80.4: no solution, so the pz that gives the
    # neutrino the lepton's η (pz = 60 sinh 0.5), which makes their mass the transverse mass.
    assert first[1] == second[1] == pytest.approx(60.0 * np.sinh(0.5), rel=1e-6)
    neutrino = kin.massless(60.0, 0.5, np.pi)
    assert kin.mass(lepton[1] + neutrino) == pytest.approx(np.sqrt(2 * 40 * 60 * 2), rel=1e-6)
