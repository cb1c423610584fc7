"""Tiny: one hidden layer of 16 units (481 parameters), too small to overfit.

    python -m looptrain.run experiments/tiny.py

Expect the validation cross-entropy to keep falling, slowly, for thousands of epochs and to stay
close to the training cross-entropy: too little capacity to memorize 10,000 rows.
"""

from looptrain.models import mlp

# Tiny's (and Small's) steps are a few hundred operations on small matrices, where launching each one
# costs more than its arithmetic. XLA fuses them into a few kernels: an epoch takes half the time,
# for some 145 MB more memory (README, "Performance"). And an epoch is then some 2 ms, a checkpoint
# 15 to 30: one every 50 epochs, the default, would take a sixth of the run; every 500, a fiftieth,
# and a run killed outright still loses only a second or two.
fields = {"jit_compile": True, "checkpoint_every": 500}


def build_model():
    return mlp([16])
