"""Small: two hidden layers of 16 units (753 parameters).

    python -m looptrain.run experiments/small.py

Expect a little better than Tiny, and the first, mild signs of overfitting late in the run.
"""

from looptrain.models import mlp

# XLA, for the reason tiny.py gives: half the time an epoch, for some 145 MB more memory.
fields = {"jit_compile": True}


def build_model():
    return mlp([16, 16])
