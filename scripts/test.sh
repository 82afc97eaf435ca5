#!/usr/bin/env bash
# Runs the whole test suite: unit tests, then the integration suite on SQLite
# and (when reachable) on PostgreSQL. This is the README's test command and
# what CI runs.
#
#   GAIC_TEST_DATABASE_URL  PostgreSQL URL of a database the tests may use to
#                           create fresh databases
#                           (default postgres://postgres@127.0.0.1:5432/test)
#   GAIC_TEST_REQUIRE_PG=1  fail instead of skipping when PostgreSQL is not reachable
#   GAIC_TEST_REQUIRE_BROWSER=1
#                           fail instead of skipping the browser tests when
#                           chromium/chromedriver are missing (apt-get install
#                           chromium chromium-driver); screenshots of the main
#                           pages land in target/screenshots/
#   GAIC_TEST_REQUIRE_PYTHON=1
#                           fail instead of skipping the Python credential
#                           verifier's test, the API fuzz run and the scorer's
#                           check against scikit-learn when python3 lacks the
#                           cryptography package, schemathesis or scikit-learn
#                           (pip install cryptography schemathesis scikit-learn)
#   GAIC_TEST_REQUIRE_CLANG=1
#                           fail instead of skipping the C guest model's test
#                           when clang and wasm-ld are missing
#                           (apt-get install clang lld)
#   GAIC_TEST_REQUIRE_NVRTC=1
#                           fail instead of skipping the check that the CUDA
#                           kernels compile when NVRTC cannot be installed
#                           (pip install nvidia-cuda-nvrtc-cu12, and CUDA 13's
#                           nvidia-cuda-nvrtc into target/; no GPU needed)
#   GAIC_TEST_REQUIRE_S3=1  fail instead of skipping the S3 tests when moto's
#                           S3 server cannot be installed (pip install
#                           'moto[server]'); the tests start it themselves
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="${GAIC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== example models (wasm32-unknown-unknown)"
scripts/build-examples.sh
# optional VAR CHECK INSTALL REQUIRE WHAT: sets VAR to 1 when the command
# CHECK succeeds (after running INSTALL, where it did not at first);
# otherwise to 0 with a note that the tests needing it stay ignored, or
# fails when the environment variable named REQUIRE is 1.
optional() {
  local var=$1 check=$2 install=$3 require=$4 what=$5
  if eval "$check" >/dev/null 2>&1 || { eval "$install" >/dev/null 2>&1 && eval "$check" >/dev/null 2>&1; }; then
    printf -v "$var" 1
    return
  fi
  if [ "${!require:-0}" = 1 ]; then
    if [ "$install" = ":" ]; then echo "$what is missing" >&2; else echo "$what is missing and could not be installed ($install)" >&2; fi
    exit 1
  fi
  echo "== $what missing: its tests stay ignored (set $require=1 to fail instead)"
  printf -v "$var" 0
}

# The S3 tests start moto's S3 server; the Python credential verifier
# (scripts/verify_credential.py) needs the cryptography package; the API
# fuzz run (tests/api/fuzz.rs) drives schemathesis. All from PyPI.
optional s3_tests "command -v moto_server" "python3 -m pip install --quiet 'moto[server]'" \
  GAIC_TEST_REQUIRE_S3 "moto's S3 server (moto_server)"
optional py_tests "python3 -c 'import cryptography'" "python3 -m pip install --quiet cryptography" \
  GAIC_TEST_REQUIRE_PYTHON "python3's cryptography package"
optional fuzz_tests "command -v schemathesis" "python3 -m pip install --quiet schemathesis" \
  GAIC_TEST_REQUIRE_PYTHON "schemathesis"
# `gaic score` is checked against scikit-learn on randomised files
# (scripts/score_vs_sklearn.py).
optional sklearn_tests "python3 -c 'import numpy, scipy, sklearn'" "python3 -m pip install --quiet scikit-learn" \
  GAIC_TEST_REQUIRE_PYTHON "python3's scikit-learn"
# The C guest model: build-examples.sh built it if clang and wasm-ld are
# there (CI installs them: apt-get install clang lld).
optional c_tests "test -f sandbox/guest/target/c/diabetes_linear.wasm" ":" \
  GAIC_TEST_REQUIRE_CLANG "clang and wasm-ld for the C guest model (apt-get install clang lld)"

# NVRTC alone (PyPI's nvidia-cuda-nvrtc-cu12, no GPU or driver) compiles
# the CUDA backend's kernels, so their source is checked on every run; the
# GPU itself is exercised by scripts/gpu-check.sh.
nvrtc_dir() {
  python3 -c 'import importlib.util, os, sys
s = importlib.util.find_spec("nvidia.cuda_nvrtc")
p = os.path.join(list(s.submodule_search_locations)[0], "lib")
print(p) if os.path.exists(os.path.join(p, "libnvrtc.so.12")) else sys.exit(1)' 2>/dev/null
}
optional nvrtc_tests nvrtc_dir "python3 -m pip install --quiet nvidia-cuda-nvrtc-cu12" \
  GAIC_TEST_REQUIRE_NVRTC "NVRTC (nvidia-cuda-nvrtc-cu12) for the CUDA kernels' compile check"
# A GPU machine may have only CUDA 13: its NVRTC (PyPI's nvidia-cuda-nvrtc
# 13, unpacked under target/) compiles the same kernels through the same
# bindings, found under the name gpu-pack/run.sh links it to. Prints the
# LD_LIBRARY_PATH for it.
nvrtc13_dir() {
  local d="$PWD/target/nvrtc13" lib
  lib=$(find "$d" -name libnvrtc.so.13 2>/dev/null | head -1)
  if [ -z "$lib" ]; then
    python3 -m pip install --quiet --target "$d" 'nvidia-cuda-nvrtc>=13,<14' >/dev/null 2>&1 || return 1
    lib=$(find "$d" -name libnvrtc.so.13 | head -1)
    [ -n "$lib" ] || return 1
  fi
  mkdir -p "$d/link" && ln -sf "$lib" "$d/link/libnvrtc.so"
  echo "$d/link:$(dirname "$lib")"
}
optional nvrtc13_tests nvrtc13_dir ":" \
  GAIC_TEST_REQUIRE_NVRTC "CUDA 13's NVRTC (nvidia-cuda-nvrtc 13) for the CUDA kernels' compile check"

echo "== tests on SQLite"
GAIC_TEST_DATABASE_URL= cargo test --workspace --all-targets
if [ "$s3_tests" = 1 ]; then
  echo "== S3 tests on SQLite (moto)"
  GAIC_TEST_DATABASE_URL= cargo test --workspace --test api s3:: -- --ignored
fi
if [ "$py_tests" = 1 ]; then
  echo "== the Python credential verifier"
  GAIC_TEST_DATABASE_URL= cargo test --workspace --test api credentials::credentials_verify_in_python -- --ignored
fi

if [ "$sklearn_tests" = 1 ]; then
  echo "== gaic score against scikit-learn on randomised files"
  cargo test --workspace --test api score_cli::it_agrees_with_scikit_learn -- --ignored
fi
if [ "$c_tests" = 1 ]; then
  echo "== a model written in C"
  GAIC_TEST_DATABASE_URL= cargo test --workspace --test api models::a_model_written_in_c -- --ignored
fi
if [ "$nvrtc_tests" = 1 ]; then
  echo "== the CUDA kernels compile (NVRTC, no GPU needed)"
  # --workspace, not -p: the same features as the run above, so the test
  # binary built there is reused instead of the sandbox being rebuilt.
  LD_LIBRARY_PATH="$(nvrtc_dir)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    cargo test --workspace --test cuda -- --ignored the_kernels_compile_with_nvrtc
fi
if [ "$nvrtc13_tests" = 1 ]; then
  echo "== the CUDA kernels compile with CUDA 13's NVRTC"
  LD_LIBRARY_PATH="$(nvrtc13_dir)" cargo test --workspace --test cuda -- --ignored the_kernels_compile_with_nvrtc
fi
if [ "$fuzz_tests" = 1 ]; then
  echo "== the API fuzzed from its OpenAPI document (schemathesis) on SQLite"
  GAIC_TEST_DATABASE_URL= cargo test --workspace --test api fuzz:: -- --ignored
fi

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$pg_url"
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if pg_up; then
  echo "== integration tests on PostgreSQL ($pg_url)"
  GAIC_TEST_DATABASE_URL="$pg_url" cargo test --workspace --test api
  if [ "$fuzz_tests" = 1 ]; then
    echo "== the API fuzzed from its OpenAPI document (schemathesis) on PostgreSQL"
    GAIC_TEST_DATABASE_URL="$pg_url" cargo test --workspace --test api fuzz:: -- --ignored
  fi
  echo "== a missing PostgreSQL database is created on first start"
  GAIC_TEST_DATABASE_URL="$pg_url" cargo test --workspace --test api serve::a_missing_postgres_database -- --ignored
  if [ "$s3_tests" = 1 ]; then
    echo "== S3 tests on PostgreSQL (moto)"
    GAIC_TEST_DATABASE_URL="$pg_url" cargo test --workspace --test api s3:: -- --ignored
  fi
elif [ "${GAIC_TEST_REQUIRE_PG:-0}" = 1 ]; then
  echo "PostgreSQL is not reachable at $pg_url" >&2
  exit 1
else
  echo "== PostgreSQL not reachable at $pg_url: its run was skipped (set GAIC_TEST_REQUIRE_PG=1 to fail instead)"
fi
