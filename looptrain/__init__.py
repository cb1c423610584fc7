"""looptrain: the TensorFlow tutorial "Overfit and underfit", trained by a hand-written loop.

Read in this order: `step` (the math on one batch), `loop` (epochs and early stopping), `train`
(one experiment end to end), `run` (the command line). The experiments are in `experiments/`.
"""
