"""Early stopping, written out: watch one number per epoch and say when it has stopped improving.

It follows Keras 3's `EarlyStopping(mode="min")`: an epoch improves on the best only if its value is
lower by more than `min_delta`; training stops after `patience` epochs in a row without improvement,
that is exactly `patience` epochs after the best. It holds no weights and knows no TensorFlow: the
loop keeps the best epoch's weights, and restores them at the end whether or not patience ran out
(as Keras does with `restore_best_weights=True`).
"""

import math


class EarlyStopping:
    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_value = math.inf
        self.best_epoch = None  # None until the first finite value
        self.epochs_without_improvement = 0

    def update(self, epoch: int, value: float) -> bool:
        """Record one epoch's value; True if it is the new best (the caller then keeps the weights)."""
        # A NaN compares False here, so it never counts as an improvement.
        if value < self.best_value - self.min_delta:
            self.best_value, self.best_epoch = value, epoch
            self.epochs_without_improvement = 0
            return True
        self.epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        # max(..., 1): an epoch that improves never stops the run, even with patience 0 (as in Keras).
        return self.epochs_without_improvement >= max(self.patience, 1)
