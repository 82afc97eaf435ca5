#!/usr/bin/env bash
# Builds the example guest models for wasm32-unknown-unknown into
# sandbox/guest/target/wasm32-unknown-unknown/release/ (digits_mlp.wasm,
# breast_cancer_logreg.wasm); diabetes-linear.wat is used as text.
set -euo pipefail
cd "$(dirname "$0")/../sandbox/guest"
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo build --release --target wasm32-unknown-unknown --quiet
ls -1 target/wasm32-unknown-unknown/release/*.wasm
