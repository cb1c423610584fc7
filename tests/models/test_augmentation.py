"""The detector's symmetries as augmentation: angles wrapped by hand, the columns that must not move
checked bit for bit, the draws counted, and a resumed run against one that never stopped."""

import gzip

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, write_rows
from looptrain.data import columns
from looptrain.data.simulation import synthetic
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.models.augmentation import RandomSymmetry, transform, wrap
from looptrain.runfolder.history import read_weights
from looptrain.train import train

FEATURES = list(columns.COLUMNS[1:])
# Named here, not derived the way the layer derives them, so that a wrong column there fails here.
PHI = [FEATURES.index(name) for name in
       ("lepton_phi", "missing_energy_phi", "jet1_phi", "jet2_phi", "jet3_phi", "jet4_phi")]
ETA = [FEATURES.index(name) for name in ("lepton_eta", "jet1_eta", "jet2_eta", "jet3_eta", "jet4_eta")]
UNMOVED = [index for index in range(len(FEATURES)) if index not in PHI + ETA]
# Half a turn and a whole turn in HIGGS's scaled units, as float32: the range the layer works in.
HALF, TURN = np.float32(columns.PHI_MAX), np.float32(2 * columns.PHI_MAX)


def synthetic_rows(count, seed=2):
    """Synthetic rows' features, float32 as the loader gives them: the angles uniform on the range."""
    return synthetic.generate(count, seed=seed)[:, 1:].astype(np.float32)


@pytest.fixture(params=["synthetic", "real"])
def features(request):
    """4,000 rows' features, from the synthetic generator and from the real sample (skipped without it)."""
    if request.param == "synthetic":
        return synthetic_rows(4_000)
    with gzip.open(request.getfixturevalue("higgs_sample"), "rt") as lines:
        return np.loadtxt(lines, delimiter=",", max_rows=4_000, dtype=np.float32)[:, 1:]


def circular(difference):
    """An angle difference in float64 brought onto [-HALF, HALF), by numpy."""
    return (np.asarray(difference, np.float64) + HALF) % float(TURN) - HALF


def sigmas(observed, expected, count):
    """How many binomial standard deviations `observed` (a fraction of `count` draws) is from `expected`."""
    return abs(observed - expected) / np.sqrt(expected * (1 - expected) / count)


def test_the_columns_are_the_six_angles_the_five_pseudorapidities_and_seventeen_others():
    assert len(UNMOVED) == 17
    assert [FEATURES[index] for index in UNMOVED] == [
        "lepton_pt", "missing_energy", "jet1_pt", "jet1_btag", "jet2_pt", "jet2_btag", "jet3_pt", "jet3_btag",
        "jet4_pt", "jet4_btag", "m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]


def test_wrap_takes_a_half_turn_either_way_to_minus_half_a_turn_and_a_whole_turn_to_zero():
    multiples = np.array([-TURN, -HALF, 0, HALF, TURN], np.float32)
    np.testing.assert_array_equal(wrap(tf.constant(multiples)).numpy(), [0, -HALF, 0, -HALF, 0])
    # Just inside the range, an angle stays where it is.
    inside = np.array([np.nextafter(HALF, 0), np.nextafter(-HALF, 0), -HALF], np.float32)
    np.testing.assert_array_equal(wrap(tf.constant(inside)).numpy(), inside)


def test_wrap_moves_every_angle_within_a_turn_onto_the_range_by_zero_or_one_whole_turn():
    angles = np.linspace(-TURN, TURN, 100_001, dtype=np.float32)
    wrapped = wrap(tf.constant(angles)).numpy()
    assert wrapped.min() >= -HALF and wrapped.max() < HALF
    # Exactly a whole turn or nothing: the subtraction rounds nothing away.
    moved = wrapped.astype(np.float64) - angles.astype(np.float64)
    assert set(np.unique(moved)) <= {0.0, float(TURN), -float(TURN)}
    np.testing.assert_allclose(wrapped, circular(angles), atol=1e-6)


def test_a_rotation_moves_every_angle_by_the_same_amount_and_a_reflection_negates_them():
    features = synthetic_rows(1_000)
    no = np.zeros((len(features), 1), bool)
    # The last three: half a turn either way, a whole one.
    for angle in (0.3, -1.2, columns.PHI_MAX, -columns.PHI_MAX, 2 * columns.PHI_MAX):
        turned = transform(features, tf.fill([len(features), 1], np.float32(angle)), no, no).numpy()
        np.testing.assert_allclose(circular(turned[:, PHI] - features[:, PHI] - np.float32(angle)), 0, atol=2e-6)
        assert turned[:, PHI].min() >= -HALF and turned[:, PHI].max() < HALF
    mirrored = transform(features, tf.zeros([len(features), 1]), ~no, no).numpy()
    np.testing.assert_array_equal(mirrored[:, PHI], np.where(features[:, PHI] == -HALF,
                                                             features[:, PHI], -features[:, PHI]))
    np.testing.assert_array_equal(mirrored[:, ETA], features[:, ETA])
    flipped = transform(features, tf.zeros([len(features), 1]), no, ~no).numpy()
    np.testing.assert_array_equal(flipped[:, ETA], -features[:, ETA])
    np.testing.assert_array_equal(flipped[:, PHI], features[:, PHI])


def test_in_training_each_row_is_one_symmetry_of_itself_and_nothing_else_moves(features):
    moved = RandomSymmetry(seed=1)(features, training=True).numpy()
    np.testing.assert_array_equal(moved[:, UNMOVED], features[:, UNMOVED])  # momenta, b-tags, masses

    # The pseudorapidities all flip, or none does.
    flipped = moved[:, ETA] == -features[:, ETA]
    kept = moved[:, ETA] == features[:, ETA]
    assert np.all(flipped.all(axis=1) | kept.all(axis=1))
    assert sigmas(flipped.all(axis=1).mean(), 0.5, len(features)) < 5

    # The angles between the objects are kept, or all negated by a reflection: then the objects'
    # angles from the lepton are kept or negated alike.
    before = circular(features[:, PHI[1:]] - features[:, PHI[:1]])
    after = circular(moved[:, PHI[1:]] - moved[:, PHI[:1]])
    same = np.isclose(circular(after - before), 0, atol=1e-5).all(axis=1)
    mirrored = np.isclose(circular(after + before), 0, atol=1e-5).all(axis=1)
    assert np.all(same | mirrored)
    assert sigmas(mirrored.mean(), 0.5, len(features)) < 5

    # And the common rotation is uniform over the circle: ten equal arcs get a tenth of the rows each.
    sign = np.where(mirrored, -1, 1)
    angle = circular(moved[:, PHI[0]] - sign * features[:, PHI[0]])
    counts = np.histogram(angle, bins=10, range=(-HALF, HALF))[0]
    assert max(sigmas(count / len(features), 0.1, len(features)) for count in counts) < 5
    assert moved[:, PHI].min() >= -HALF and moved[:, PHI].max() < HALF


def test_without_training_it_is_the_identity(features):
    layer = RandomSymmetry(seed=1)
    np.testing.assert_array_equal(layer(features).numpy(), features)
    np.testing.assert_array_equal(layer(features, training=False).numpy(), features)


def test_a_seed_gives_the_same_symmetries_with_or_without_xla_and_each_call_fresh_ones():
    features = tf.constant(synthetic_rows(500))
    first, again = RandomSymmetry(seed=7), RandomSymmetry(seed=7)
    one, two = first(features, training=True).numpy(), first(features, training=True).numpy()
    assert not np.array_equal(one, two)
    np.testing.assert_array_equal(again(features, training=True).numpy(), one)
    compiled = tf.function(lambda rows: again(rows, training=True), jit_compile=True)
    np.testing.assert_array_equal(compiled(features).numpy(), two)


def test_the_random_state_is_a_model_variable_a_checkpoint_can_hold():
    layer = RandomSymmetry(seed=3)
    model = keras.Sequential([keras.Input((len(FEATURES),)), layer])
    assert any(variable is layer.seed_generator.state for variable in model.variables)
    assert not any(variable is layer.seed_generator.state for variable in model.weights)
    before = layer.seed_generator.state.numpy().copy()
    layer(tf.zeros((2, len(FEATURES))), training=True)
    assert not np.array_equal(layer.seed_generator.state.numpy(), before)  # each call moves it on


SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "checkpoint_every": 2, "seed": 3}


def run(data_path, run_dir, max_epochs, loop, jit_compile, resume=False):
    experiment = load_experiment(REPO / "experiments" / "symmetries.py",
                                 {**SHRUNK, "max_epochs": max_epochs, "loop": loop, "jit_compile": jit_compile})
    history = train(experiment, data_path, run_dir, DotsReporter(), resume=resume)
    return [{name: value for name, value in epoch.items() if name != "seconds"} for epoch in history.epochs]


@pytest.mark.parametrize("loop, jit_compile", [("epoch", False), ("epoch", True), ("step", False)],
                         ids=["epoch", "epoch-xla", "step"])
def test_a_resumed_run_draws_the_symmetries_the_uninterrupted_one_draws(tmp_path, loop, jit_compile):
    data_path = write_rows(tmp_path / "rows.csv.gz", synthetic.generate(500, seed=4).astype("float32"))
    straight = run(data_path, tmp_path / "straight", 6, loop, jit_compile)
    run(data_path, tmp_path / "resumed", 3, loop, jit_compile)
    resumed = run(data_path, tmp_path / "resumed", 6, loop, jit_compile, resume=True)
    assert resumed == straight  # every number of every epoch
    for name, values in read_weights(tmp_path / "straight" / "best.weights.h5").items():
        np.testing.assert_array_equal(read_weights(tmp_path / "resumed" / "best.weights.h5")[name], values)
