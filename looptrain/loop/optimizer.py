"""The tutorial's optimizer: Adam (or AdamW) whose learning rate follows Keras's `InverseTimeDecay`.

Training builds it (`train`), and so does the schedule's picture (`plot --schedule`), which reads the
rate it gives at each step. What is not here: applying the gradients, which is the train step's.
"""

import keras


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
