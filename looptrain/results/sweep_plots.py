"""What sweeps look like in a picture: a sweep over seeds as a mean curve with a band, and sweeps over
another field as what that field does to the best result and to overfitting.

A sweep over seeds is drawn among runs, against the epoch: each experiment's mean curve
(`aggregate.mean_curve`) with a shaded band of ±1 sample standard deviation. Sweeps over another
field share a picture of two panels against the field's values, the best validation cross-entropy
and the final gap, validation minus training (over `n_train` the left panel is a learning curve):
one line with markers per experiment, in its colour, on a logarithmic axis for a size
(`sweep.SIZES`). docs/experiments.md shows the commands. Here: laying sweeps out on a figure's axes,
without TensorFlow. Not here: reading the sweeps and their numbers (`sweep`, `aggregate`), choosing
the picture and smoothing it (`curves`), its colours, signing and saving it (`pictures`).
"""

import matplotlib.pyplot as plt

from looptrain.results.aggregate import Curve, FieldPoints, mean_curve


def draw_mean(axes, series: list, style: str, colour: str, label: str) -> Curve:
    """One line of runs' values against the epoch: a single run as it is, several as their mean curve
    with a shaded band of ±1 sd."""
    curve = mean_curve(series)
    axes.plot(curve.epochs, curve.mean, style, color=colour, label=label)
    if len(series) > 1:
        axes.fill_between(curve.epochs, curve.mean - curve.sd, curve.mean + curve.sd, color=colour, alpha=0.2,
                          linewidth=0)
    return curve


def field_figure(points: list[FieldPoints], colour: dict[str, str], log_x: bool):
    """The two panels of `points` (all over one field), each experiment in `colour[name]`; the figure
    is returned open, for the caller to read back and save."""
    field = points[0].field
    figure, (best_axes, gap_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
    for each in points:
        x = positions(each.values)
        best_axes.plot(x, each.best_val, "o-", color=colour[each.name], label=each.name)
        gap_axes.plot(x, each.gap, "o-", color=colour[each.name], label=each.name)
    gap_axes.axhline(0, color="grey", linewidth=0.8)  # no gap: the model does as well on new rows
    best_axes.set_title("Best validation cross-entropy")
    best_axes.set_ylabel("Best Val Binary Crossentropy")
    gap_axes.set_title("Final gap between validation and training")
    gap_axes.set_ylabel("Final Val − Train Binary Crossentropy")
    for axes in (best_axes, gap_axes):
        if log_x:
            axes.set_xscale("log")
        axes.set_xlabel(field + (" [Log Scale]" if log_x else ""))
        axes.grid(True)
        axes.legend()
    return figure


def positions(values: list) -> list:
    """Where each value goes on the x axis. Numbers stay numbers; the values of a true/false or a text
    field become their text, which matplotlib lays out as categories in the order given."""
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return values
    return [str(value).lower() if isinstance(value, bool) else str(value) for value in values]
