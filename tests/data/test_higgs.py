"""The loader reads a HIGGS-layout file the tutorial's way, and keeps its last rows apart as the test rows:
checked row by row against numpy."""

import gc
import gzip
import hashlib
import re

import numpy as np
import pytest
import tensorflow as tf

from conftest import made_up_rows, write_rows
from looptrain.config import Config
from looptrain.data import higgs
from looptrain.errors import InputError

SMALL = Config(n_validation=30, n_train=100, batch_size=25)


def test_validation_rows_are_the_first_rows_in_order(tmp_path):
    rows = made_up_rows(200)
    loaded = higgs.load(write_rows(tmp_path / "rows.csv.gz", rows), SMALL)
    gc.collect()  # the arrays the loader parsed into are gone from Python: the tensors must own the rows
    assert loaded.validation_features.dtype == tf.float32
    features, labels = (np.concatenate(parts) for parts in zip(*[(f.numpy(), l.numpy()) for f, l in loaded.validation_batches()]))
    np.testing.assert_allclose(features, rows[:30, 1:], rtol=1e-6)  # features: columns 1..28
    np.testing.assert_array_equal(labels[:, 0], rows[:30, 0])  # the label: column 0
    assert features.shape == (30, 28) and labels.shape == (30, 1)


def test_training_rows_are_the_next_rows_shuffled_each_pass(tmp_path):
    rows = made_up_rows(200)
    loaded = higgs.load(write_rows(tmp_path / "rows.csv.gz", rows), SMALL)
    assert (loaded.n_validation, loaded.n_train, loaded.steps_per_epoch, loaded.shortfall) == (30, 100, 4, None)
    batches = iter(loaded.train_batches())
    passes = []
    for _ in range(2):
        features = np.concatenate([next(batches)[0].numpy() for _ in range(loaded.steps_per_epoch)])
        passes.append(features)
        # Each pass holds exactly rows 30..129, each once, in some order.
        np.testing.assert_allclose(np.sort(features[:, 0]), np.sort(rows[30:130, 1]), rtol=1e-6)
    assert not np.array_equal(passes[0], passes[1])  # a fresh order on the next pass


def test_a_short_file_trains_on_what_it_has_and_says_so(tmp_path):
    path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(110))
    loaded = higgs.load(path, SMALL)
    assert (loaded.n_validation, loaded.n_train, loaded.steps_per_epoch) == (30, 80, 3)
    assert "110 rows" in loaded.shortfall and "130 asked" in loaded.shortfall and "80 rows, not 100" in loaded.shortfall


def test_too_few_rows_for_validation_and_one_batch_is_refused(tmp_path):
    path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(54))
    with pytest.raises(InputError, match="has 54 rows; at least 55 are needed"):
        higgs.load(path, SMALL)


def test_a_missing_data_path_is_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        higgs.resolve(str(tmp_path / "nope.csv.gz"), SMALL)


def test_the_higgs_download_verifies_its_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRAIN_CACHE", str(tmp_path / "cache"))
    source = write_rows(tmp_path / "source.csv.gz", made_up_rows(10))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    fetched = higgs.download_higgs(origin=source.as_uri(), sha256=digest)
    assert fetched.read_bytes() == source.read_bytes()
    assert fetched.parent.parent == tmp_path / "cache"

    fetched.unlink()
    with pytest.raises(InputError, match="--data PATH"):
        higgs.download_higgs(origin=source.as_uri(), sha256="0" * 64)


def test_the_higgs_download_without_network_names_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRAIN_CACHE", str(tmp_path / "cache"))
    # Port 9 on loopback: nothing listens, so the connection is refused at once, as offline.
    with pytest.raises(InputError, match=r"could not download HIGGS from http://127\.0\.0\.1:9/.*--data PATH"):
        higgs.download_higgs(origin="http://127.0.0.1:9/HIGGS.csv.gz")


def write_lines(path, lines):
    with gzip.open(path, "wt") as file:
        file.write("\n".join(lines) + "\n")
    return path


GOOD = ",".join(["1"] + ["0.5"] * 28)


@pytest.mark.parametrize("bad_row, message", [
    (",".join(["0"] + ["0.5"] * 27), "row 41: 28 columns, expected 29"),
    (",".join(["0"] + ["0.5"] * 29), "row 41: 30 columns, expected 29"),
    (",".join(["0"] + ["0.5"] * 26 + ["", "0.5"]), "row 41: column 28 is empty"),
    (",".join(["0"] + ["0.5"] * 27 + ["abc"]), "row 41: column 29 is not a number: 'abc'"),
    (",".join(["2"] + ["0.5"] * 28), "row 41: the label (column 1) is 2, not 0 or 1"),
    (",".join(["0"] + ["0.5"] * 5 + ["nan"] + ["0.5"] * 22), "row 41: column 7 is nan, not a finite number"),
    (",".join(["0"] + ["0.5"] * 27 + ["-inf"]), "row 41: column 29 is -inf, not a finite number"),
    ("", "row 41: 0 columns, expected 29"),  # a blank line is not skipped over
])
def test_a_bad_row_is_named(tmp_path, bad_row, message):
    # Row 41 is a training row (30 validation rows come first): the whole file is checked.
    path = write_lines(tmp_path / "rows.csv.gz", [GOOD] * 40 + [bad_row] + [GOOD] * 100)
    with pytest.raises(InputError, match=re.escape(f"data file {path}, {message}")):
        higgs.load(path, SMALL)


def test_a_file_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / "rows.csv.gz"
    path.write_text(GOOD + "\n")
    with pytest.raises(InputError, match="is not a readable gzip-compressed CSV"):
        higgs.load(path, SMALL)


def test_a_damaged_gzip_file_is_refused(tmp_path):
    path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(200))
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 4] ^= 0xFF  # one flipped byte in the compressed stream, among the rows read
    path.write_bytes(bytes(damaged))
    # Inflating garbage may fail, or give text that is not 29 numbers a row: either way, one line.
    with pytest.raises(InputError, match=re.escape(f"data file {path}")):
        higgs.load(path, SMALL)


def test_an_empty_file_is_refused_with_the_numbers(tmp_path):
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="has 0 rows; at least 55 are needed"):
        higgs.load(path, SMALL)


def rows_of(*tensors) -> set:
    """Each row of the features as a tuple, to compare row sets."""
    return {tuple(row) for tensor in tensors for row in tensor.numpy()}


def test_the_test_rows_are_the_files_last_and_none_of_them_trains_or_validates(tmp_path):
    rows = made_up_rows(300)
    loaded = higgs.load(write_rows(tmp_path / "rows.csv.gz", rows), Config(n_validation=30, n_train=100,
                                                                           batch_size=25, n_test=50))
    np.testing.assert_allclose(loaded.test_features.numpy(), rows[250:, 1:], rtol=1e-6)
    np.testing.assert_array_equal(loaded.test_labels.numpy()[:, 0], rows[250:, 0])
    assert (loaded.n_validation, loaded.n_train, loaded.n_test, loaded.no_test) == (30, 100, 50, None)
    assert not rows_of(loaded.test_features) & rows_of(loaded.train_features, loaded.validation_features)


def test_by_default_the_test_rows_are_all_past_the_training_rows_up_to_the_papers_test_set(tmp_path, monkeypatch):
    rows = made_up_rows(200)
    path = write_rows(tmp_path / "rows.csv.gz", rows)
    np.testing.assert_allclose(higgs.load(path, SMALL).test_features.numpy(), rows[130:, 1:], rtol=1e-6)
    monkeypatch.setattr(higgs, "PAPER_TEST_ROWS", 40)  # a file longer than the paper's test set: its last
    np.testing.assert_allclose(higgs.load(path, SMALL).test_features.numpy(), rows[160:, 1:], rtol=1e-6)


@pytest.mark.parametrize("n_rows", [130, 110])  # exactly the tutorial's rows, and fewer
def test_a_file_with_no_rows_past_its_training_rows_has_no_test_rows_and_says_so(tmp_path, n_rows):
    loaded = higgs.load(write_rows(tmp_path / "rows.csv.gz", made_up_rows(n_rows)), SMALL)
    assert loaded.n_test == 0 and loaded.test_features is None
    assert re.search(r"has no rows past its 30 validation and \d+ training rows, so this run has no test number",
                     loaded.no_test)
    asked_for_none = higgs.load(write_rows(tmp_path / "rows.csv.gz", made_up_rows(200)), Config(
        n_validation=30, n_train=100, batch_size=25, n_test=0))
    assert (asked_for_none.n_test, asked_for_none.no_test) == (0, None)  # nothing to say: none were asked for


def test_more_test_rows_than_the_file_holds_past_its_training_rows_are_refused(tmp_path):
    path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(200))
    with pytest.raises(InputError, match=r"n_test=71: data file .* has 200 rows, and 71 test rows past its 30 "
                                         r"validation and 100 training rows need 201"):
        higgs.load(path, Config(n_validation=30, n_train=100, batch_size=25, n_test=71))


def test_synthetic_test_rows_are_fresh_rows_that_leave_the_tutorials_rows_as_they_were(tmp_path, monkeypatch):
    from looptrain.data.simulation import synthetic

    monkeypatch.setenv("LOOPTRAIN_CACHE", str(tmp_path))
    monkeypatch.setattr(higgs, "SYNTHETIC_TEST_ROWS", 70)  # the default's count, shrunk
    shrunk = Config(n_validation=30, n_train=100, batch_size=25)
    loaded = higgs.load(higgs.resolve("synthetic", shrunk), shrunk)
    without = Config(n_validation=30, n_train=100, batch_size=25, n_test=0)
    tutorial = higgs.load(higgs.resolve("synthetic", without), without)
    assert loaded.n_test == 70 and tutorial.n_test == 0
    for name in ("train_features", "train_labels", "validation_features", "validation_labels"):
        np.testing.assert_array_equal(getattr(loaded, name).numpy(), getattr(tutorial, name).numpy())
    generated = synthetic.generate(200, seed=0)
    np.testing.assert_allclose(loaded.test_features.numpy(), generated[130:, 1:], rtol=1e-6)  # the rows after
    assert not rows_of(loaded.test_features) & rows_of(loaded.train_features, loaded.validation_features)
