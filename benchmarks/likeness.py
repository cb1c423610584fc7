"""How alike the synthetic rows and real HIGGS rows are, row by row: the numbers of docs/synthetic.md.

    python benchmarks/likeness.py ../shared/data/higgs-sample.csv.gz            # seed 0, as many rows
    python benchmarks/likeness.py ../shared/data/higgs-sample.csv.gz --seeds 0 1 2

For each seed of the generator (and the classifier), against the real rows: the largest
Kolmogorov-Smirnov statistic of any column; the largest gap between the two correlation matrices
(label included); the mean cos Δφ of each pair among the lepton, the missing energy and the two
leading jets; the classifier two-sample test of tests/data/simulation/test_synthetic.py (a 64-64 network told to
separate real from synthetic rows, label kept, AUC on 30% held out) and the same with a larger
network trained longer (256-256-256, 100 epochs); and, for the real rows and the synthetic ones,
logistic regression's validation cross-entropy on the tutorial's split (the first 1,000 rows for
validation, the next 10,000 for training) and 5-fold cross-validated; and how easily a small network
finds the label (32 units, trained on half the rows, its best cross-entropy on the other half) from
all 28 features, from the 7 masses and from the 21 low-level features. It takes two or three minutes
a seed. Nothing here is a test.
"""

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
# The tests' own measures, each checked there on a case worked out by hand.
from test_synthetic import classifier_auc, cross_validated_cross_entropy, ks_statistic, logistic_cross_entropy  # noqa: E402

from looptrain.data import columns
from looptrain.data.simulation import synthetic  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
LEADING = ("lepton_phi", "missing_energy_phi", "jet1_phi", "jet2_phi")


def cross_entropies(rows):
    """Logistic regression's validation cross-entropy on the tutorial's split, and cross-validated."""
    return logistic_cross_entropy(rows[1_000:11_000], rows[:1_000]), cross_validated_cross_entropy(rows)


def label_cross_entropies(rows) -> str:
    """A 32-unit network's best held-out cross-entropy on the label, from each group of features."""
    import keras  # here, as in the tests: the rest runs without TensorFlow

    half = len(rows) // 2
    groups = {"all": range(1, 29), "masses": range(22, 29), "low-level": range(1, 22)}
    found = []
    for name, columns in groups.items():
        features = rows[:, list(columns)]
        features = (features - features[:half].mean(axis=0)) / features[:half].std(axis=0)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((features.shape[1],)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
        history = model.fit(features[:half], rows[:half, :1], validation_data=(features[half:], rows[half:, :1]),
                            batch_size=256, epochs=60, verbose=0)
        found.append(f"{name} {min(history.history['val_loss']):.4f}")
    return ", ".join(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", type=Path, help="real HIGGS rows, a HIGGS-layout .csv.gz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    arguments = parser.parse_args()
    with gzip.open(arguments.sample, "rt") as text:
        real = np.loadtxt(text, delimiter=",")
    column = {name: index for index, name in enumerate(columns.COLUMNS)}
    print("logistic regression, real rows: validation %.4f, cross-validated %.4f" % cross_entropies(real))
    print(f"a 32-unit network's cross-entropy, real rows: {label_cross_entropies(real)}")
    for seed in arguments.seeds:
        fake = synthetic.generate(len(real), seed)
        ks = {name: ks_statistic(real[:, i], fake[:, i]) for i, name in enumerate(columns.COLUMNS) if i}
        worst = max(ks, key=ks.get)
        gap = np.abs(np.corrcoef(real, rowvar=False) - np.corrcoef(fake, rowvar=False))
        first, second = np.unravel_index(np.argmax(gap), gap.shape)
        print(f"seed {seed}: largest KS {ks[worst]:.3f} ({worst}); largest correlation gap {gap.max():.3f} "
              f"({columns.COLUMNS[first]}, {columns.COLUMNS[second]})")
        for i, name in enumerate(LEADING):
            for other in LEADING[i + 1:]:
                means = [np.mean(np.cos((rows[:, column[name]] - rows[:, column[other]]) * np.pi / columns.PHI_MAX))
                         for rows in (real, fake)]
                print(f"  mean cos Δφ {name[:-4]}, {other[:-4]}: real {means[0]:+.3f}, synthetic {means[1]:+.3f}")
        small, large = classifier_auc(real, fake, seed), classifier_auc(real, fake, seed, (256, 256, 256), 100)
        print(f"  classifier AUC: 64-64, 30 epochs {small:.3f}; 256-256-256, 100 epochs {large:.3f}")
        print("  logistic regression, synthetic rows: validation %.4f, cross-validated %.4f" % cross_entropies(fake))
        print(f"  a 32-unit network's cross-entropy, synthetic rows: {label_cross_entropies(fake)}")


if __name__ == "__main__":
    main()
