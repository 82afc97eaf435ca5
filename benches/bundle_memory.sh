#!/usr/bin/env bash
# The server's memory around one bundle upload: starts BINARY (a fresh
# data folder, SQLite) on PORT, creates the task in BUNDLE_DIR with
# `gaic tasks create`, and prints the server's RSS at start, its peak
# (VmHWM, and sampled every 50 ms), its RSS after, and the command's time.
#
#   python3 scripts/make-shapes-task.py --out /tmp/shapes --device any
#   cargo build --release
#   benches/bundle_memory.sh target/release/gaic /tmp/shapes [PORT]
set -euo pipefail
bin=$(realpath "$1"); bundle=$2; port=${3:-18090}
tasks=$(realpath "$(dirname "$0")/../tasks")
data=$(mktemp -d); cfg=$(mktemp -d)
trap 'rm -rf "$data" "$cfg"' EXIT
export XDG_CONFIG_HOME=$cfg
GAIC_ADMIN_PASSWORD=admin-pass-123456 GAIC_BIND=127.0.0.1:$port GAIC_DATA_DIR=$data/server \
  GAIC_TASKS_DIR=$tasks "$bin" serve >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
echo admin-pass-123456 | "$bin" login --server "http://127.0.0.1:$port" --username admin --password-stdin >/dev/null
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
start=$(kib VmRSS)
( peak=0; while kill -0 "$pid" 2>/dev/null; do
    r=$(kib VmRSS 2>/dev/null || echo 0); [ "${r:-0}" -gt "$peak" ] && peak=$r; echo "$peak" > "$data/peak"; sleep 0.05
  done ) &
t0=$(date +%s%N)
"$bin" tasks create "$bundle" >/dev/null
t1=$(date +%s%N)
sleep 0.5
after=$(kib VmRSS); hwm=$(kib VmHWM); sampled=$(cat "$data/peak")
kill "$pid"; wait "$pid" 2>/dev/null || true
echo "start $((start >> 10)) MB, peak $((hwm >> 10)) MB (sampled $((sampled >> 10)) MB), after $((after >> 10)) MB, tasks create $(( (t1 - t0) / 1000000 )) ms"
