"""Tests of the data cache: the synthetic file written whole and byte for byte the same, reused when
sound, made again when damaged. None of these tests imports TensorFlow."""

import gzip
import os

import numpy as np
import pytest

from looptrain.data import cache
from looptrain.data.simulation import synthetic
from looptrain.errors import InputError


def read_csv_gz(path) -> np.ndarray:
    with gzip.open(path, "rt") as text:
        return np.loadtxt(text, delimiter=",", ndmin=2)


def test_written_file_reads_back_as_the_generated_rows(tmp_path):
    path = cache.write_synthetic(tmp_path / "rows.csv.gz", 1_500, seed=4)
    with gzip.open(path, "rt") as text:
        first_line = text.readline()
    assert first_line.split(",")[0] in {"0", "1"}  # no header; the label first, as a plain number
    assert len(first_line.split(",")) == 29
    np.testing.assert_allclose(read_csv_gz(path), synthetic.generate(1_500, seed=4), rtol=1e-6)


def test_same_seed_writes_the_same_bytes(tmp_path):
    first = cache.write_synthetic(tmp_path / "first.csv.gz", 2_500, seed=3).read_bytes()
    second = cache.write_synthetic(tmp_path / "second.csv.gz", 2_500, seed=3).read_bytes()
    assert first == second
    # The gzip header holds no file name (flag byte 3) and no time stamp (bytes 4 to 7).
    assert first[3] == 0 and first[4:8] == bytes(4)


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    path = cache.write_synthetic(tmp_path / "rows.csv.gz", 100, seed=0)
    before = path.read_bytes()

    def fail(rows):
        raise OSError("disk full")

    monkeypatch.setattr(cache, "csv_text", fail)
    with pytest.raises(OSError, match="disk full"):
        cache.write_synthetic(path, 100, seed=1)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["rows.csv.gz"]


def test_cache_reuses_a_sound_file_without_rewriting_it(tmp_path):
    path = cache.synthetic_file(2_000, seed=0, folder=tmp_path / "cache")
    before = os.stat(path)
    assert cache.synthetic_file(2_000, seed=0, folder=tmp_path / "cache") == path
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert cache.synthetic_file(2_000, seed=1, folder=tmp_path / "cache") != path


@pytest.mark.parametrize("damage", ["truncate", "alter"])
def test_cache_rewrites_a_damaged_file(tmp_path, damage):
    path = cache.synthetic_file(2_000, seed=0, folder=tmp_path)
    sound = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(sound[: len(sound) // 2])
    else:
        middle = len(sound) // 2
        path.write_bytes(sound[:middle] + bytes([sound[middle] ^ 0xFF]) + sound[middle + 1:])
    assert cache.synthetic_file(2_000, seed=0, folder=tmp_path) == path
    assert path.read_bytes() == sound


def test_a_file_under_the_caches_name_without_its_sidecar_is_not_looptrains_and_is_left_alone(tmp_path):
    path = cache.synthetic_file(2_000, seed=0, folder=tmp_path)
    path.with_name(path.name + ".sha256").unlink()
    path.write_text("the user's own file, which happens to have this name")
    with pytest.raises(InputError, match="looptrain did not write it .there is no .*sha256 beside it.: move it away"):
        cache.synthetic_file(2_000, seed=0, folder=tmp_path)
    assert path.read_text() == "the user's own file, which happens to have this name"
    assert sorted(os.listdir(tmp_path)) == [path.name]  # and nothing was added beside it


def test_the_rows_made_in_memory_are_the_files_rows(tmp_path):
    path = cache.synthetic_file(12_345, seed=2, folder=tmp_path)  # two chunks, the second cut short
    with gzip.open(path, "rt") as text, cache.InMemory(12_345, 2, why="").open() as lines:
        assert list(lines) == list(text)
