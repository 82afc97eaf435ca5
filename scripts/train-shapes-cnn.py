#!/usr/bin/env python3
"""Trains the weights of the example model `shapes-cnn` on the `shapes`
task's public training data and writes them as little-endian f32 to
sandbox/guest/examples/shapes-cnn/weights.bin.

    python3 scripts/make-shapes-task.py --out /tmp/shapes
    python3 scripts/train-shapes-cnn.py --task /tmp/shapes

The network is the model's, computed here with numpy exactly as the host ops
compute it: pixels / 255 → conv 5×5 (8 filters, padding 2) → ReLU →
max-pool 2×2 → conv 3×3 (16 filters, padding 1) → ReLU → max-pool 2×2 →
1,024 features → 4 scores. Every layer (each convolution with a bias per
channel) is trained by mini-batch Adam on the cross-entropy, with the
backward pass written out below; the seed fixes the start and the batches,
so a rerun on the same machine writes the same weights. Needs numpy.
"""
import argparse
import os

import numpy as np

CLASSES = ["circle", "square", "triangle", "cross"]
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "sandbox", "guest", "examples", "shapes-cnn", "weights.bin")


def conv2d(x, w, pad):
    """NCHW convolution (cross-correlation, as the host's conv2d), stride 1."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # n,c,oh,ow,kh,kw
    return np.einsum("nchwij,ocij->nohw", win, w, optimize=True).astype(np.float32)


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def unpool2(d, a, p):
    """Max-pool's gradient: to the window's maxima."""
    up = d.repeat(2, axis=2).repeat(2, axis=3)
    return up * (a == p.repeat(2, axis=2).repeat(2, axis=3))


def conv_weights_grad(x, dz, pad, k):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    return np.einsum("nchwij,nohw->ocij", win, dz, optimize=True)


def forward(x, p):
    z1 = conv2d(x, p["w1"], 2) + p["b1"][None, :, None, None]
    a1 = np.maximum(z1, 0)
    p1 = maxpool2(a1)
    z2 = conv2d(p1, p["w2"], 1) + p["b2"][None, :, None, None]
    a2 = np.maximum(z2, 0)
    p2 = maxpool2(a2)
    f = p2.reshape(len(x), -1)
    return f @ p["w3"] + p["b3"], (x, z1, a1, p1, z2, a2, p2, f)


def grads(y, s, cache, p):
    x, z1, a1, p1, z2, a2, p2, f = cache
    e = np.exp(s - s.max(axis=1, keepdims=True))
    ds = e / e.sum(axis=1, keepdims=True)
    ds[np.arange(len(y)), y] -= 1
    ds /= len(y)
    g = {"w3": f.T @ ds, "b3": ds.sum(axis=0)}
    dz2 = unpool2((ds @ p["w3"].T).reshape(p2.shape), a2, p2) * (z2 > 0)
    g["w2"], g["b2"] = conv_weights_grad(p1, dz2, 1, 3), dz2.sum(axis=(0, 2, 3))
    # The input's gradient: a convolution by the flipped, transposed kernel.
    dp1 = conv2d(dz2, p["w2"][:, :, ::-1, ::-1].transpose(1, 0, 2, 3).copy(), 1)
    dz1 = unpool2(dp1, a1, p1) * (z1 > 0)
    g["w1"], g["b1"] = conv_weights_grad(x, dz1, 2, 5), dz1.sum(axis=(0, 2, 3))
    return g


def train(x, y, seed, epochs):
    rng = np.random.RandomState(seed)
    p = {
        "w1": rng.standard_normal((8, 1, 5, 5)) * np.sqrt(2 / 25),
        "b1": np.zeros(8),
        "w2": rng.standard_normal((16, 8, 3, 3)) * np.sqrt(2 / 72),
        "b2": np.zeros(16),
        "w3": rng.standard_normal((1024, 4)) * np.sqrt(1 / 1024),
        "b3": np.zeros(4),
    }
    p = {k: v.astype(np.float32) for k, v in p.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    t, lr = 0, 3e-3
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            s, cache = forward(x[idx], p)
            g = grads(y[idx], s, cache, p)
            t += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
                step = lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(v2[k] / (1 - 0.999**t)) + 1e-8)
                p[k] = (p[k] - step).astype(np.float32)
        if epoch == epochs - 1 or epoch % 5 == 4:
            acc = (forward(x[:1000], p)[0].argmax(axis=1) == y[:1000]).mean()
            print(f"epoch {epoch + 1}: training accuracy {acc:.4f} (first 1,000 rows)", flush=True)
    return p


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    x = data[:, 1:1 + 1024].astype(np.float32).reshape(-1, 1, 32, 32) / 255.0
    y = np.array([CLASSES.index(v) for v in data[:, -1]])
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", required=True, help="a folder written by make-shapes-task.py")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    x, y = load(os.path.join(args.task, "public", "train.csv"))
    fit_n = len(x) * 9 // 10
    p = train(x[:fit_n], y[:fit_n], args.seed, args.epochs)
    held = (forward(x[fit_n:], p)[0].argmax(axis=1) == y[fit_n:]).mean()
    print(f"held-out accuracy (last tenth of train.csv): {held:.4f}")
    labels = os.path.join(args.task, "hidden", "test_labels.csv")
    if os.path.exists(labels):
        xt = np.loadtxt(os.path.join(args.task, "hidden", "test_inputs.csv"), delimiter=",", skiprows=1,
                        dtype=np.float32)[:, 1:].reshape(-1, 1, 32, 32) / 255.0
        yt = np.array([CLASSES.index(v) for v in np.loadtxt(labels, delimiter=",", skiprows=1, dtype=str)[:, 1]])
        pred = forward(xt, p)[0].argmax(axis=1)
        print(f"test accuracy: {(pred == yt).mean():.4f} over {len(yt)} rows")
    # The model adds each conv bias as a row (one value per output pixel).
    order = ["w1", "b1", "w2", "b2", "w3", "b3"]
    blob = np.concatenate([p[k].ravel() for k in order]).astype("<f4")
    blob.tofile(args.out)
    print(f"wrote {args.out}: {blob.size} weights")


if __name__ == "__main__":
    main()
