"""AdamW: the Large model, unregularized, trained by AdamW with decoupled weight decay 1.0 (same schedule).

    python -m looptrain.run experiments/adamw.py

The other way to keep weights small. L2 adds 0.001·Σw² to the loss, so its pull on the weights goes
through the gradients and Adam rescales it like any gradient. AdamW leaves the loss alone
(`model.losses` is empty, the regularization loss is 0) and shrinks every weight, biases too, by
learning_rate × weight_decay × w on each step, beside the Adam update. Expect less overfitting than
Large, and weights held small without any penalty in the loss.
"""

from looptrain.models.mlp import mlp

fields = {
    # The decay is per step and scaled by the rate (1e-3 at first), so a factor of 1 shrinks each weight
    # by 0.1% a step, 2% an epoch of 20 steps: to a seventh in 100 epochs, unless the gradients hold it
    # up. Keras's default, 0.004, would hardly be seen in a run of a few hundred epochs.
    "weight_decay": 1.0,
}


def build_model(units=512, depth=4):
    return mlp([units] * depth)
