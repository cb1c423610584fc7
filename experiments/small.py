"""Small: two hidden layers of 16 units (753 parameters).

    python -m looptrain.run experiments/small.py

Expect a little better than Tiny, and the first, mild signs of overfitting late in the run.
"""

from looptrain.models import mlp

# Tiny's and Small's steps are a few hundred operations on small matrices, where launching each one
# costs more than its arithmetic. XLA fuses them into a few kernels: an epoch takes half the time,
# for some 145 MB more memory (README, "Performance").
fields = {"jit_compile": True}


def build_model():
    return mlp([16, 16])
