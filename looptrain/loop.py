"""The loop: epochs of train steps, a validation pass, one dict of results per epoch, early stopping.

It reads top to bottom like the tutorial's `model.fit(..., callbacks=[EarlyStopping, TensorBoard])`
spelled out: note the learning rate → train for one epoch → validate → collect the epoch's results
→ hand them to `report` → keep the best weights → stop when patience runs out. It knows nothing of
files, TensorBoard or consoles: whatever `report` does with each epoch is the caller's business.
"""

import time
from dataclasses import dataclass

import keras

from looptrain.early_stopping import EarlyStopping
from looptrain.step import Steps


@dataclass
class History:
    epochs: list[dict]  # one dict of scalars per epoch, in order; epoch numbers start at 0
    best_epoch: int | None  # the epoch whose weights the model holds at the end


def run_epochs(model: keras.Model, optimizer, steps: Steps, metrics: dict, data, *,
               max_epochs: int, patience: int, min_delta: float = 0.0, report=None) -> History:
    """Train until patience runs out or `max_epochs`; the model ends with the best epoch's weights."""
    train_batches = iter(data.train)  # endless: each epoch takes the next `steps_per_epoch` batches
    stopper = EarlyStopping(patience, min_delta)
    epochs, best_weights = [], None
    start = time.perf_counter()

    for epoch in range(max_epochs):
        # The rate the schedule gives this epoch's first step (a host read, once per epoch).
        learning_rate = float(optimizer.learning_rate)

        for _ in range(data.steps_per_epoch):
            features, labels = next(train_batches)
            steps.train(features, labels)
        for features, labels in data.validation:
            steps.evaluate(features, labels)

        # Reading the metrics is the epoch's one host sync; resetting starts the next epoch's means.
        results = {name: float(metric.result()) for name, metric in metrics.items()}
        for metric in metrics.values():
            metric.reset_state()
        results["learning_rate"] = learning_rate
        results["seconds"] = time.perf_counter() - start
        epochs.append(results)

        # Watch the validation *data* loss: the penalty is not what we want to generalize.
        if stopper.update(epoch, results["val_binary_crossentropy"]):
            best_weights = model.get_weights()  # a copy in memory; written to disk once, at the end
        if report is not None:
            report(epoch, results, stopper.best_epoch)
        if stopper.should_stop:
            break

    if best_weights is not None:
        model.set_weights(best_weights)
    return History(epochs=epochs, best_epoch=stopper.best_epoch)
