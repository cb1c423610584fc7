"""The history file: one row of scalars per epoch, as CSV, readable without TensorFlow.

`history.csv` is what a finished run leaves for people and for `looptrain.plot`; it is written
once, whole, by writing a temporary file and renaming it, so a crash never leaves half a row.
"""

import csv
import os
from pathlib import Path

COLUMNS = ["epoch", "loss", "binary_crossentropy", "regularization_loss", "accuracy",
           "val_binary_crossentropy", "val_accuracy", "learning_rate", "seconds"]


def write_history(path: Path, epochs: list[dict]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for epoch, results in enumerate(epochs):
            writer.writerow([epoch] + [repr(results[name]) for name in COLUMNS[1:]])
    os.replace(temporary, path)


def read_history(path: Path) -> dict[str, list[float]]:
    """Columns by name: `history["val_binary_crossentropy"][epoch]`."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    return {name: [float(row[name]) for row in rows] for name in COLUMNS}


def summarize(name: str, epochs: list[dict], best_epoch: int | None) -> dict:
    """The numbers of the end-of-run table: how long, how good at best, how overfit at the end."""
    final = epochs[-1]
    best = epochs[best_epoch] if best_epoch is not None else final
    return {
        "name": name,
        "epochs": len(epochs),
        "best_epoch": best_epoch,
        "best_val": best["val_binary_crossentropy"],
        "final_train": final["binary_crossentropy"],
        # Positive and growing when the model learns the training rows rather than the pattern.
        "gap": final["val_binary_crossentropy"] - final["binary_crossentropy"],
        "seconds": final["seconds"],
    }
