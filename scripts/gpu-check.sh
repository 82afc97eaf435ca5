#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the CPU-versus-CUDA parity tests (failing,
# not skipping, when CUDA is unavailable) and the CPU-versus-CUDA host matmul
# benchmark, in one go.
#
#   scripts/gpu-check.sh            # needs the NVIDIA driver; no CUDA toolkit
#                                   # is needed to build (libraries load at run time)
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
echo "== parity tests (CPU vs CUDA)"
GAIC_REQUIRE_CUDA=1 cargo test --release -p gaic-sandbox --test cuda -- --ignored --nocapture
echo "== host matmul: CPU vs CUDA"
cargo bench -p gaic-sandbox --bench host_ops -- --warm-up-time 1 --measurement-time 3
