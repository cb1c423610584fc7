"""Loading an experiment file: a short Python module that says what differs from the defaults.

An experiment file holds a docstring (what it shows, the command, what to expect), an optional
`fields` dict of the configuration fields that differ from `Config`'s defaults, and a
`build_model()` function. A build_model() that takes `units` and `depth` (the tutorial's MLPs,
`def build_model(units=512, depth=4)`) states the experiment's own sizes as their defaults, and the
fields of those names, when set, are handed to it. It never holds a loop. Its name is its file's stem, title-cased
("l2.py" is "L2"). Any problem with the file is an `InputError` naming the file.
"""

import functools
import importlib.util
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from looptrain.config import Config
from looptrain.errors import InputError

if TYPE_CHECKING:  # for the type only: importing Keras would start TensorFlow in whatever reads an experiment
    import keras


@dataclass(frozen=True)
class Experiment:
    name: str  # for plots and tables: "Combined"
    path: Path
    description: str  # the docstring's first line
    config: Config  # the defaults with the file's `fields` applied
    build_model: Callable[[], "keras.Model"]  # a fresh model per call


def load_experiment(path: str | Path, overrides: dict | None = None) -> Experiment:
    """Import the file and resolve its configuration: defaults, then its `fields`, then `overrides`
    (the command line's `--set`, `--seed`, `--max-epochs`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"experiment file {path} does not exist")
    if path.suffix != ".py":
        raise InputError(f"experiment file {path} is not a .py file")
    spec = importlib.util.spec_from_file_location(f"looptrain_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise InputError(f"experiment file {path} has a syntax error on line {error.lineno}: {error.msg}") from None
    except Exception as error:
        raise InputError(f"experiment file {path} failed to load: {type(error).__name__}: {error}") from None
    if not callable(getattr(module, "build_model", None)):
        raise InputError(f"experiment file {path} defines no build_model() function")
    fields = getattr(module, "fields", {})
    if not isinstance(fields, dict):
        raise InputError(f"experiment file {path}: `fields` must be a dict, got {type(fields).__name__}")
    try:
        config = Config().with_fields(fields)
    except InputError as error:
        raise InputError(f"experiment file {path}: {error}") from None
    config = config.with_fields(overrides or {})
    docstring = (module.__doc__ or "").strip().splitlines()
    name = path.stem.replace("_", " ").capitalize()  # noisy_labels.py is "Noisy labels", l2.py "L2"
    return Experiment(name=name, path=path, description=docstring[0] if docstring else name, config=config,
                      build_model=with_sizes(module.build_model, config, path))


def with_sizes(build_model: Callable, config: Config, path: Path) -> Callable:
    """`build_model` with the `units` and `depth` the configuration sets (those left None stay the
    function's own defaults); a size set for a build_model() that takes none is an `InputError`."""
    sizes = {name: getattr(config, name) for name in ("units", "depth") if getattr(config, name) is not None}
    taken = inspect.signature(build_model).parameters
    for name in sizes:
        if name not in taken:
            raise InputError(f"experiment file {path}: field {name!r} is set, but its build_model() takes no "
                             f"{name}: its sizes are fixed")
    return functools.partial(build_model, **sizes) if sizes else build_model


def check_model(experiment: Experiment) -> None:
    """Build the experiment's model once and feed it two rows of zeros as wide as its data: a model
    that cannot train on the data (another input width, more than one output, no model at all) is an
    `InputError` naming the file, before anything trains, rather than a traceback from inside the
    traced step."""
    import keras  # here, not above: reading an experiment's configuration needs no TensorFlow
    import numpy as np

    from looptrain.data.columns import N_FEATURES
    from looptrain.data.reviews import NUM_WORDS
    from looptrain.loop.precision import build_model

    width, what = (NUM_WORDS, "word flags") if experiment.config.dataset == "imdb" else (N_FEATURES, "features")
    where = f"experiment file {experiment.path}: build_model()"
    try:
        model = build_model(experiment.build_model, experiment.config.precision)  # in the run's precision
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    except Exception as error:
        raise InputError(f"{where} failed: {type(error).__name__}: {first_line(error)}") from None
    if not isinstance(model, keras.Model):
        raise InputError(f"{where} returned {type(model).__name__}, not a Keras model")
    try:
        outputs = model(np.zeros((2, width), "float32"), training=False)
    except Exception as error:
        raise InputError(f"{where}'s model cannot take the data's {width} {what}: {first_line(error)}") from None
    shape = tuple(outputs.shape) if hasattr(outputs, "shape") else type(outputs).__name__
    if shape != (2, 1):
        raise InputError(f"{where}'s model gives {shape} for 2 rows of {what}; the loss needs one number a row, (2, 1)")

def first_line(error: Exception) -> str:
    """The first line of an error's message that says what went wrong: Keras's messages are long, and
    open with a heading ("Exception encountered when calling Sequential.call().") that does not."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(error))  # Keras sets a word in bold for terminals
    lines = [line.strip() for line in message.splitlines()
             if line.strip() and not line.startswith("Exception encountered when calling")]
    return lines[0] if lines else type(error).__name__
