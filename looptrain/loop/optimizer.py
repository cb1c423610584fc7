"""The tutorial's optimizer: Adam (or AdamW) whose learning rate follows Keras's `InverseTimeDecay`,
with what a copied loop adds next, each Keras's own: gradient clipping, gradient accumulation, a
moving average of the weights, and dynamic loss scaling for float16.

Training builds it (`train`), and so does `schedule_curve`, which reads the rate it gives at each
step for the schedule's picture (`looptrain.plot --schedule`). What is not here: applying the
gradients and scaling the loss, which are the train step's; the averaged weights' use in validation
(`looptrain.loop.weight_average`); drawing the rates (`results.curves.plot_schedule`).
docs/training-options.md says what each option does to a step.
"""

import keras
import numpy as np

# Keras's own default: after this many updates without an overflow the loss scale doubles.
LOSS_SCALE_GROWTH_STEPS = 2000


def make_optimizer(learning_rate: float, decay_steps: int, weight_decay: float = 0.0, *,
                   clip_global_norm: float = 0.0, accumulate: int = 1, weight_average: float = 0.0,
                   loss_scaling: bool = False) -> keras.optimizers.Optimizer:
    """Adam with the tutorial's schedule: lr / (1 + update / decay_steps), evaluated at every update;
    a constant rate for `decay_steps=0` (the IMDB experiments' plain `Adam()`). With `weight_decay`,
    AdamW: before each Adam update the optimizer shrinks every weight by lr × weight_decay × w, a
    decay that never appears in the loss. The options are the configuration fields of the same
    names; `loss_scaling` wraps it all in a `LossScaleOptimizer` (for `precision="mixed_float16"`)."""
    schedule = learning_rate if decay_steps == 0 else keras.optimizers.schedules.InverseTimeDecay(
        learning_rate, decay_steps=decay_steps, decay_rate=1, staircase=False)
    if accumulate > 1 and decay_steps:
        schedule = PerUpdate(schedule, accumulate)
    options = {"global_clipnorm": clip_global_norm or None,  # Keras clips after accumulating: the update's norm
               "gradient_accumulation_steps": accumulate if accumulate > 1 else None,
               "use_ema": weight_average > 0, "ema_momentum": weight_average or 0.99}
    if weight_decay:
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay, **options)
    else:
        optimizer = keras.optimizers.Adam(schedule, **options)
    if loss_scaling:
        # Scales the loss (the step asks it to, `scale_loss`), unscales the gradients, and skips an
        # update whose gradients overflowed, halving the scale; it doubles the scale after
        # LOSS_SCALE_GROWTH_STEPS updates without one.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, dynamic_growth_steps=LOSS_SCALE_GROWTH_STEPS)
    return optimizer


class PerUpdate(keras.optimizers.schedules.LearningRateSchedule):
    """A schedule read at the update's number. Keras evaluates a schedule at its count of `apply`
    calls, which under gradient accumulation counts micro-batches: the rate would decay `accumulate`
    times too fast, and differ from the same run without accumulation."""

    def __init__(self, schedule, accumulate: int):
        self.schedule, self.accumulate = schedule, accumulate

    def __call__(self, step):
        return self.schedule(step // self.accumulate)

    def get_config(self):
        return {"schedule": keras.optimizers.schedules.serialize(self.schedule), "accumulate": self.accumulate}


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
