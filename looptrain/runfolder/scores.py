"""test.json: what the test rows say of a finished run's best and final weights, written once, whole.

A run that ends (patience ran out, or `max_epochs`) with test rows scores its best and its final
weights on them (`looptrain.loop.evaluate`) and writes the numbers here: for "best" and for "final",
the epoch whose weights they are, the test rows' cross-entropy and its standard error, accuracy,
exact AUC, expected calibration error and reliability bins, the temperature fitted on the validation
rows, and the cross-entropy, calibration error and bins after scaling by it
(`looptrain.loop.calibration`). A run without test rows, or stopped by a signal, a fault or a failed
write, leaves none. Reading it back needs no TensorFlow. What is not here: the numbers' arithmetic,
and the tables and pictures made of them (`looptrain.results`).
"""

import json
from pathlib import Path

from looptrain.errors import InputError
from looptrain.runfolder.files import write_whole

FILE = "test.json"
WEIGHTS = ("best", "final")  # the two sets of weights scored, and test.json's keys for them


def scores_record(n_test: int, scored: dict[str, dict], epochs: dict[str, int]) -> dict:
    """What test.json holds: `scored` and `epochs` are by WEIGHTS, each set of weights' numbers and the
    epoch it is from."""
    return {"n_test": n_test, **{name: {"epoch": epochs[name], **scored[name]} for name in WEIGHTS}}


def write_scores(path: Path, record: dict) -> None:
    write_whole(path, lambda temporary: temporary.write_text(json.dumps(record, indent=2) + "\n"))


def read_scores(folder: Path) -> dict | None:
    """A run folder's test.json, or None where the run has none; one looptrain did not write is an
    `InputError`."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        for name in WEIGHTS:
            float(record[name]["binary_crossentropy"])
        return record
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path} is not a test.json looptrain wrote ({type(error).__name__}: {error})") from None
