"""How far Keras's AUC metric is from the exact AUC, by its number of buckets, on a finished run's validation rows.

    python benchmarks/auc_buckets.py runs/test-rows/large

The history's `val_auc` is `keras.metrics.AUC(from_logits=True)` with `step.AUC_THRESHOLDS` evenly
spaced buckets of the predicted probability, updated a validation batch at a time as the epoch does.
Here the run's best and final weights (`best.weights.h5`, `final.weights.h5`) score its validation
rows, read again from the file `config.json` names, and Keras's metric at 200, 1,000, 10,000 and
100,000 buckets is set against the exact AUC from the ranks (`calibration.exact_auc`), with the
share of rows whose logit lies beyond ±6.9 (a probability within 0.001 of 0 or 1), which 1,000
buckets cannot order. HIGGS runs only. Nothing here is a test; docs/results.md, "The test rows",
has the numbers.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402

from looptrain.config import Config  # noqa: E402
from looptrain.data import higgs  # noqa: E402
from looptrain.experiment import load_experiment  # noqa: E402
from looptrain.loop.calibration import exact_auc  # noqa: E402

BUCKETS = (200, 1_000, 10_000, 100_000)


def main(folder: Path) -> None:
    record = json.loads((folder / "config.json").read_text())
    fields = record["fields"]
    config = Config(n_validation=fields["n_validation"], n_train=fields["n_train"], n_test=0,
                    batch_size=fields["batch_size"])
    data = higgs.load(Path(record["data"]), config)
    labels = data.validation_labels.numpy()
    print("| weights | exact AUC | share beyond ±6.9 | " + " | ".join(f"{n:,} buckets" for n in BUCKETS) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in BUCKETS) + " |")
    for weights in ("best", "final"):
        model = load_experiment(Path(record["experiment_file"])).build_model()
        model.load_weights(folder / f"{weights}.weights.h5")
        logits = model(data.validation_features, training=False).numpy()
        exact = exact_auc(labels, logits)
        errors = []
        for buckets in BUCKETS:
            metric = keras.metrics.AUC(num_thresholds=buckets, from_logits=True)
            for start in range(0, len(labels), config.batch_size):
                metric.update_state(labels[start:start + config.batch_size], logits[start:start + config.batch_size])
            errors.append(float(metric.result()) - exact)
        print(f"| {weights} | {exact:.5f} | {np.mean(np.abs(logits) > 6.9):.2f} | "
              + " | ".join(f"{error:+.5f}" for error in errors) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
