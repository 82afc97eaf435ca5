#!/usr/bin/env python3
"""`gaic score` against scikit-learn on randomised files.

Each case writes a solution and a submission with a seeded random shape:
1 to 300,000 rows (past the sizes at which gaic reads a file on every core
and computes a metric in slices), numeric, huge, zero-padded or text ids,
the submission in the solution's order, reversed or shuffled, files
written as people's tools write them (see `write_csv`), floats written
in several notations, class labels as digits, words or letters, the
classes given or found, item lists for MAP@K with repeats and runs of
spaces. The metrics are taken in turn. It then checks that

- a valid submission scores what scikit-learn (scipy for Spearman,
  Kaggle's definition for MAP@K) computes on the same rows, to 1e-9
  relative, and where it has no value gaic refuses too;
- a damaged submission (a duplicated, missing or unknown id, NaN, an
  infinity, an empty or non-numeric value, a row with a field too few or
  too many) is refused with exit code 2 and a JSON error, never scored.

    python3 scripts/score_vs_sklearn.py --gaic target/release/gaic [--cases 80] [--seed 1]

Needs numpy, scipy and scikit-learn. Exits 1 on any disagreement, keeping
that case's two files and printing its command; prints a summary line
`N cases: A agreed with scikit-learn, R damaged and refused, F failed`
(agreeing is the same score, or both refusing where scikit-learn has no
value).
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
from scipy.stats import spearmanr
from sklearn import metrics

SIZES = [1, 2, 3, 7, 50, 500, 5_000, 70_000, 150_000, 300_000]
LABEL_METRICS = ["accuracy", "macro_f1", "balanced_accuracy", "mean_iou"]
CLASS_METRICS = ["roc_auc", "log_loss"] + LABEL_METRICS
VALUE_METRICS = ["rmse", "mae", "r2", "spearman"]
# Every metric gaic has, taken in turn.
METRICS = CLASS_METRICS + VALUE_METRICS + ["map_at_k"]
DAMAGE = ["dup", "drop", "unknown", "nan", "inf", "empty", "text", "fewer", "more"]


def float_text(r, x):
    form = r.choice(["%.17g", "%.6f", "%.3e", "repr"])
    return repr(float(x)) if form == "repr" else form % x


def write_csv(path, header, rows, r, swap=False):
    """Writes a CSV the way people's tools do: `\\n` or `\\r\\n` line ends (at
    times mixed), at times a byte-order mark, blank lines, a space after
    each comma, the columns swapped if `swap` allows (a submission's
    columns are found by name; a solution is `id,<target>` in that order),
    some fields quoted, a final newline or not."""
    eol = r.choice(["\n", "\r\n"])
    quote, mixed, blank, spaced = (r.random() < 0.1 for _ in range(4))
    if swap and len(header) == 2 and r.random() < 0.1:
        header, rows = header[::-1], [row[::-1] for row in rows]
    sep = ", " if spaced else ","
    quote = quote and not spaced  # `, "x"` is a field with quotes in it
    lines = [sep.join(header)]
    for row in rows:
        lines.append(sep.join(f'"{c}"' if quote and r.random() < 0.3 else c for c in row))
        if blank and r.random() < 0.01:
            lines.append("")
    text = "".join(line + (r.choice(["\n", "\r\n"]) if mixed else eol) for line in lines)
    if r.random() < 0.2:
        text = text.rstrip("\r\n")
    with open(path, "w", newline="", encoding="utf-8-sig" if r.random() < 0.1 else "utf-8") as f:
        f.write(text)


def make_ids(r, n):
    style = r.choice(["seq", "gaps", "big", "text", "zeros"])
    if style == "seq":
        ids = [str(i) for i in range(1, n + 1)]
    elif style == "gaps":
        ids = [str(i) for i in sorted(r.sample(range(1, 10 * n + 10), n))]
    elif style == "big":
        ids = [str(i) for i in r.sample(range(10**17, 10**18), n)]
    elif style == "text":
        ids = [f"img_{i}" for i in range(n)]
    else:
        ids = [f"{i:06d}" for i in range(n)]
    if r.random() < 0.5:
        r.shuffle(ids)
    return style, ids


def case(seed, folder):
    """One case, its files written: (description, [metric, solution,
    submission, extra arguments], scikit-learn's score or None, the damage
    done to the submission or None)."""
    r, g = random.Random(seed), np.random.default_rng(seed)
    n = r.choice(SIZES)
    metric = METRICS[seed % len(METRICS)]
    style, ids = make_ids(r, n)
    args, order = [], []
    if metric in CLASS_METRICS:
        k = 2 if metric == "roc_auc" else r.choice([2, 3, 10, 12])
        given = r.random() < 0.5
        names = r.choice([[str(i) for i in range(k)], [f"c{i}" for i in range(k)], [chr(65 + i) for i in range(k)]])
        y = g.integers(0, k, n)
        y[: min(n, k)] = np.arange(min(n, k))
        if given:
            args = ["--classes", ",".join(names)]
        sol_header, sol_rows = ["id", "label"], [[i, names[c]] for i, c in zip(ids, y)]
        # The class order gaic uses: as given, else the labels met, sorted.
        order = names if given else sorted({row[1] for row in sol_rows})
        truth = np.array([order.index(row[1]) for row in sol_rows])
    elif metric == "map_at_k":
        args = ["--k", str(r.randint(1, 10))]
        # Up to six relevant items a query (none at times), written with
        # single spaces; the same item may be listed twice.
        truth = [[str(r.randrange(60)) for _ in range(r.choice([0, 1, 2, 3, 6]))] for _ in range(n)]
        sol_header, sol_rows = ["id", "items"], [[i, " ".join(t)] for i, t in zip(ids, truth)]
    else:
        sol_header = ["id", "value"]
        sol_rows = [[i, float_text(r, v)] for i, v in zip(ids, g.normal(0, 50, n))]
        truth = np.array([float(row[1]) for row in sol_rows])

    # The submission: rows in the solution's order, reversed or shuffled.
    perm = list(range(n))
    arrangement = r.choice(["same", "reversed", "shuffled"])
    if arrangement == "reversed":
        perm.reverse()
    elif arrangement == "shuffled":
        r.shuffle(perm)
    if metric == "roc_auc":
        score = g.random(n) + 0.3 * (truth == 1)
        sub_header, cells = ["id", "label"], [[float_text(r, s)] for s in score]
    elif metric == "log_loss":
        p = g.random((n, len(order))) + 0.01
        p /= p.sum(1, keepdims=True)
        # Two classes: one column, the probability of the second.
        if len(order) == 2:
            sub_header, cells = ["id", "label"], [[f"{row[1]:.10f}"] for row in p]
        else:
            sub_header, cells = ["id"] + order, [[f"{v:.10f}" for v in row] for row in p]
    elif metric in LABEL_METRICS:
        met = np.arange(len(order))
        pred = np.where(g.random(n) < 0.6, truth, met[g.integers(0, len(met), n)])
        sub_header, cells = ["id", "label"], [[order[c]] for c in pred]
    elif metric == "map_at_k":
        # Relevant items and others in any order, some repeated, the
        # spaces between them one or more.
        lists = []
        for t in truth:
            items = [x for x in t if r.random() < 0.7] + [str(r.randrange(60)) for _ in range(r.randrange(8))]
            r.shuffle(items)
            lists.append(items)
        sub_header, cells = ["id", "items"], [[r.choice([" ", "  "]).join(items)] for items in lists]
    else:
        sub_header, cells = ["id", "value"], [[float_text(r, v)] for v in truth + g.normal(0, 5, n)]
    sub_rows = [[ids[j]] + cells[j] for j in perm]

    # scikit-learn's score of the texts written, read back row for row.
    if metric in LABEL_METRICS:
        pred = np.array([order.index(c[0]) for c in cells])
    elif metric == "map_at_k":
        pred = [c[0].split() for c in cells]
    else:
        pred = np.array([[float(v) for v in c] for c in cells], dtype=float)
    try:
        expected = reference(metric, truth, pred, len(order), args)
    except ValueError:  # scikit-learn refuses these rows (one class met for log loss)
        expected = None
    damage = None
    if n >= 2 and r.random() < 0.35:
        # An item list has no wrong values: only its rows can be damaged.
        damage = r.choice(DAMAGE if metric != "map_at_k" else ["dup", "drop", "unknown", "fewer", "more"])
        damaged(r, damage, sub_rows)
        expected = None
    sol, sub = os.path.join(folder, f"{seed}-solution.csv"), os.path.join(folder, f"{seed}-submission.csv")
    write_csv(sol, sol_header, sol_rows, r)
    write_csv(sub, sub_header, sub_rows, r, swap=True)
    what = f"seed {seed}: {metric}, {n} rows, {style} ids, {arrangement}, damage {damage}"
    return what, [metric, sol, sub, args], expected, damage


def damaged(r, how, rows):
    j = r.randrange(len(rows))
    if how == "dup":
        rows.insert(r.randrange(len(rows)), list(rows[j]))
    elif how == "drop":
        del rows[j]
    elif how == "unknown":
        rows.insert(r.randrange(len(rows)), ["zz_unknown"] + rows[j][1:])
    elif how == "fewer":
        rows[j] = rows[j][:1]
    elif how == "more":
        rows[j] = rows[j] + ["1"]
    else:
        text = {"nan": r.choice(["nan", "NaN"]), "inf": r.choice(["inf", "-inf", "1e999"]), "empty": "", "text": "abc"}
        rows[j] = [rows[j][0], text[how]] + rows[j][2:]


def average_precision(relevant, predicted, k):
    """AP@K as Kaggle defines it (REFERENCE.md): a repeated prediction
    credited once, a query with nothing relevant 0."""
    hits, score = 0, 0.0
    for i, item in enumerate(predicted[:k]):
        if item in relevant and item not in predicted[:i]:
            hits += 1
            score += hits / (i + 1)
    return score / min(len(relevant), k) if relevant else 0.0


def reference(metric, truth, pred, k, args):
    """scikit-learn's (or scipy's) value; None where it has none. MAP@K,
    which scikit-learn lacks, by Kaggle's definition."""
    n = len(truth)
    if metric == "map_at_k":
        top = int(args[1])
        return sum(average_precision(t, p, top) for t, p in zip(truth, pred)) / n
    if metric == "roc_auc":
        return metrics.roc_auc_score(truth, pred[:, 0]) if len(set(truth)) == 2 else None
    if metric == "accuracy":
        return metrics.accuracy_score(truth, pred)
    if metric == "macro_f1":
        return metrics.f1_score(truth, pred, average="macro", labels=list(range(k)), zero_division=0)
    if metric == "balanced_accuracy":
        return metrics.balanced_accuracy_score(truth, pred)
    if metric == "mean_iou":
        # A class neither met nor predicted has no IoU and is left out.
        iou = metrics.jaccard_score(truth, pred, labels=list(range(k)), average=None, zero_division=0)
        seen = np.isin(np.arange(k), np.concatenate([truth, pred]))
        return float(iou[seen].mean())
    if metric == "log_loss":
        p = np.stack([1 - pred[:, 0], pred[:, 0]], 1) if k == 2 else pred
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return metrics.log_loss(truth, p / p.sum(1, keepdims=True), labels=list(range(k)))
    if metric == "rmse":
        return math.sqrt(metrics.mean_squared_error(truth, pred[:, 0]))
    if metric == "mae":
        return metrics.mean_absolute_error(truth, pred[:, 0])
    if metric == "r2":
        return metrics.r2_score(truth, pred[:, 0]) if n > 1 else None
    if metric == "spearman":
        return float(spearmanr(truth, pred[:, 0]).statistic) if n > 1 else None
    raise ValueError(metric)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gaic", default="target/release/gaic")
    ap.add_argument("--cases", type=int, default=80)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", help="where the files go (default: a temporary folder)")
    a = ap.parse_args()
    folder = a.dir or tempfile.mkdtemp(prefix="score-vs-sklearn-")
    os.makedirs(folder, exist_ok=True)
    agreed = refused = failed = 0
    for seed in range(a.seed, a.seed + a.cases):
        what, (metric, sol, sub, args), expected, damage = case(seed, folder)
        cmd = [a.gaic, "score", "--metric", metric, "--solution", sol, "--submission", sub, "--json"] + args
        out = subprocess.run(cmd, capture_output=True, text=True)
        problem = None
        if damage is not None:
            if out.returncode != 2 or "error" not in json.loads(out.stdout or "{}"):
                problem = f"a damaged submission was not refused (exit {out.returncode}): {out.stdout}{out.stderr}"
        elif expected is None or math.isnan(expected):
            # scikit-learn has no value: gaic must refuse too, not invent one.
            if out.returncode != 2:
                problem = f"scikit-learn has no value, gaic gave one (exit {out.returncode}): {out.stdout}"
        elif out.returncode != 0:
            problem = f"refused a valid submission (exit {out.returncode}): {out.stdout}{out.stderr}"
        else:
            got = json.loads(out.stdout)["score"]
            if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
                problem = f"score {got!r}, scikit-learn {expected!r}"
        if problem:
            failed += 1
            print(f"FAIL {what}: {problem}\n  {' '.join(cmd)}", flush=True)
            continue
        agreed += damage is None
        refused += damage is not None
        os.remove(sol)
        os.remove(sub)
    print(f"{a.cases} cases: {agreed} agreed with scikit-learn, {refused} damaged and refused, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
