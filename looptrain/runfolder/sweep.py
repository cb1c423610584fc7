"""A sweep: one experiment run once per value of one configuration field, each run in a folder of its own.

    python -m looptrain.run experiments/tiny.py --sweep seed=0,1,2,3,4
    python -m looptrain.run experiments/medium.py --sweep n_train=1000,10000,100000

The experiment's folder (`runs/tiny/`) then holds `sweep.json` (the experiment, the field, its values,
and which points are done) and a run folder per point, named FIELD=VALUE (`runs/tiny/seed=3/`), each
a full run with all its files. A sweep over seeds measures how much a result owes to chance; a sweep
over another field draws a result against that field (over `n_train`, a learning curve). What is
here: reading `--sweep`, naming the points, and the sweep's record on disk. What is not: running the
points (`run`) and what their results say together (`aggregate`). Nothing here imports TensorFlow.
"""

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from looptrain.config import FIELD_TYPES, parse_value
from looptrain.errors import InputError
from looptrain.runfolder.files import write_whole
from looptrain.runfolder.history import Run, read_run
from looptrain.runfolder.ownership import SWEEP_FILE

# The fields a sweep may not vary, and why: each must agree with the experiment's own model.
FIXED_FIELDS = {
    "dataset": "the experiment's model is built for its data set",
    "outputs": "the experiment's model decides whether it ends in logits or probabilities",
}
# The fields whose values are sizes: their pictures take a logarithmic axis.
SIZES = {"n_train", "n_validation", "batch_size"}


@dataclass(frozen=True)
class Sweep:
    field: str
    values: tuple  # typed as the field is, in the order given

    def label(self, value) -> str:
        """The point's name, and its folder's: "seed=3", "learning_rate=0.0003", "jit_compile=true"."""
        return f"{self.field}={str(value).lower() if isinstance(value, bool) else value}"

    def __str__(self) -> str:
        return f"{self.field}=" + ",".join(self.label(value).partition("=")[2] for value in self.values)


def parse_sweep(text: str) -> Sweep:
    """`seed=0,1,2,3,4` → Sweep("seed", (0, 1, 2, 3, 4)), each value typed by `--set`'s rules; an unknown
    or fixed field, an empty, mistyped or repeated value is an `InputError`."""
    field, sep, values = text.partition("=")
    if not sep or not field:
        raise InputError(f"--sweep expects FIELD=VALUE,VALUE,..., got {text!r}")
    if field not in FIELD_TYPES:
        raise InputError(f"--sweep: unknown field {field!r}; known fields: {', '.join(FIELD_TYPES)}")
    if field in FIXED_FIELDS:
        raise InputError(f"--sweep {field}: a sweep cannot vary it: {FIXED_FIELDS[field]}")
    texts = values.split(",")
    if "" in (text.strip() for text in texts):
        raise InputError(f"--sweep {field}: an empty value in {values!r}")
    typed = [parse_value(field, text.strip(), "--sweep") for text in texts]
    for index, value in enumerate(typed):
        if value in typed[:index]:
            raise InputError(f"--sweep {field}: the value {texts[index].strip()} is given twice")
    return Sweep(field, tuple(typed))


def point_folder(folder: Path, sweep: Sweep, value) -> Path:
    return folder / sweep.label(value)


def point_name(experiment_name: str, sweep: Sweep, value) -> str:
    """A sweep's point's run name: its experiment's and its label, "Noisy labels seed=3"."""
    return f"{experiment_name} {sweep.label(value)}"


def experiment_of(name: str) -> str:
    """The experiment's name in a run's, `point_name` undone: "Noisy labels seed=3" → "Noisy labels";
    a run that is no sweep's point keeps its whole name."""
    experiment, _, label = name.rpartition(" ")
    return experiment if experiment and "=" in label else name


def write_record(folder: Path, experiment, sweep: Sweep, done: list) -> None:
    """sweep.json: what the sweep is (the experiment, its configuration without the swept field's
    values, the field and its values) and which of its points are done; written whole."""
    record = {"experiment": experiment.name, "experiment_file": str(experiment.path), "field": sweep.field,
              "values": list(sweep.values), "done": [value for value in sweep.values if value in done],
              "fields": dataclasses.asdict(experiment.config)}
    write_whole(folder / SWEEP_FILE, lambda path: path.write_text(json.dumps(record, indent=2) + "\n"))


def read_record(folder: Path) -> dict | None:
    """The sweep.json of `folder`, or None where there is none (a single run, or no folder yet)."""
    try:
        return json.loads((folder / SWEEP_FILE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise InputError(f"{folder / SWEEP_FILE} cannot be read ({error})") from None


@dataclass(frozen=True)
class FinishedSweep:
    folder: Path
    name: str  # the experiment's: "Tiny"
    field: str
    runs: dict  # {value: Run} of the points that are done, in the sweep's order

    @property
    def over_seeds(self) -> bool:
        """Whether the points differ only by chance: the seed of the weights, the order and dropout."""
        return self.field == "seed"


def is_sweep(folder: Path) -> bool:
    return (Path(folder) / SWEEP_FILE).is_file()


def read_sweep(folder: Path) -> FinishedSweep:
    """A sweep folder's finished points, read back as runs (`history.read_run`); a sweep with none done
    is an `InputError`."""
    folder = Path(folder)
    record = read_record(folder)
    if record is None:
        raise InputError(f"{folder} holds no {SWEEP_FILE}: not a looptrain sweep")
    try:
        sweep = Sweep(record["field"], tuple(record["values"]))
        done = [value for value in sweep.values if value in record["done"]]
        name = record["experiment"]
    except (KeyError, TypeError) as error:
        raise InputError(f"{folder / SWEEP_FILE} is not a sweep record looptrain wrote ({error})") from None
    if not done:
        raise InputError(f"{folder} is a sweep over {sweep.field} with no point done yet")
    runs: dict[object, Run] = {value: read_run(point_folder(folder, sweep, value)) for value in done}
    return FinishedSweep(folder=folder, name=name, field=sweep.field, runs=runs)
