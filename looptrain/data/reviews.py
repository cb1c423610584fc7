"""Movie reviews as multi-hot word vectors: Keras's IMDB data set, and the project's own synthetic corpus.

What is here: the tutorial's (older edition's) IMDB data, `keras.datasets.imdb.load_data(num_words=10000)`;
a deterministic synthetic corpus in the same encoding, the default, made by numpy with no network;
and the multi-hot encoding that turns either into the `Data` the loop trains on. The test reviews are
Keras's test reviews past those that validate, or fresh synthetic ones (docs/data.md, "Test rows"). A review is a list
of word ids in Keras's encoding: 1 marks the start, 2 a word outside the 10,000 most frequent, and a
word's id is its frequency rank plus 3. Multi-hot, it is a row of 10,000 zeros with a 1 at the id of
every word it holds, however often: word order and counts are gone. docs/data.md says what the
synthetic corpus simulates and leaves out, and how it was calibrated. What is not here: the model,
the loop, and any file on disk (the corpus is made anew on each use).
"""

import keras
import numpy as np
import tensorflow as tf

from looptrain.config import Config
from looptrain.data.higgs import KERAS_IMDB, Data, aligned_empty, handed_over, without_test_rows
from looptrain.errors import InputError

NUM_WORDS = 10_000  # the tutorial's num_words: each review becomes a vector of this many 0s and 1s
KERAS_TEST_REVIEWS = 25_000  # Keras's test set, which the tutorial validates on whole
START, OUT_OF_VOCABULARY, INDEX_FROM = 1, 2, 3  # keras.datasets.imdb's defaults

# The synthetic language.
VOCABULARY = 88_584  # words in IMDB's word index; those ranked beyond NUM_WORDS - INDEX_FROM become id 2
ZIPF_EXPONENT = 1.1
LENGTH_MEDIAN, LENGTH_SIGMA = 175, 0.7  # review length in words: log-normal around the median
LENGTH_MIN, LENGTH_MAX = 10, 2_500
SENTIMENT_WORDS = 400  # half positive, half negative
SENTIMENT_RANKS = (30, 4_000)  # the frequency ranks they are picked from: neither "the" nor hapaxes
SENTIMENT_SHARE = 0.10  # chance that a word of a review is a sentiment word
# How far a review agrees with its label: each sentiment word agrees with probability
# sigmoid(AGREEMENT_MEAN + AGREEMENT_SPREAD · z), z a standard normal drawn once per review.
AGREEMENT_MEAN, AGREEMENT_SPREAD = 1.8, 1.2


# The tutorial's IMDB setup, the fields every experiment in experiments/imdb/ differs from the defaults by.
TUTORIAL_FIELDS = {
    "dataset": "imdb",
    "outputs": "probabilities",  # the tutorial's models end in a sigmoid
    "n_train": 25_000,  # all of Keras's training reviews
    "n_validation": 25_000,  # the tutorial validates on all the test reviews
    # An epoch is 48 full batches (24,576 reviews) of the endless shuffled stream; fit adds a 49th of 424.
    "batch_size": 512,
    "max_epochs": 20,
    "patience": 20,  # the tutorial runs all 20 epochs; early stopping still keeps the best epoch's weights
    "decay_epochs": 0,  # the tutorial's plain Adam(): a constant rate of 1e-3, no schedule
    # XLA for the same numbers on every run. Without it TensorFlow's CPU kernels, on these 10,000-wide
    # inputs, differ between runs in the last digit (tests/test_imdb.py shows two runs of Bigger
    # parting), and overfitting makes that grow. With it, runs repeat exactly.
    "jit_compile": True,
}


def sentiment_words(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The positive and the negative words' ids, each ordered from the most to the least frequent."""
    rng = np.random.default_rng([seed, 0])
    ranks = rng.choice(np.arange(*SENTIMENT_RANKS), size=SENTIMENT_WORDS, replace=False)
    positive, negative = np.sort(ranks[: SENTIMENT_WORDS // 2]), np.sort(ranks[SENTIMENT_WORDS // 2:])
    return positive + INDEX_FROM, negative + INDEX_FROM


def generate(n_reviews: int, seed: int, split: int) -> tuple[list[np.ndarray], np.ndarray]:
    """`n_reviews` synthetic reviews (lists of word ids, each starting with START) and their labels
    (1 positive, 0 negative), in Keras's encoding. `split` 0 gives training reviews, 1 validation
    reviews (Keras's test reviews, as the tutorial uses them), 2 test reviews: independent random
    streams of one language (the same sentiment words)."""
    rng = np.random.default_rng([seed, 1 + split])
    labels = rng.permutation(np.arange(n_reviews) % 2)  # exactly half positive, as IMDB
    lengths = np.clip(np.round(LENGTH_MEDIAN * np.exp(LENGTH_SIGMA * rng.standard_normal(n_reviews))),
                      LENGTH_MIN, LENGTH_MAX).astype(int)
    review_of_word = np.repeat(np.arange(n_reviews), lengths)
    n_words = len(review_of_word)

    # Every word first comes from the whole language, by Zipf's law...
    zipf = np.arange(1, VOCABULARY + 1, dtype=float) ** -ZIPF_EXPONENT
    words = rng.choice(VOCABULARY, size=n_words, p=zipf / zipf.sum()) + 1 + INDEX_FROM

    # ...then some become sentiment words, agreeing with the review's label or not.
    agreement = 1 / (1 + np.exp(-(AGREEMENT_MEAN + AGREEMENT_SPREAD * rng.standard_normal(n_reviews))))
    is_sentiment = rng.random(n_words) < SENTIMENT_SHARE
    agrees = rng.random(n_words) < agreement[review_of_word]
    positive = agrees == (labels[review_of_word] == 1)
    # Within each kind, Zipf again: a few sentiment words are common ("great"), most are rarer.
    sentiment_zipf = np.arange(1, SENTIMENT_WORDS // 2 + 1, dtype=float) ** -1.0
    choice = rng.choice(SENTIMENT_WORDS // 2, size=n_words, p=sentiment_zipf / sentiment_zipf.sum())
    positive_words, negative_words = sentiment_words(seed)
    words = np.where(is_sentiment, np.where(positive, positive_words[choice], negative_words[choice]), words)

    words = np.where(words < NUM_WORDS, words, OUT_OF_VOCABULARY)
    starts = np.cumsum(lengths)[:-1]
    reviews = [np.concatenate([[START], review]) for review in np.split(words, starts)] if n_reviews else []
    return reviews, labels


def multi_hot(reviews, num_words: int = NUM_WORDS) -> np.ndarray:
    """The tutorial's `multi_hot_sequences`: row i has a 1.0 at every word id review i holds, else 0.0."""
    vectors = aligned_empty((len(reviews), num_words))  # aligned, to be handed to TensorFlow as it is
    vectors.fill(0.0)
    lengths = [len(review) for review in reviews]
    if sum(lengths):
        vectors[np.repeat(np.arange(len(reviews)), lengths), np.concatenate(reviews).astype(int)] = 1.0
    return vectors


def load_keras_imdb() -> tuple[tuple, tuple]:
    """Keras's IMDB reviews, `((train reviews, labels), (test reviews, labels))`, 25,000 each; the file
    is downloaded once to ~/.keras/datasets/imdb.npz (or $KERAS_HOME/datasets) and checked there."""
    try:
        return keras.datasets.imdb.load_data(num_words=NUM_WORDS)
    except Exception as error:  # get_file raises a bare Exception for network failures
        raise InputError(f"could not load IMDB with keras.datasets.imdb.load_data ({error}); "
                         f"offline, use --data synthetic") from None


def test_reviews_problem(source: str, n_held_out: int, config: Config) -> str | None:
    """Why the `n_test` asked for cannot be the last of `source`'s `n_held_out` test reviews, past those
    that validate, or None if it can. A default (None) always fits: it takes what is left."""
    needed = config.n_validation + (config.n_test or 0)
    if config.n_test is None or needed <= n_held_out:
        return None
    return (f"n_test={config.n_test}: {source} has {n_held_out:,} test reviews, and {config.n_test:,} test rows "
            f"past the {config.n_validation:,} that validate need {needed:,} (fewer test or validation reviews)")


def load(source: str, config: Config) -> Data:
    """The first `n_train` training reviews and the first `n_validation` test reviews (the tutorial
    validates on the test reviews), multi-hot encoded; then the test rows: the last `n_test` of Keras's
    test reviews, past the validation ones (by default all that are past them), or as many fresh
    synthetic reviews. `source` is what `higgs.resolve` made of `--data`: data.SYNTHETIC_REVIEWS or
    data.KERAS_IMDB."""
    # By default, the test reviews Keras's test set has left once the validation has taken its own.
    n_test = max(0, KERAS_TEST_REVIEWS - config.n_validation) if config.n_test is None else config.n_test
    if source == KERAS_IMDB:
        (train_reviews, train_labels), (held_out, held_out_labels) = load_keras_imdb()
        problem = test_reviews_problem(source, len(held_out), config)
        if problem:
            raise InputError(problem)
        n_test = min(n_test, max(0, len(held_out) - config.n_validation))  # the last, past the validation
        test_reviews, test_labels = held_out[len(held_out) - n_test:], held_out_labels[len(held_out) - n_test:]
        validation_reviews, validation_labels = held_out[: config.n_validation], held_out_labels[: config.n_validation]
    else:
        train_reviews, train_labels = generate(config.n_train, config.synthetic_seed, split=0)
        validation_reviews, validation_labels = generate(config.n_validation, config.synthetic_seed, split=1)
        test_reviews, test_labels = generate(n_test, config.synthetic_seed, split=2)
    train_reviews, train_labels = train_reviews[: config.n_train], train_labels[: config.n_train]
    if len(train_reviews) < config.batch_size:
        raise InputError(f"{source} has {len(train_reviews)} training reviews, fewer than one batch of "
                         f"{config.batch_size}")
    shortfall = None
    if len(train_reviews) < config.n_train or len(validation_reviews) < config.n_validation:
        shortfall = (f"{source} has {len(train_reviews)} training and {len(validation_reviews)} test reviews, "
                     f"fewer than the {config.n_train} and {config.n_validation} asked: using what it has")
    no_test = without_test_rows(n_test, config, f"{source}: the validation takes all {KERAS_TEST_REVIEWS:,} test "
                                f"reviews, as the tutorial's does", "--set n_validation=12500 leaves half of them")

    def as_tensors(reviews, labels):
        # Labels shaped like the model's output, (reviews, 1), as higgs.read_rows shapes HIGGS labels.
        # The vectors are the largest thing a run holds (docs, performance page): handed over, not copied.
        return handed_over(multi_hot(reviews)), tf.constant(np.reshape(labels, (-1, 1)), dtype=tf.float32)

    test = as_tensors(test_reviews, test_labels) if n_test else (None, None)
    return Data(*as_tensors(train_reviews, train_labels), *as_tensors(validation_reviews, validation_labels),
                config.batch_size, shortfall, *test, no_test)
