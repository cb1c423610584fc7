"""The tutorial's optimizer: Adam (or AdamW) whose learning rate follows Keras's `InverseTimeDecay`.

Training builds it (`train`), and so does `schedule_curve`, which reads the rate it gives at each
step for the schedule's picture (`looptrain.plot --schedule`). What is not here: applying the
gradients, which is the train step's; drawing the rates (`results.curves.plot_schedule`).
"""

import keras
import numpy as np


def make_optimizer(learning_rate: float, decay_steps: int, weight_decay: float = 0.0) -> keras.optimizers.Adam:
    """Adam with the tutorial's schedule: lr / (1 + step / decay_steps), evaluated at every step; a
    constant rate for `decay_steps=0` (the IMDB experiments' plain `Adam()`). With `weight_decay`,
    AdamW: before each Adam update the optimizer shrinks every weight by lr × weight_decay × w, a
    decay that never appears in the loss."""
    schedule = learning_rate if decay_steps == 0 else keras.optimizers.schedules.InverseTimeDecay(
        learning_rate, decay_steps=decay_steps, decay_rate=1, staircase=False)
    if weight_decay:
        return keras.optimizers.AdamW(schedule, weight_decay=weight_decay)
    return keras.optimizers.Adam(schedule)


def schedule_curve(learning_rate: float, decay_epochs: int, steps_per_epoch: int,
                   max_epochs: int) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, rates): the learning rate at 50 points from epoch 0 to `max_epochs`, the way the loop
    logs it: the optimizer `make_optimizer` builds, its step counter set, its rate read."""
    optimizer = make_optimizer(learning_rate, decay_steps=steps_per_epoch * decay_epochs)
    steps = np.linspace(0, max_epochs * steps_per_epoch).round().astype(int)  # the tutorial's linspace
    rates = []
    for step in steps:
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    return steps / steps_per_epoch, np.array(rates)
