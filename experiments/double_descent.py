"""Double descent: one hidden layer on 1,000 training rows, trained to convergence, swept over its width.

    python -m looptrain.run experiments/double_descent.py --sweep units=4,8,16,24,32,40,48,64,128,512 --seed 0 \
        --logdir runs/lab/dd-0/seed=0
    python -m looptrain.run experiments/double_descent.py --sweep units=4,8,16,24,32,40,48,64,128,512 --seed 0 \
        --set label_noise=0.2 --logdir runs/lab/dd-20/seed=0

then the same with `--seed 1` and `--seed 2`, each into its own `--logdir` (docs/results.md, "The
lab", has all the lab's commands). A network of one hidden layer of `units` has 30·units + 1
parameters, as many as the 1,000 training rows near a width of 33: the interpolation threshold,
where it can just fit every training row. Belkin et al. (2019) and Nakkiran et al. (2019) found the test error rising towards
that width and falling again beyond it, the more so with label noise (they used 15-20%). Each run
trains for all its epochs (no early stopping), and its final weights are scored on 50,000 fresh test
rows (test.json's "final"). Expect the training error to reach zero from some width on; whether the
test error has a peak near there, on this data, is what the sweep measures:
`python -m looptrain.report runs/lab/dd-0/seed=*/double_descent --bias-variance final` gives each
width's test error over the seeds, its training error, and its bias and variance.
"""

from looptrain.models.mlp import mlp

# A small training set, so that the threshold is at a small width; batches of 100, ten steps an epoch,
# at a constant rate, for enough updates to converge; no early stopping (patience = max_epochs). XLA
# and rare checkpoints for the reasons tiny.py gives: the steps are tiny operations, and an epoch is
# shorter than a checkpoint.
fields = {"n_train": 1_000, "batch_size": 100, "decay_epochs": 0, "max_epochs": 2_000, "patience": 2_000,
          "jit_compile": True, "checkpoint_every": 500}


def build_model(units=32, depth=1):
    return mlp([units] * depth)
