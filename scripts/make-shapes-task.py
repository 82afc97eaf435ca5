#!/usr/bin/env python3
"""Writes the `shapes` task bundle: 32x32 grey images of a circle, a square,
a triangle or a cross (rotated, scaled, moved, on a noisy background), drawn
procedurally from a fixed seed, so the same command always writes the same
bytes. A task where a GPU worker matters: a small CNN over 10,000 test
images is about 10 GFLOP of host ops.

    python3 scripts/make-shapes-task.py --out /tmp/shapes
    gaic tasks create /tmp/shapes        # as an organizer, then publish it

Options: --train N and --test N rows (6,000 and 10,000), --seed, and
--device cuda|any: the task's `[budget] device` (cuda by default: its model
jobs go only to GPU workers; any lets every worker run them). Python 3 alone,
no packages. The example model is sandbox/guest/examples/shapes-cnn.
"""
import argparse
import math
import os

CLASSES = ["circle", "square", "triangle", "cross"]
SIDE = 32

TASK_TOML = """# The shapes task, written by scripts/make-shapes-task.py (seed {seed}).
slug = "shapes"
title = "Shapes in noise"
summary = "Tell circles, squares, triangles and crosses apart in 32x32 noisy images."
domain = "vision"
rated = false

[metric]
name = "accuracy"
decimals = 4

[data]
id_column = "id"
target_columns = ["label"]
classes = ["circle", "square", "triangle", "cross"]
# One row is one 32x32 image (one channel), pixels in row-major order.
input_shape = [1, 32, 32]

[submissions]
kinds = ["predictions", "model"]
daily_cap = 5
final_selections = 2
team_size_cap = 4

[schedule]
opens = 2026-11-01T00:00:00Z
closes = 2027-05-31T23:59:59Z

[split]
public_fraction = 0.3

[budget]
fuel = 40_000_000_000
memory_mib = 256
wall_ms = {wall_ms}
device = "{device}"

[i18n.ko]
title = "잡음 속 도형"
summary = "32×32 잡음 이미지에서 원, 사각형, 삼각형, 십자를 구별하세요."
"""

README = """# Shapes in noise

Each row is a 32×32 grey image (pixels 0–255, row-major) holding one shape:
a circle, a square, a triangle or a cross, of random size, rotation and
place, brighter than a noisy background. Predict which.

## Data

| file | rows | columns |
|---|---|---|
| `train.csv` | {train:,} | `id`, `px_0_0` … `px_31_31`, `label` |
| `test_inputs.csv` | {test:,} | `id`, `px_0_0` … `px_31_31` |
| `sample_submission.csv` | {test:,} | `id`, `label` |

## Submitting

- **Predictions**: a CSV with a header `id,label`, one row per test id,
  `label` one of `circle`, `square`, `triangle`, `cross`.
- **Model**: a WebAssembly module following the gaic guest ABI. It receives
  each test row as a `1×32×32` f32 tensor and returns 4 scores in the order
  above. {device_note} The example `shapes-cnn` in the guest SDK is a small
  CNN (`conv2d`, `maxpool2d`, `matmul` host ops).

## Metric

Accuracy. 30% of the test rows make the public leaderboard.

## Origin

Drawn by `scripts/make-shapes-task.py` with seed {seed}: rerunning it writes
the same files.
"""

README_KO = """# 잡음 속 도형

각 행은 32×32 회색 이미지(픽셀 0–255, 행 우선)이며 원, 사각형, 삼각형,
십자 중 하나가 크기·회전·위치를 달리해 잡음 배경 위에 밝게 그려져
있습니다. 어느 도형인지 맞히세요.

## 데이터

| 파일 | 행 | 열 |
|---|---|---|
| `train.csv` | {train:,} | `id`, `px_0_0` … `px_31_31`, `label` |
| `test_inputs.csv` | {test:,} | `id`, `px_0_0` … `px_31_31` |
| `sample_submission.csv` | {test:,} | `id`, `label` |

## 제출

- **예측**: 헤더가 `id,label`인 CSV, 테스트 id마다 한 행, `label`은
  `circle`, `square`, `triangle`, `cross` 중 하나.
- **모델**: gaic 게스트 ABI를 따르는 WebAssembly 모듈. 테스트 행마다
  `1×32×32` f32 텐서를 받아 위 순서로 점수 4개를 돌려줍니다.

## 평가 지표

정확도. 테스트 행의 30%가 공개 리더보드에 쓰입니다.
"""


class Rng:
    """A 64-bit linear congruential generator: the same numbers on every
    Python and machine."""

    def __init__(self, seed):
        self.s = (seed * 6364136223846793005 + 1442695040888963407) % 2**64

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % 2**64
        return self.s >> 11

    def uniform(self, lo, hi):
        return lo + (hi - lo) * (self.next() / 2**53)

    def below(self, n):
        return self.next() % n


def inside(kind, u, v, r):
    if kind == 0:
        return u * u + v * v <= r * r
    if kind == 1:
        return abs(u) <= 0.8 * r and abs(v) <= 0.8 * r
    if kind == 2:
        # An equilateral triangle of circumradius r: inside its three edges,
        # whose outward normals point at 30°, 150° and 270°.
        return all(u * math.cos(a) + v * math.sin(a) <= r / 2 for a in (math.pi / 6, 5 * math.pi / 6, 1.5 * math.pi))
    arm = 0.28 * r
    return (abs(u) <= arm and abs(v) <= r) or (abs(v) <= arm and abs(u) <= r)


def image(rng, kind):
    r = rng.uniform(6.0, 12.0)
    cx, cy = rng.uniform(r, SIDE - r), rng.uniform(r, SIDE - r)
    angle = rng.uniform(0.0, 2 * math.pi)
    c, s = math.cos(angle), math.sin(angle)
    fg, bg = rng.uniform(140, 230), rng.uniform(0, 70)
    pixels = []
    for y in range(SIDE):
        for x in range(SIDE):
            dx, dy = x + 0.5 - cx, y + 0.5 - cy
            u, v = dx * c + dy * s, -dx * s + dy * c
            level = fg if inside(kind, u, v, r) else bg
            noise = rng.uniform(-35, 35)
            pixels.append(min(255, max(0, int(level + noise))))
    return pixels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train", type=int, default=6000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--device", choices=["cuda", "any"], default="cuda")
    ap.add_argument("--wall-ms", type=int, default=120_000)
    args = ap.parse_args()
    rng = Rng(args.seed)
    header = "id," + ",".join(f"px_{y}_{x}" for y in range(SIDE) for x in range(SIDE))
    for sub in ("public", "hidden"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)

    def rows(n, first_id):
        for i in range(n):
            kind = rng.below(len(CLASSES))
            yield first_id + i, kind, image(rng, kind)

    with open(os.path.join(args.out, "public", "train.csv"), "w") as f:
        f.write(header + ",label\n")
        for id_, kind, px in rows(args.train, 1):
            f.write(f"{id_},{','.join(map(str, px))},{CLASSES[kind]}\n")
    test = list(rows(args.test, 100_001))
    inputs = header + "\n" + "".join(f"{id_},{','.join(map(str, px))}\n" for id_, _, px in test)
    for sub in ("public", "hidden"):
        with open(os.path.join(args.out, sub, "test_inputs.csv"), "w") as f:
            f.write(inputs)
    with open(os.path.join(args.out, "hidden", "test_labels.csv"), "w") as f:
        f.write("id,label\n" + "".join(f"{id_},{CLASSES[kind]}\n" for id_, kind, _ in test))
    with open(os.path.join(args.out, "public", "sample_submission.csv"), "w") as f:
        f.write("id,label\n" + "".join(f"{id_},circle\n" for id_, _, _ in test))
    device_note = ("Its runs go to GPU workers (`device = \"cuda\"`)." if args.device == "cuda"
                   else "Any worker runs it.")
    with open(os.path.join(args.out, "task.toml"), "w") as f:
        f.write(TASK_TOML.format(seed=args.seed, device=args.device, wall_ms=args.wall_ms))
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(train=args.train, test=args.test, seed=args.seed, device_note=device_note))
    with open(os.path.join(args.out, "README.ko.md"), "w") as f:
        f.write(README_KO.format(train=args.train, test=args.test))
    print(f"wrote {args.out}: {args.train} training and {args.test} test images")


if __name__ == "__main__":
    main()
