"""One epoch: a shuffled pass of train steps, then the validation pass, then the epoch's results.

Two ways to run the same epoch, chosen by the `loop` field: `step_by_step`, Python calling the train
step once per batch as `Model.fit` does, plain and easy to follow in a debugger; and `in_one_graph`,
the whole epoch one `tf.function`: a fresh random order of all the training rows each epoch (what
`shuffle(N_TRAIN)` gives), the rows gathered in that order a chunk at a time, the steps run in a
`tf.while_loop`, then the validation, so that Python is entered once an epoch, not once a batch.
docs/performance.md says why that pays and what a chunk costs. Both call the same steps
(`looptrain.loop.step`), both validate the weights' moving average instead of the weights when
given its `swap` (`looptrain.loop.weight_average`), both measure label noise's clean and flipped
training rows after the validation with the weights it saw (only under label noise: without it no
pass over the training rows is made), and both return the epoch's results as a dict of scalars and
reset the metrics. Under gradient accumulation a batch here is a micro-batch and
`data.steps_per_epoch` counts them; the optimizer does the rest. What is not here: early stopping,
files, the console.
"""

import tensorflow as tf

# The training rows are gathered into each epoch's order this much at a time. Small, because a chunk
# is memory the epoch holds on top of the rows; larger chunks make an epoch no faster (docs,
# performance page).
CHUNK_BYTES = 2 * 2 ** 20


def read_results(metrics: dict) -> dict:
    """The epoch's means, and fresh metrics for the next epoch."""
    results = {name: metric.result() for name, metric in metrics.items()}
    for metric in metrics.values():
        metric.reset_state()
    return results


def step_by_step(steps, metrics: dict, optimizer, train_batches, validation_batches, steps_per_epoch: int,
                 swap=None, part_batches=None):
    """An epoch as Python's loop over batches: `steps_per_epoch` batches from the endless
    `train_batches`, then all of `validation_batches` (datasets, or a strategy's distributed ones) and
    of each of label noise's `part_batches` ({"clean": dataset, ...}), between two calls of `swap` if
    given. Returns `(run_epoch, state)`: `state` is the training batches' iterator, which a checkpoint
    holds to resume the same shuffled pass."""
    train_batches = iter(train_batches)

    def run_epoch() -> dict:
        learning_rate = optimizer.learning_rate  # the rate the schedule gives this epoch's first step
        for _ in range(steps_per_epoch):
            features, labels = next(train_batches)
            steps.train(features, labels)
        if swap is not None:
            swap()  # the averaged weights in, for the validation
        for features, labels in validation_batches:
            steps.evaluate(features, labels)
        for part, batches in (part_batches or {}).items():
            for features, labels in batches:
                steps.measure(part, features, labels)
        if swap is not None:
            swap()  # and the trained weights back
        return {**read_results(metrics), "learning_rate": learning_rate}

    return run_epoch, train_batches


def in_one_graph(steps, metrics: dict, data, optimizer, seed: int, jit_compile: bool, swap=None):
    """An epoch as one graph, its steps and its validation compiled by XLA with `jit_compile`, the
    validation between two calls of `swap` if given. Returns `(run_epoch, state)`: `state` is the random generator that draws each epoch's order,
    which a checkpoint holds to resume the same sequence of orders."""
    shuffling = tf.random.Generator.from_seed(seed)
    batch_size, steps_per_epoch = data.batch_size, data.steps_per_epoch
    chunks = steps_per_epoch // steps_per_chunk(data)
    # The validation rows as a stack of full batches, and the rows left over, if any.
    full = data.n_validation // batch_size * batch_size
    validation_features, validation_labels = as_batches(data.validation_features[:full],
                                                        data.validation_labels[:full], batch_size)
    validation_rest = data.validation_features[full:], data.validation_labels[full:]
    # Label noise's clean and flipped training rows, by index, as full batches and the rows left over.
    parts = {part: (tf.reshape(rows[:len(rows) // batch_size * batch_size], [-1, batch_size]),
                    rows[len(rows) // batch_size * batch_size:]) for part, rows in data.label_parts.items()}

    # One function for every chunk and the validation, so that XLA compiles one program whatever the
    # number of chunks: each compiled program holds memory of its own. (A function called once per
    # chunk made two for an epoch of several chunks: one for the chunks that only train, and one for
    # the last, which also validates.)
    @tf.function(jit_compile=jit_compile)
    def train_and_validate(order) -> dict:
        """The train steps over the epoch's rows in `order`, a chunk of them at a time and a batch at
        a time; then the validation pass, and the epoch's results."""
        # `tf.range`, not `range`: AutoGraph makes these `tf.while_loop`s, one loop in the graph
        # however many steps, where a Python `range` would copy the step into the graph each time.
        for chunk in tf.range(len(order)):
            # Gather no chunk ahead while this one trains: each is a copy of that many rows.
            tf.autograph.experimental.set_loop_options(parallel_iterations=1)
            # The chunk's rows gathered into one tensor in the epoch's order; its batches are slices.
            features, labels = as_batches(tf.gather(data.train_features, order[chunk]),
                                          tf.gather(data.train_labels, order[chunk]), batch_size)
            for step in tf.range(len(features)):
                steps.train(features[step], labels[step])
        if swap is not None:  # decided while tracing, as is the short batch below
            swap()
        # A stack of no full batches is left out while tracing, like the short batch below: XLA
        # refuses to compile a slice of an empty stack, even in a loop that would never run.
        if len(validation_features):
            for batch in tf.range(len(validation_features)):
                steps.evaluate(validation_features[batch], validation_labels[batch])
        if full < data.n_validation:  # a short last batch, as `batch` leaves it
            steps.evaluate(*validation_rest)
        for part, (batches, rest) in parts.items():  # none without label noise
            if len(batches):
                for batch in tf.range(len(batches)):
                    steps.measure(part, *training_rows(data, batches[batch]))
            if len(rest):
                steps.measure(part, *training_rows(data, rest))
        if swap is not None:
            swap()
        return read_results(metrics)

    @tf.function  # around the XLA part: XLA cannot compile the shuffle
    def run_epoch() -> dict:
        learning_rate = optimizer.learning_rate  # the rate the schedule gives this epoch's first step
        # The epoch's rows in a fresh order, split into equal chunks. Gathering all the rows at once
        # would hold a shuffled copy of the whole training set beside the rows (docs, performance
        # page, "Memory"); a chunk is at most CHUNK_BYTES. Rows past the last full batch sit this
        # epoch out (10,000 rows in batches of 500 leave none).
        order = tf.reshape(epoch_order(shuffling, data.n_train)[:steps_per_epoch * batch_size], [chunks, -1])
        return {**train_and_validate(order), "learning_rate": learning_rate}

    # Traced now, and called as the traced graph itself: a `tf.function` checks every call against
    # its traces first, which costs a sizeable part of an epoch as short as Tiny's.
    return run_epoch.get_concrete_function(), shuffling


def steps_per_chunk(data) -> int:
    """The most train steps whose rows fit in CHUNK_BYTES that divide the epoch's steps evenly (at
    least one). Tiny's 10,000 rows are one chunk, a million rows 80, and IMDB's reviews a batch each."""
    row_bytes = sum(rows.shape[1:].num_elements() * rows.dtype.size
                    for rows in (data.train_features, data.train_labels))
    most = max(1, CHUNK_BYTES // (data.batch_size * row_bytes))
    return max(steps for steps in range(1, min(most, data.steps_per_epoch) + 1)
               if data.steps_per_epoch % steps == 0)


def as_batches(features: tf.Tensor, labels: tf.Tensor, batch_size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Rows → (batches, batch_size, ...): indexing by batch then gives tensors of a fixed shape, which
    the graph can plan for (a slice from a moving start has a shape known only when it runs)."""
    return (tf.reshape(features, [-1, batch_size, *features.shape[1:]]),
            tf.reshape(labels, [-1, batch_size, *labels.shape[1:]]))


def training_rows(data, rows: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The training rows at the indices `rows`, features and labels, gathered as they are needed."""
    return tf.gather(data.train_features, rows), tf.gather(data.train_labels, rows)


def epoch_order(shuffling: tf.random.Generator, n_train: int) -> tf.Tensor:
    """A fresh random order of all the training rows. The generator's state is a variable: each call
    draws the next order, and a checkpoint can hold where the sequence is."""
    return tf.random.experimental.stateless_shuffle(tf.range(n_train), seed=shuffling.make_seeds(1)[:, 0])
