#!/usr/bin/env python3
"""Seeds a running gaic server with demo competitors and submissions.

Each competitor trains a nearest-centroid model on the public training data
of the demo tasks `digits` and `breast-cancer`, then submits predictions
with a different share of deliberate noise, so the boards and charts have a
spread of scores. With --close, the admin closes both tasks afterwards so the
private boards (and everything computed from final results) are revealed.

Only the Python standard library is used; the server is reached over HTTP
like any client.

    python3 scripts/seed_demo.py --server http://127.0.0.1:8080 \
        --admin-password "$GAIC_ADMIN_PASSWORD" --users 12 --close
"""

import argparse
import csv
import json
import math
import os
import random
import sys
import urllib.error
import urllib.request
import uuid

TASKS_DIR = os.path.join(os.path.dirname(__file__), "..", "tasks")
COUNTRIES = ["KR", "US", "IN", "DE", "BR", "NG", "JP", "FR", "VN", "CA", "KE", "PL"]
PASSWORD = "demo-password-1"


def call(server, method, path, token=None, body=None, files=None):
    headers = {}
    data = None
    if files is not None:
        boundary = uuid.uuid4().hex
        parts = []
        for name, (filename, content) in files.items():
            disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
            parts.append(f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(server + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as res:
            text = res.read().decode()
            return res.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, json.loads(text) if text.startswith("{") else text


def token_for(server, username, password):
    status, body = call(server, "POST", "/api/v1/tokens", body={"username": username, "password": password, "name": "seed"})
    if status != 201:
        sys.exit(f"cannot log in as {username}: {status} {body}")
    return body["token"]


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def centroids(task, target):
    header, rows = read_csv(os.path.join(TASKS_DIR, task, "public", "train.csv"))
    t = header.index(target)
    feats = [i for i, h in enumerate(header) if h not in ("id", target)]
    # Scale each feature by its spread so no single one dominates.
    cols = [[float(r[i]) for r in rows] for i in feats]
    scale = [max(1e-9, (max(c) - min(c))) for c in cols]
    sums, counts = {}, {}
    for r in rows:
        y = r[t]
        x = [float(r[i]) / s for i, s in zip(feats, scale)]
        acc = sums.setdefault(y, [0.0] * len(x))
        for j, v in enumerate(x):
            acc[j] += v
        counts[y] = counts.get(y, 0) + 1
    cents = {y: [v / counts[y] for v in acc] for y, acc in sums.items()}
    return cents, scale


def distances(task, cents, scale):
    header, rows = read_csv(os.path.join(TASKS_DIR, task, "public", "test_inputs.csv"))
    feats = [i for i, h in enumerate(header) if h != "id"]
    out = []
    for r in rows:
        x = [float(r[i]) / s for i, s in zip(feats, scale)]
        d = {y: math.dist(x, c) for y, c in cents.items()}
        out.append((r[0], d))
    return out


def digits_csv(dists, noise, rng):
    lines = ["id,label"]
    for id_, d in dists:
        label = min(d, key=d.get)
        if rng.random() < noise:
            label = str(rng.randrange(10))
        lines.append(f"{id_},{label}")
    return ("\n".join(lines) + "\n").encode()


def cancer_csv(dists, noise, rng):
    lines = ["id,malignant"]
    for id_, d in dists:
        # Closer to the malignant centroid → higher probability.
        p = 1.0 / (1.0 + math.exp(4.0 * (d["1"] - d["0"])))
        p = min(1.0, max(0.0, (1 - noise) * p + noise * rng.random()))
        lines.append(f"{id_},{p:.6f}")
    return ("\n".join(lines) + "\n").encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="http://127.0.0.1:8080")
    ap.add_argument("--admin-password", default=os.environ.get("GAIC_ADMIN_PASSWORD"))
    ap.add_argument("--users", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--close", action="store_true", help="close both tasks afterwards (admin)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    server = args.server.rstrip("/")

    digits = distances("digits", *centroids("digits", "label"))
    cancer = distances("breast-cancer", *centroids("breast-cancer", "malignant"))
    for i in range(args.users):
        name = f"demo{i + 1:02d}"
        body = {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
                "country": COUNTRIES[i % len(COUNTRIES)], "display_name": f"Demo Competitor {i + 1}",
                "age_14_or_older": True}
        status, res = call(server, "POST", "/api/v1/users", body=body)
        if status not in (201, 409):
            sys.exit(f"cannot register {name}: {status} {res}")
        token = token_for(server, name, PASSWORD)
        skill = rng.random()
        for attempt in range(rng.randint(1, 3)):
            noise = max(0.0, 0.8 * (1 - skill) - 0.1 * attempt)
            for slug, make in (("digits", lambda: digits_csv(digits, noise, rng)),
                               ("breast-cancer", lambda: cancer_csv(cancer, noise, rng))):
                status, res = call(server, "POST", f"/api/v1/tasks/{slug}/submissions", token=token,
                                   files={"file": ("predictions.csv", make()), "message": (None, f"noise {noise:.2f}".encode())})
                if status != 201:
                    print(f"  {name} → {slug}: {status} {res}", file=sys.stderr)
                else:
                    print(f"{name} → {slug}: public {res['submission'].get('public_score')}")
    if args.close:
        if not args.admin_password:
            sys.exit("--close needs --admin-password (or GAIC_ADMIN_PASSWORD)")
        admin = token_for(server, "admin", args.admin_password)
        for slug in ("digits", "breast-cancer"):
            status, res = call(server, "POST", f"/api/v1/tasks/{slug}/close", token=admin)
            print(f"close {slug}: {status}")


if __name__ == "__main__":
    main()
