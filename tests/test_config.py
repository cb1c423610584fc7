"""Configuration: one set of defaults, strict overrides."""

import pytest

from looptrain.config import Config, parse_set
from looptrain.errors import InputError


def test_the_defaults_are_the_tutorials():
    config = Config()
    assert (config.n_validation, config.n_train, config.batch_size) == (1_000, 10_000, 500)
    assert (config.learning_rate, config.decay_epochs, config.patience, config.max_epochs) == (1e-3, 1000, 200, 10_000)
    # The training options are all off: the tutorial's plain float32 step.
    assert (config.precision, config.clip_global_norm, config.accumulate, config.weight_average) == ("float32", 0, 1, 0)


def test_set_parses_values_by_the_fields_type():
    assert parse_set(["patience=50", "learning_rate=3e-4", "min_delta=0"]) == {
        "patience": 50, "learning_rate": 3e-4, "min_delta": 0.0}
    config = Config().with_fields(parse_set(["min_delta=0"]))
    assert type(config.min_delta) is float


@pytest.mark.parametrize("assignment, message", [
    ("patiense=50", "unknown field 'patiense'"),
    ("patience=fifty", "expected int, got 'fifty'"),
    ("patience=1.5", "expected int, got '1.5'"),
    ("learning_rate=fast", "expected float"),
    ("patience", "FIELD=VALUE"),
])
def test_set_rejects_what_does_not_fit(assignment, message):
    with pytest.raises(InputError, match=message):
        parse_set([assignment])


@pytest.mark.parametrize("fields, message", [
    ({"batch_size": 0}, "'batch_size' must be positive"),
    ({"n_train": -5}, "'n_train' must be positive"),
    ({"patience": -1}, "'patience' must not be negative"),
    ({"patience": True}, "'patience' must be int"),
    ({"batch": 5}, "unknown field"),
    # The training options: a micro-batch must be whole rows, a momentum below 1, a norm not negative.
    ({"accumulate": 3}, r"'accumulate' \(3\) must divide batch_size \(500\)"),
    ({"accumulate": 0}, "'accumulate' must be positive"),
    ({"weight_average": 1.0}, "'weight_average' must be below 1"),
    ({"weight_average": -0.5}, "'weight_average' must not be negative"),
    ({"clip_global_norm": -1.0}, "'clip_global_norm' must not be negative"),
    ({"precision": "bfloat16"}, "'precision' must be one of float32, mixed_bfloat16, mixed_float16, got 'bfloat16'"),
])
def test_fields_are_checked(fields, message):
    with pytest.raises(InputError, match=message):
        Config().with_fields(fields)


def test_a_text_field_takes_only_its_words():
    assert Config().with_fields(parse_set(["loop=step"])).loop == "step"
    with pytest.raises(InputError, match="'loop' must be one of epoch, step, got 'steps'"):
        Config().with_fields(parse_set(["loop=steps"]))


def test_a_true_or_false_field_takes_the_usual_words_and_nothing_else():
    assert parse_set(["jit_compile=false"]) == {"jit_compile": False}
    assert parse_set(["jit_compile=On"]) == {"jit_compile": True}
    with pytest.raises(InputError, match="--set jit_compile: expected true or false, got 'maybe'"):
        parse_set(["jit_compile=maybe"])
    with pytest.raises(InputError, match="'jit_compile' must be bool, got 1"):
        Config(jit_compile=1)


def test_a_count_that_may_be_none_takes_the_word_none_and_counts_but_nothing_else():
    assert Config().n_test is None  # the data source's own test rows
    assert parse_set(["n_test=None", "n_train=2000"]) == {"n_test": None, "n_train": 2000}
    assert Config().with_fields(parse_set(["n_test=5_000"])).n_test == 5000
    for fields, message in [({"n_test": -1}, "'n_test' must not be negative, got -1"),
                            ({"n_test": True}, "'n_test' must be int or None, got True"),
                            ({"n_test": 10.0}, "'n_test' must be int or None, got 10.0")]:
        with pytest.raises(InputError, match=message):
            Config().with_fields(fields)
    with pytest.raises(InputError, match="--set patience: expected int, got 'none'"):
        parse_set(["patience=none"])  # only a field that may be None takes the word


def test_the_sizes_and_the_label_noise_are_fields_a_sweep_can_vary():
    from looptrain.runfolder.sweep import Sweep, parse_sweep

    assert (Config().units, Config().depth, Config().label_noise) == (None, None, 0.0)  # the experiment's own sizes
    assert parse_sweep("units=8,16,32") == Sweep("units", (8, 16, 32))
    assert parse_sweep("label_noise=0,0.2") == Sweep("label_noise", (0.0, 0.2))
    assert Config().with_fields(parse_set(["units=none", "label_noise=1"])) == Config(label_noise=1.0)
    for fields, message in [({"units": 0}, "'units' must be positive, got 0"),
                            ({"depth": 2.0}, "'depth' must be int or None, got 2.0"),
                            ({"label_noise": 1.01}, "'label_noise' must be a fraction from 0 to 1, got 1.01"),
                            ({"label_noise": -0.1}, "'label_noise' must be a fraction from 0 to 1, got -0.1")]:
        with pytest.raises(InputError, match=message):
            Config().with_fields(fields)


def test_a_size_for_an_experiment_whose_sizes_are_fixed_is_refused():
    from conftest import REPO
    from looptrain.experiment import load_experiment

    with pytest.raises(InputError, match=r"baseline.py: field 'units' is set, but its build_model\(\) takes no units"):
        load_experiment(REPO / "experiments" / "imdb" / "baseline.py", {"units": 8})
