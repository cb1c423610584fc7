"""The configuration of one run: every default in one frozen block, and the strict parsing of `--set`.

An experiment file states only the fields that differ from these defaults; the command line may
override any field with `--set FIELD=VALUE`. Unknown fields and values of the wrong type are
rejected loudly, never ignored. What is not here: where the data comes from (`--data`) and where
the outputs go (`--logdir`), which belong to one invocation, not to the experiment.
"""

import dataclasses
import math
import typing
from dataclasses import dataclass

from looptrain.errors import InputError


@dataclass(frozen=True)
class Config:
    # Data: the first `n_validation` rows of the file are held out, the next `n_train` train, and `n_test`
    # rows past them are the test rows, which only the finished run's weights see.
    dataset: str = "higgs"  # "higgs": HIGGS rows of 28 features; "imdb": reviews as multi-hot word vectors
    n_validation: int = 1_000  # the tutorial's N_VALIDATION
    n_train: int = 10_000  # the tutorial's N_TRAIN; small on purpose, so that big models overfit
    n_test: int | None = None  # rows scored once, at the end; None: the data source's own (docs/data.md), 0: none
    batch_size: int = 500  # 10,000 / 500 = 20 steps per epoch
    synthetic_seed: int = 0  # which synthetic rows or reviews `--data synthetic` makes (fixed, like a real file)
    # This fraction of the training rows' labels flipped (0 <-> 1), the rows drawn by `seed`; never a
    # validation or test row's. 0.5: the labels are random. Above 0 the history also tracks the clean
    # and the flipped training rows apart (docs/experiments.md, "Label noise").
    label_noise: float = 0.0
    # Optimization: Adam whose rate follows InverseTimeDecay(learning_rate, decay_epochs, 1).
    learning_rate: float = 1e-3  # the rate of the very first step
    decay_epochs: int = 1_000  # the rate halves after this many epochs and is a third after twice as many; 0: constant
    weight_decay: float = 0.0  # 0: Adam; above 0: AdamW, each step also shrinks every weight by rate × weight_decay × w
    # The model's output: "logits" (a linear last layer) or "probabilities" (a sigmoid). The loss's
    # `from_logits` and the accuracy's threshold (0 for logits, 0.5 for probabilities) follow it.
    outputs: str = "logits"
    # The hidden layers of an experiment whose build_model() takes them (the tutorial's MLPs): units a
    # layer and how many layers. None: the experiment's own, its build_model()'s defaults.
    units: int | None = None
    depth: int | None = None
    # Early stopping on the validation cross-entropy (the data loss, never the penalty).
    max_epochs: int = 10_000  # the tutorial's upper bound; early stopping ends most runs long before
    patience: int = 200  # epochs without improvement before stopping; generous, the curves are noisy
    min_delta: float = 0.0  # an improvement smaller than this does not count (Keras's default)
    # Reproducibility.
    seed: int = 0  # seeds Python, NumPy and TensorFlow: weights, shuffling and dropout
    # Outputs.
    histogram_every: int = 100  # each kernel's histogram goes to TensorBoard every this many epochs; 0: never
    checkpoint_every: int = 50  # a checkpoint to resume from every this many epochs, and at the end; 0: only at the end
    # Speed: "epoch" runs a whole epoch (its train steps and its validation) as one graph over the data
    # held in memory; "step" calls the train step once per batch from Python, as `fit` does.
    loop: str = "epoch"
    # XLA compiles the epoch's graph (loop="epoch" only) into a few fused kernels. It pays where a step
    # is many tiny operations (Tiny, Small) and where it fuses dropout's masks into the layers
    # (Dropout, Combined), which is why those turn it on (the IMDB experiments do too, to repeat
    # exactly: `reviews.TUTORIAL_FIELDS`); it hardly pays for Medium and Large. The compiler costs
    # memory while it compiles the first epoch (docs, performance page).
    jit_compile: bool = False
    # What a copied loop adds next, each Keras's own machinery met by the step (docs/training-options.md).
    # "float32"; "mixed_bfloat16": the hidden layers compute in bfloat16 while their weights stay
    # float32; "mixed_float16": float16, and the step scales the loss so that small gradients do not
    # vanish (Keras's LossScaleOptimizer). The output layer and the loss stay float32 in both.
    precision: str = "float32"
    clip_global_norm: float = 0.0  # above 0: each update's gradients scaled down to this global norm at most; 0: off
    # Micro-batches per update: each train step takes batch_size / accumulate rows, and the optimizer
    # applies the mean of `accumulate` steps' gradients, one update of batch_size rows. 1: off.
    accumulate: int = 1
    # Above 0: Keras keeps an exponential moving average of the weights with this momentum (0.99: about
    # the last hundred updates), which the validation, the best weights and best.weights.h5 use. 0: off.
    weight_average: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type is float and type(value) is int:
                object.__setattr__(self, field.name, float(value))  # `1` is a fine float; store it as one
            # `type(...) in` and not isinstance: bool is a subclass of int, and True is no count.
            elif type(value) not in kinds(field.type):
                raise InputError(f"field {field.name!r} must be {type_name(field.type)}, got {value!r}")
            # float("nan") and float("inf") parse, but no rate, delta or decay can be either.
            if field.type is float and not math.isfinite(getattr(self, field.name)):
                raise InputError(f"field {field.name!r} must be a finite number, got {value!r}")
        for name in ("n_validation", "n_train", "batch_size", "max_epochs", "accumulate", "units", "depth"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise InputError(f"field {name!r} must be positive, got {getattr(self, name)}")
        for name in ("n_test", "patience", "min_delta", "learning_rate", "decay_epochs", "weight_decay",
                     "histogram_every", "checkpoint_every", "clip_global_norm", "weight_average"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise InputError(f"field {name!r} must not be negative, got {getattr(self, name)}")
        if self.n_train < self.batch_size:  # said here, before a data file is blamed for having too few rows
            raise InputError(f"field 'n_train' ({self.n_train}) must be at least one batch, batch_size "
                             f"({self.batch_size}): an epoch trains on whole batches")
        if self.batch_size % self.accumulate:
            raise InputError(f"field 'accumulate' ({self.accumulate}) must divide batch_size ({self.batch_size}): "
                             f"an update is that many micro-batches of equal size")
        if not 0 <= self.label_noise <= 1:
            raise InputError(f"field 'label_noise' must be a fraction from 0 to 1, got {self.label_noise}")
        if self.weight_average >= 1:
            raise InputError(f"field 'weight_average' must be below 1 (a momentum; 0 is off), got {self.weight_average}")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"field {name!r} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")

    def with_fields(self, fields: dict) -> "Config":
        """A copy with `fields` replaced, each checked against the defaults' names and types."""
        unknown = sorted(set(fields) - set(FIELD_TYPES))
        if unknown:
            raise InputError(f"unknown field(s) {', '.join(unknown)}; known fields: {', '.join(FIELD_TYPES)}")
        return dataclasses.replace(self, **fields)


FIELD_TYPES = {field.name: field.type for field in dataclasses.fields(Config)}


def kinds(field_type) -> tuple:
    """The types a field's value may have: `(int,)` for `int`, `(int, NoneType)` for `int | None`."""
    return typing.get_args(field_type) or (field_type,)


def type_name(field_type) -> str:
    return " or ".join("None" if kind is type(None) else kind.__name__ for kind in kinds(field_type))
# The text fields, and the words each may be.
BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "on": True,
                 "false": False, "0": False, "no": False, "off": False}
CHOICES = {"loop": ("epoch", "step"), "dataset": ("higgs", "imdb"), "outputs": ("logits", "probabilities"),
           "precision": ("float32", "mixed_bfloat16", "mixed_float16")}


def parse_set(assignments: list[str]) -> dict:
    """Turn `["patience=50", "learning_rate=3e-4"]` into typed values, refusing what does not fit."""
    fields = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name:
            raise InputError(f"--set expects FIELD=VALUE, got {assignment!r}")
        if name not in FIELD_TYPES:
            raise InputError(f"--set: unknown field {name!r}; known fields: {', '.join(FIELD_TYPES)}")
        fields[name] = parse_value(name, text, "--set")
    return fields


def parse_value(name: str, text: str, option: str):
    """`text` as a value of field `name`, typed as its default is; `option` names the flag in the error.
    A field that may be None takes the word `none`, in any case."""
    if type(None) in kinds(FIELD_TYPES[name]) and text.strip().lower() == "none":
        return None
    kind = kinds(FIELD_TYPES[name])[0]
    if kind is bool:
        if text.lower() not in BOOLEAN_WORDS:
            raise InputError(f"{option} {name}: expected true or false, got {text!r}")
        return BOOLEAN_WORDS[text.lower()]
    try:
        return text if kind is str else int(text.replace("_", "")) if kind is int else float(text)
    except ValueError:
        raise InputError(f"{option} {name}: expected {kind.__name__}, got {text!r}") from None
