#!/usr/bin/env bash
# Builds the example guest models for wasm32-unknown-unknown into
# sandbox/guest/target/wasm32-unknown-unknown/release/ (digits_mlp.wasm,
# shapes_cnn.wasm, breast_cancer_logreg.wasm, bench_kernels.wasm); diabetes-linear.wat is used as text. When
# clang (with lld's wasm-ld) is installed, the C example too, into
# sandbox/guest/target/c/ (diabetes_linear.wasm).
set -euo pipefail
cd "$(dirname "$0")/../sandbox/guest"
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build --release --target wasm32-unknown-unknown --quiet
ls -1 target/wasm32-unknown-unknown/release/*.wasm
if command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1; then
  mkdir -p target/c
  clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o target/c/diabetes_linear.wasm c/diabetes-linear.c
  ls -1 target/c/*.wasm
else
  echo "clang or wasm-ld missing: the C example is not built (apt-get install clang lld)"
fi
