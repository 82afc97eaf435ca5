#!/usr/bin/env python3
"""Export the three demo task bundles from the datasets scikit-learn ships.

Run once (the output is committed under tasks/); it is kept so that anyone can
see exactly how the data was split and regenerate it:

    pip install scikit-learn==1.9.1
    python3 scripts/export_demo_tasks.py tasks/

The split is deterministic (numpy default_rng with a fixed seed): 70% of rows
are public training data, 30% are the hidden test set. Test ids are shuffled
so that their order says nothing about the labels.
"""
import csv
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets

SEED = 20261128
TEST_FRACTION = 0.3


def write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fmt(v):
    # Integers stay integers; floats keep full precision without noise.
    if float(v).is_integer():
        return str(int(v))
    return repr(float(v))


def export(root, slug, X, y, feature_names, target, sample_value, fmt_target=fmt):
    n = len(y)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(n)
    n_test = int(round(n * TEST_FRACTION))
    test_idx, train_idx = order[:n_test], order[n_test:]
    # ids 1..n in a second random order, so that an id says nothing about
    # whether a row is in train or test nor about its label.
    ids = rng.permutation(n) + 1
    train_idx = sorted(train_idx, key=lambda i: ids[i])
    test_idx = sorted(test_idx, key=lambda i: ids[i])
    d = Path(root) / slug
    feats = [list(map(fmt, X[i])) for i in range(n)]
    write_csv(d / "public/train.csv", ["id", *feature_names, target],
              [[ids[i], *feats[i], fmt_target(y[i])] for i in train_idx])
    write_csv(d / "public/test_inputs.csv", ["id", *feature_names],
              [[ids[i], *feats[i]] for i in test_idx])
    write_csv(d / "public/sample_submission.csv", ["id", target],
              [[ids[i], sample_value] for i in test_idx])
    write_csv(d / "hidden/test_inputs.csv", ["id", *feature_names],
              [[ids[i], *feats[i]] for i in test_idx])
    write_csv(d / "hidden/test_labels.csv", ["id", target],
              [[ids[i], fmt_target(y[i])] for i in test_idx])
    print(f"{slug}: {len(train_idx)} train rows, {len(test_idx)} hidden test rows")


def main(root):
    print(f"scikit-learn {sklearn.__version__}")
    dg = datasets.load_digits()
    names = [f"px_{r}_{c}" for r in range(8) for c in range(8)]
    export(root, "digits", dg.data, dg.target, names, "label", "0")

    bc = datasets.load_breast_cancer()
    names = [n.replace(" ", "_") for n in bc.feature_names]
    # scikit-learn codes malignant as 0; the task predicts P(malignant), so
    # the positive class (1) is the malignant one.
    malignant = 1 - bc.target
    export(root, "breast-cancer", bc.data, malignant, names, "malignant", "0.5")

    db = datasets.load_diabetes(scaled=False)
    names = [n.lower() for n in db.feature_names]
    mean = float(np.mean(db.target))
    export(root, "diabetes", db.data, db.target, names, "progression", f"{mean:.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tasks")
