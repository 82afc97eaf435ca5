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
#                           verifier's test and the API fuzz run when python3
#                           lacks the cryptography package or schemathesis
#                           (pip install cryptography schemathesis)
#   GAIC_TEST_REQUIRE_CLANG=1
#                           fail instead of skipping the C guest model's test
#                           when clang and wasm-ld are missing
#                           (apt-get install clang lld)
#   GAIC_TEST_REQUIRE_S3=1  fail instead of skipping the S3 tests when moto's
#                           S3 server cannot be installed (pip install
#                           'moto[server]'); the tests start it themselves
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="${GAIC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== example models (wasm32-unknown-unknown)"
scripts/build-examples.sh
c_tests=0
if [ -f sandbox/guest/target/c/diabetes_linear.wasm ] && command -v clang >/dev/null 2>&1; then
  c_tests=1
elif [ "${GAIC_TEST_REQUIRE_CLANG:-0}" = 1 ]; then
  echo "clang and wasm-ld are needed for the C guest model (apt-get install clang lld)" >&2
  exit 1
else
  echo "== clang/wasm-ld missing: the C guest model's test stays ignored (set GAIC_TEST_REQUIRE_CLANG=1 to fail instead)"
fi

# The S3 tests need an S3-compatible server: moto's, from PyPI.
s3_tests=0
if command -v moto_server >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]' >/dev/null 2>&1; then
  command -v moto_server >/dev/null 2>&1 && s3_tests=1
fi
if [ "$s3_tests" = 0 ]; then
  if [ "${GAIC_TEST_REQUIRE_S3:-0}" = 1 ]; then
    echo "moto_server is not installed and could not be (pip install 'moto[server]')" >&2
    exit 1
  fi
  echo "== moto_server not installed: the S3 tests stay ignored (set GAIC_TEST_REQUIRE_S3=1 to fail instead)"
fi

# The Python credential verifier (scripts/verify_credential.py) needs the
# cryptography package, from PyPI.
py_tests=0
if python3 -c 'import cryptography' >/dev/null 2>&1 || python3 -m pip install --quiet cryptography >/dev/null 2>&1; then
  python3 -c 'import cryptography' >/dev/null 2>&1 && py_tests=1
fi
if [ "$py_tests" = 0 ]; then
  if [ "${GAIC_TEST_REQUIRE_PYTHON:-0}" = 1 ]; then
    echo "python3 with the cryptography package is missing (pip install cryptography)" >&2
    exit 1
  fi
  echo "== python3 cryptography missing: the Python verifier test stays ignored (set GAIC_TEST_REQUIRE_PYTHON=1 to fail instead)"
fi

# The API fuzz run (tests/api/fuzz.rs) drives schemathesis, from PyPI.
fuzz_tests=0
if command -v schemathesis >/dev/null 2>&1 || python3 -m pip install --quiet schemathesis >/dev/null 2>&1; then
  command -v schemathesis >/dev/null 2>&1 && fuzz_tests=1
fi
if [ "$fuzz_tests" = 0 ]; then
  if [ "${GAIC_TEST_REQUIRE_PYTHON:-0}" = 1 ]; then
    echo "schemathesis is not installed and could not be (pip install schemathesis)" >&2
    exit 1
  fi
  echo "== schemathesis missing: the API fuzz run stays ignored (set GAIC_TEST_REQUIRE_PYTHON=1 to fail instead)"
fi

echo "== tests on SQLite"
GAIC_TEST_DATABASE_URL= cargo test --workspace --all-targets
if [ "$s3_tests" = 1 ]; then
  echo "== S3 tests on SQLite (moto)"
  GAIC_TEST_DATABASE_URL= cargo test --test api s3:: -- --ignored
fi
if [ "$py_tests" = 1 ]; then
  echo "== the Python credential verifier"
  GAIC_TEST_DATABASE_URL= cargo test --test api credentials::credentials_verify_in_python -- --ignored
fi

if [ "$c_tests" = 1 ]; then
  echo "== a model written in C"
  GAIC_TEST_DATABASE_URL= cargo test --test api models::a_model_written_in_c -- --ignored
fi
if [ "$fuzz_tests" = 1 ]; then
  echo "== the API fuzzed from its OpenAPI document (schemathesis) on SQLite"
  GAIC_TEST_DATABASE_URL= cargo test --test api fuzz:: -- --ignored
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
  GAIC_TEST_DATABASE_URL="$pg_url" cargo test --test api
  if [ "$fuzz_tests" = 1 ]; then
    echo "== the API fuzzed from its OpenAPI document (schemathesis) on PostgreSQL"
    GAIC_TEST_DATABASE_URL="$pg_url" cargo test --test api fuzz:: -- --ignored
  fi
  echo "== a missing PostgreSQL database is created on first start"
  GAIC_TEST_DATABASE_URL="$pg_url" cargo test --test api serve::a_missing_postgres_database -- --ignored
  if [ "$s3_tests" = 1 ]; then
    echo "== S3 tests on PostgreSQL (moto)"
    GAIC_TEST_DATABASE_URL="$pg_url" cargo test --test api s3:: -- --ignored
  fi
elif [ "${GAIC_TEST_REQUIRE_PG:-0}" = 1 ]; then
  echo "PostgreSQL is not reachable at $pg_url" >&2
  exit 1
else
  echo "== PostgreSQL not reachable at $pg_url: its run was skipped (set GAIC_TEST_REQUIRE_PG=1 to fail instead)"
fi
