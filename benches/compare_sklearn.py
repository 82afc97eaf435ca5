#!/usr/bin/env python3
"""Side by side: `gaic score` versus scikit-learn (pandas read + merge +
metric) on the same generated files, end to end (reading the CSVs included),
and the floor: pandas reading the two files and nothing else.

    cargo build --release
    python3 benches/compare_sklearn.py [--rows 1000000 10000000] [--gaic target/release/gaic]

Needs numpy, pandas and scikit-learn. Prints each timing (best of --runs;
the three sides take turns, one run each a round, so that a slow spell of
a shared machine falls on all of them),
the ratio sklearn/gaic, gaic/floor, and checks that both give the same
score. log_loss (10 probability columns, ~210 bytes a row) is left out above
--max-log-loss-rows rows to keep the files on a small disk.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn import metrics


def write(path, ids, cols):
    df = pd.DataFrame({"id": ids, **cols})
    df.to_csv(path, index=False, float_format="%.17g")


def gen(tmp, metric, n, rng):
    ids = np.arange(1, n + 1)
    sol, sub = os.path.join(tmp, f"{metric}-{n}-sol.csv"), os.path.join(tmp, f"{metric}-{n}-sub.csv")
    if metric == "roc_auc":
        y = (rng.random(n) < 0.3).astype(int)
        write(sol, ids, {"y": y})
        write(sub, ids, {"y": rng.random(n) + 0.3 * y})
    elif metric == "log_loss":
        k = 10
        y = rng.integers(0, k, n)
        p = rng.random((n, k))
        p /= p.sum(1, keepdims=True)
        write(sol, ids, {"y": y})
        write(sub, ids, {str(c): p[:, c] for c in range(k)})
    elif metric == "macro_f1":
        k = 10
        y = rng.integers(0, k, n)
        pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
        write(sol, ids, {"y": y})
        write(sub, ids, {"y": pred})
    elif metric == "rmse":
        y = rng.random(n) * 100
        write(sol, ids, {"y": y})
        write(sub, ids, {"y": y + rng.random(n) - 0.5})
    return sol, sub


def sklearn_score(metric, sol, sub):
    s = pd.read_csv(sol)
    p = pd.read_csv(sub)
    m = s.merge(p, on="id", suffixes=("", "_p"))
    if metric == "roc_auc":
        return metrics.roc_auc_score(m["y"], m["y_p"])
    if metric == "log_loss":
        probs = m[[str(c) for c in range(10)]].to_numpy()
        probs = np.clip(probs, 1e-15, 1 - 1e-15)
        probs /= probs.sum(1, keepdims=True)
        return metrics.log_loss(m["y"], probs, labels=list(range(10)))
    if metric == "macro_f1":
        return metrics.f1_score(m["y"], m["y_p"], average="macro", labels=list(range(10)))
    if metric == "rmse":
        return metrics.root_mean_squared_error(m["y"], m["y_p"])


def best_of_each(runs, *fs):
    """Runs each of `fs` once a round, `runs` rounds, so that a slow spell
    of a shared machine falls on every side alike: the best time of each
    and its last result."""
    times, results = [[] for _ in fs], [None] * len(fs)
    for _ in range(runs):
        for i, f in enumerate(fs):
            t = time.perf_counter()
            results[i] = f()
            times[i].append(time.perf_counter() - t)
    return [(min(ts), r) for ts, r in zip(times, results)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--max-log-loss-rows", type=int, default=2_000_000)
    ap.add_argument("--gaic", default="target/release/gaic")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    print(f"{'metric':<10} {'rows':>10} {'gaic s':>9} {'sklearn s':>10} {'ratio':>7} {'floor s':>8} {'gaic/floor':>10}  scores agree")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            for metric in ["roc_auc", "log_loss", "macro_f1", "rmse"]:
                if metric == "log_loss" and n > args.max_log_loss_rows:
                    continue
                sol, sub = gen(tmp, metric, n, rng)
                cmd = [args.gaic, "score", "--metric", metric, "--solution", sol, "--submission", sub, "--json"]
                if metric in ("log_loss", "macro_f1"):
                    cmd += ["--classes", ",".join(str(c) for c in range(10))]
                (g_time, out), (s_time, s_score), (f_time, _) = best_of_each(
                    args.runs,
                    lambda: subprocess.run(cmd, capture_output=True, text=True, check=True),
                    lambda: sklearn_score(metric, sol, sub),
                    lambda: (pd.read_csv(sol), pd.read_csv(sub)),
                )
                g_score = float(__import__("json").loads(out.stdout)["score"])
                agree = abs(g_score - s_score) <= 1e-9 * max(1.0, abs(s_score))
                print(f"{metric:<10} {n:>10} {g_time:>9.3f} {s_time:>10.3f} {s_time / g_time:>6.1f}x {f_time:>8.3f} {g_time / f_time:>9.2f}x  {agree} ({g_score:.12g} vs {s_score:.12g})", flush=True)
                os.remove(sol)
                os.remove(sub)
                if not agree:
                    sys.exit(1)


if __name__ == "__main__":
    main()
