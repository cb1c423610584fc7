"""Shared test helpers: where the real HIGGS sample lives (it is never part of the project), made-up
rows, the comparisons with Keras that tests in several folders make, and the order the files run in."""

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# The files whose tests run the command in several processes, a minute or two each (docs/tests.md),
# longest first: collected first, so that a worker that runs out of tests takes short ones from the
# other's queue, rather than waiting alone while the other finishes one of these last.
LONG_FIRST = ("runfolder/test_faults.py", "test_notebook.py", "runfolder/test_kill_campaign.py", "test_imdb.py",
              "runfolder/test_sweep.py", "loop/test_distribute.py", "test_experiments.py", "test_debugger.py")


def pytest_collection_modifyitems(items):
    def place(item) -> int:
        path = item.path.relative_to(REPO / "tests").as_posix()
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=place)  # stable: within a file, and among the rest, pytest's own order


@pytest.fixture
def higgs_sample() -> Path:
    """The 10,984 real HIGGS rows from ../shared, or $LOOPTRAIN_HIGGS_SAMPLE; skip where absent."""
    path = Path(os.environ.get("LOOPTRAIN_HIGGS_SAMPLE", REPO.parent / "shared" / "data" / "higgs-sample.csv.gz"))
    if not path.is_file():
        pytest.skip(f"real HIGGS sample not found at {path} (set LOOPTRAIN_HIGGS_SAMPLE to its path)")
    return path


def made_up_rows(n, seed=0):
    """Random rows of the HIGGS layout, not HIGGS-like at all: label first (0 or 1), 28 features."""
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, 29)).astype("float32")
    rows[:, 0] = rng.integers(0, 2, size=n)
    return rows


def write_rows(path, rows):
    """Write rows as a HIGGS-layout .csv.gz and return the path."""
    with gzip.open(path, "wt") as file:
        np.savetxt(file, rows, delimiter=",", fmt="%.8g")
    return path


def assert_one_line_error(main, argv, capsys, message):
    """Call a command's `main(argv)`: it must end with exit code 2 and one `looptrain: error:` line
    on stderr matching `message`, whether the error came from argparse (SystemExit) or from us."""
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith("looptrain: error: ") and error.count("\n") == 1
    assert re.search(message, error), error


def newest_checkpoint(checkpoints: Path) -> int:
    """The number of the newest checkpoint on disk, read from its index file (ckpt-12.index). Not from
    CheckpointManager's state file: TensorFlow moves a checkpoint's files into place before it rewrites
    that list, so a run killed between the two leaves a whole checkpoint the list does not name yet,
    and a resumed run starts from it. Worked out here, not with `checkpoint.saved_checkpoints`, which
    is how the resume finds it, and so what the tests check."""
    numbers = [int(index.name.removeprefix("ckpt-").removesuffix(".index"))
               for index in checkpoints.glob("ckpt-*.index")]
    return max(numbers, default=-1)


def replica_results(script: str, out: Path) -> dict[str, list[np.ndarray]]:
    """Run one of the tests' two-replica scripts (`mirrored_training.py`, `mirrored_batchnorm.py`) in
    a process of its own, since a strategy's virtual devices must be set before TensorFlow starts, and
    read back the arrays it saved: {case: [arrays in order]}."""
    finished = subprocess.run([sys.executable, script, str(out)], cwd=REPO / "tests",
                              env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    cases = {}
    with np.load(out) as saved:
        for key in sorted(saved.files, key=lambda key: (key.split("|")[0], int(key.split("|")[1]))):
            cases.setdefault(key.split("|")[0], []).append(saved[key])
    return cases


def known_weights(model, seed=0):
    """Give the model weights we know, drawn with numpy."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.3, size=w.shape).astype("float32") for w in model.get_weights()])
    return model.get_weights()


def assert_same_epochs(history, fit):
    """looptrain's results, epoch by epoch, against the `History.history` of fit."""
    for column in ("loss", "binary_crossentropy", "accuracy", "val_binary_crossentropy", "val_accuracy"):
        np.testing.assert_allclose([results[column] for results in history.epochs], fit[column], rtol=1e-5,
                                   err_msg=column)


def assert_same_weights(ours, keras_model):
    for mine, theirs in zip(ours.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-7)
