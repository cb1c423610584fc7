"""The reviews: the synthetic corpus's properties, the multi-hot encoding by hand, Keras's IMDB loader on a
small local file, the test reviews apart from the others, and which `--data` an IMDB experiment takes."""

import dataclasses
import urllib.error

import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config
from keras.src.datasets import npz_utils
from keras.src.utils import file_utils

from conftest import REPO, assert_one_line_error
from looptrain import run
from looptrain.config import Config
from looptrain.data import higgs, reviews
from looptrain.errors import InputError
from looptrain.experiment import load_experiment
from looptrain.launch import plan


@pytest.fixture(scope="module")
def corpus():
    return reviews.generate(4_000, seed=0, split=0)


def test_the_same_seed_gives_the_same_reviews_and_another_seed_or_split_does_not():
    first, first_labels = reviews.generate(300, seed=5, split=0)
    again, again_labels = reviews.generate(300, seed=5, split=0)
    assert all(np.array_equal(a, b) for a, b in zip(first, again)) and np.array_equal(first_labels, again_labels)
    for other in (reviews.generate(300, seed=6, split=0)[0], reviews.generate(300, seed=5, split=1)[0]):
        assert sum(np.array_equal(a, b) for a, b in zip(first, other)) == 0
    # The two splits share one language: the same sentiment words.
    assert np.array_equal(reviews.sentiment_words(5)[0], reviews.sentiment_words(5)[0])


def test_reviews_are_in_keras_encoding_with_realistic_lengths(corpus):
    texts, labels = corpus
    assert labels.mean() == 0.5  # exactly half positive, as IMDB
    assert all(text[0] == reviews.START for text in texts)
    words = np.concatenate([text[1:] for text in texts])
    assert words.min() == reviews.OUT_OF_VOCABULARY and words.max() == reviews.NUM_WORDS - 1
    assert not np.isin(words, [0, reviews.START, 3]).any()  # padding, start and Keras's unused id 3
    assert 0.05 < np.mean(words == reviews.OUT_OF_VOCABULARY) < 0.15  # rare words cut by num_words=10000
    lengths = np.array([len(text) - 1 for text in texts])
    # IMDB's reviews: median about 175 words, mean about 230, from about 10 to about 2,500.
    assert 150 < np.median(lengths) < 200 and lengths.mean() > np.median(lengths) + 25
    assert lengths.min() >= reviews.LENGTH_MIN and lengths.max() <= reviews.LENGTH_MAX


def test_word_frequencies_follow_zipfs_law(corpus):
    words = np.concatenate([text[1:] for text in corpus[0]])
    counts = np.bincount(words, minlength=reviews.NUM_WORDS)
    ids = np.arange(10, 1_000) + reviews.INDEX_FROM  # ranks 10 to 999, without the sentiment words
    ids = ids[~np.isin(ids, np.concatenate(reviews.sentiment_words(0)))]
    slope = np.polyfit(np.log(ids - reviews.INDEX_FROM), np.log(counts[ids]), 1)[0]
    assert slope == pytest.approx(-reviews.ZIPF_EXPONENT, abs=0.05)


def test_a_few_hundred_sentiment_words_carry_the_label(corpus):
    texts, labels = corpus
    positive_words, negative_words = reviews.sentiment_words(0)
    assert len(positive_words) == len(negative_words) == 200
    assert len(np.intersect1d(positive_words, negative_words)) == 0
    vectors = reviews.multi_hot(texts)
    # Of the reviews holding a word, the share that are positive: above one half for the positive words.
    positive_share = lambda ids: (vectors[:, ids] * labels[:, None]).sum(0) / vectors[:, ids].sum(0)  # noqa: E731
    assert np.mean(positive_share(positive_words[:100]) > 0.6) > 0.95
    assert np.mean(positive_share(negative_words[:100]) < 0.4) > 0.95
    # Counting the words of each kind guesses the label well, but not perfectly: some reviews are mixed.
    score = vectors[:, positive_words].sum(1) - vectors[:, negative_words].sum(1)
    assert 0.75 < np.mean((score > 0) == (labels == 1)) < 0.95


def test_multi_hot_by_hand():
    expected = [[0, 1, 0, 1, 0, 0],
                [1, 0, 0, 0, 1, 1],
                [0, 0, 0, 0, 0, 0]]
    np.testing.assert_array_equal(reviews.multi_hot([[1, 3, 3, 1], np.array([5, 0, 4]), []], num_words=6),
                                  expected)
    assert reviews.multi_hot([[1]]).dtype == np.float32 and reviews.multi_hot([[1]]).shape == (1, 10_000)


def test_synthetic_reviews_become_the_loops_data():
    config = Config(dataset="imdb", n_train=300, n_validation=200, n_test=50, batch_size=100, synthetic_seed=2)
    loaded = reviews.load(higgs.resolve("synthetic", config), config)
    texts, labels = reviews.generate(300, seed=2, split=0)
    np.testing.assert_array_equal(loaded.train_features.numpy(), reviews.multi_hot(texts))
    np.testing.assert_array_equal(loaded.train_labels.numpy(), labels.reshape(-1, 1))
    assert loaded.validation_features.shape == (200, 10_000) and loaded.steps_per_epoch == 3
    assert loaded.shortfall is None


def as_rows(features) -> set:
    return {tuple(row) for row in features.numpy()}


def test_synthetic_test_reviews_are_a_stream_of_their_own(monkeypatch):
    config = Config(dataset="imdb", n_train=300, n_validation=200, n_test=150, batch_size=100, synthetic_seed=2)
    loaded = reviews.load(higgs.SYNTHETIC_REVIEWS, config)
    texts, labels = reviews.generate(150, seed=2, split=2)
    np.testing.assert_array_equal(loaded.test_features.numpy(), reviews.multi_hot(texts))
    np.testing.assert_array_equal(loaded.test_labels.numpy()[:, 0], labels)
    assert not as_rows(loaded.test_features) & (as_rows(loaded.train_features) | as_rows(loaded.validation_features))
    # By default, as many as Keras's test set would leave past the validation reviews (here shrunk).
    monkeypatch.setattr(reviews, "KERAS_TEST_REVIEWS", 260)
    assert reviews.load(higgs.SYNTHETIC_REVIEWS, dataclasses.replace(config, n_test=None)).n_test == 60


def write_imdb_npz(path, train, test):
    """A small imdb.npz laid out as Keras's: object arrays of word-rank lists (1 = the most frequent
    word, before Keras adds index_from=3) and integer labels."""
    def ragged(lists):
        array = np.empty(len(lists), dtype=object)
        array[:] = lists
        return array

    arrays = {"x_train": ragged([text for text, _ in train]), "y_train": np.array([label for _, label in train]),
              "x_test": ragged([text for text, _ in test]), "y_test": np.array([label for _, label in test])}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # the object arrays are stored as pickles, as in Keras's file


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """Keras looks for imdb.npz in $KERAS_HOME/datasets (read once, at import: hence the attribute)."""
    home = tmp_path / "keras"
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(home))
    return home


def test_keras_imdb_is_read_from_where_keras_looks_and_encoded(keras_home, monkeypatch):
    train = [([1, 5, 5, 9_998], 1), ([2, 20], 0), ([7], 1)]  # 9,998 + 3 is beyond num_words: id 2
    test = [([3, 4], 0), ([6, 1], 1)]
    write_imdb_npz(keras_home / "datasets" / "imdb.npz", train, test)
    # Keras checks the file against the real imdb.npz's SHA-256, which a small test file cannot have;
    # only that check is replaced. Finding the file, reading it, shuffling and num_words are Keras's own.
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    config = Config(dataset="imdb", n_train=3, n_validation=2, batch_size=1)

    loaded = reviews.load(higgs.resolve("imdb", config), config)

    def encoded(texts):  # start 1, then each rank + 3, or 2 where that is beyond num_words
        return {(tuple(reviews.multi_hot([[1, *[w + 3 if w + 3 < 10_000 else 2 for w in text]]])[0]), label)
                for text, label in texts}
    # load_data shuffles the reviews (with its own seed), so compare them as sets of (vector, label).
    as_pairs = lambda features, labels: {(tuple(row), float(label)) for row, label in  # noqa: E731
                                         zip(features.numpy(), labels.numpy()[:, 0])}
    assert as_pairs(loaded.train_features, loaded.train_labels) == encoded(train)
    assert as_pairs(loaded.validation_features, loaded.validation_labels) == encoded(test)
    assert loaded.train_features.numpy()[:, 2].sum() == 1  # the one word beyond num_words


def test_keras_imdb_test_reviews_are_the_test_sets_last_past_the_validation_reviews(keras_home, monkeypatch):
    train = [([10 + word], word % 2) for word in range(4)]
    test = [([100 + word], word % 2) for word in range(7)]  # each review one word of its own: all distinct
    write_imdb_npz(keras_home / "datasets" / "imdb.npz", train, test)
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    config = Config(dataset="imdb", n_train=4, n_validation=3, n_test=2, batch_size=2)
    loaded = reviews.load(higgs.KERAS_IMDB, config)
    (_, _), (held_out, _) = keras.datasets.imdb.load_data(num_words=reviews.NUM_WORDS)  # in Keras's shuffled order
    np.testing.assert_array_equal(loaded.validation_features.numpy(), reviews.multi_hot(held_out[:3]))
    np.testing.assert_array_equal(loaded.test_features.numpy(), reviews.multi_hot(held_out[5:]))
    assert not as_rows(loaded.test_features) & (as_rows(loaded.train_features) | as_rows(loaded.validation_features))
    # By default all the test reviews past the validation; the tutorial's validation takes them all.
    assert reviews.load(higgs.KERAS_IMDB, dataclasses.replace(config, n_test=None)).n_test == 4
    none_left = reviews.load(higgs.KERAS_IMDB, dataclasses.replace(config, n_test=None, n_validation=7))
    assert none_left.n_test == 0 and "so this run has no test number" in none_left.no_test
    with pytest.raises(InputError, match="n_test=5: keras imdb has 7 test reviews, and 5 test rows past the 3 "
                                         "that validate need 8"):
        reviews.load(higgs.KERAS_IMDB, dataclasses.replace(config, n_test=5))


def test_keras_imdb_that_cannot_be_fetched_names_the_way_out(keras_home, monkeypatch):
    def offline(*args, **kwargs):  # what urlretrieve does without network, at once
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    config = Config(dataset="imdb", n_train=3, n_validation=2, batch_size=1)
    with pytest.raises(InputError, match=r"could not load IMDB .*name resolution.*use --data synthetic"):
        reviews.load(higgs.resolve("imdb", config), config)


def test_keras_imdb_with_fewer_reviews_than_asked_says_so(keras_home, monkeypatch):
    write_imdb_npz(keras_home / "datasets" / "imdb.npz", [([4], 1), ([5], 0)], [([6], 1)])
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    loaded = reviews.load(higgs.KERAS_IMDB, Config(dataset="imdb", n_train=5, n_validation=1, batch_size=2))
    assert loaded.n_train == 2 and "keras imdb has 2 training and 1 test reviews" in loaded.shortfall
    with pytest.raises(InputError, match="2 training reviews, fewer than one batch of 3"):
        reviews.load(higgs.KERAS_IMDB, Config(dataset="imdb", n_train=5, n_validation=1, batch_size=3))


@pytest.mark.parametrize("experiment, source, message", [
    ("imdb/baseline.py", "higgs", "--data higgs: an IMDB experiment trains on reviews"),
    ("imdb/l2.py", "{path}", "an IMDB experiment trains on reviews"),
    ("tiny.py", "imdb", "--data imdb: a HIGGS experiment trains on HIGGS rows"),
])
def test_data_that_does_not_fit_the_experiment_is_refused(tmp_path, capsys, experiment, source, message):
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(b"")
    argv = [str(REPO / "experiments" / experiment), "--data", source.format(path=path),
            "--logdir", str(tmp_path / "runs")]
    assert_one_line_error(run.main, argv, capsys, message)
    assert not (tmp_path / "runs").exists()


def test_imdb_runs_have_a_folder_of_their_own():
    logdir = REPO / "runs"
    assert plan.run_folder(logdir, load_experiment(REPO / "experiments" / "imdb" / "l2.py")) == logdir / "imdb" / "l2"
    assert plan.run_folder(logdir, load_experiment(REPO / "experiments" / "l2.py")) == logdir / "l2"


def test_the_npz_writer_makes_what_keras_reads(tmp_path):
    # The helper above must not pass for a reason of its own: Keras's own reader gets the lists back.
    write_imdb_npz(tmp_path / "imdb.npz", [([4, 5], 1)], [([6], 0)])
    arrays = npz_utils.load_npz(tmp_path / "imdb.npz")
    assert list(arrays["x_train"][0]) == [4, 5] and arrays["y_test"].tolist() == [0]
