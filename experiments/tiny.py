"""Tiny: one hidden layer of 16 units (481 parameters), too small to overfit.

    python -m looptrain.run experiments/tiny.py

Expect the validation cross-entropy to keep falling, slowly, for thousands of epochs and to stay
close to the training cross-entropy: too little capacity to memorize 10,000 rows.
"""

from looptrain.models.mlp import mlp

# Tiny's (and Small's) steps are a few hundred operations on small matrices, where launching each one
# costs more than its arithmetic. XLA fuses them into a few kernels: an epoch takes half the time,
# for more memory while the first epoch compiles (docs, performance page). And an epoch is then so
# short that a checkpoint, several epochs' time, every 50 epochs (the default) would take a good part
# of the run; every 500 it takes little, and a run killed outright still loses only seconds.
fields = {"jit_compile": True, "checkpoint_every": 500}


def build_model(units=16, depth=1):
    return mlp([units] * depth)
