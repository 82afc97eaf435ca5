#!/usr/bin/env bash
# The GPU check in two halves, so that the GPU machine needs only the NVIDIA
# driver and the CUDA runtime libraries (no Rust toolchain, no registry):
#
#   scripts/gpu-check.sh pack          # here: builds the CUDA parity tests,
#                                      # the host-op benchmark (release) and the
#                                      # shapes CNN model into gpu-pack/, with
#                                      # gpu-pack/run.sh
#   gpu-pack/run.sh                    # there: runs them, CUDA required
#   scripts/gpu-check.sh               # both, on a GPU machine with cargo
#
# cudarc loads libcuda, cuBLAS and NVRTC at run time under CUDA 12's names;
# run.sh also finds CUDA 13's (libcublas.so.13, libnvrtc.so.13, e.g. in
# PyTorch's nvidia-* packages) and links them under the names cudarc tries.
set -euo pipefail
cd "$(dirname "$0")/.."

pack() {
  rm -rf gpu-pack && mkdir -p gpu-pack
  local bins
  bins=$(cargo test --release -p gaic-sandbox --test cuda --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable"): print(m["target"]["name"], m["executable"])')
  cp "$(echo "$bins" | awk '$1=="cuda"{print $2}')" gpu-pack/cuda-tests
  bins=$(cargo bench -p gaic-sandbox --bench host_ops --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable"): print(m["target"]["name"], m["executable"])')
  cp "$(echo "$bins" | awk '$1=="host_ops"{print $2}')" gpu-pack/host-ops-bench
  scripts/build-examples.sh >/dev/null
  cp sandbox/guest/target/wasm32-unknown-unknown/release/shapes_cnn.wasm gpu-pack/
  # The newest glibc the binaries were linked against: run.sh stops with the
  # reason on a machine whose glibc is older, instead of every binary
  # failing to load.
  if command -v objdump >/dev/null 2>&1; then
    objdump -T gpu-pack/cuda-tests gpu-pack/host-ops-bench | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' |
      sort -V | tail -1 > gpu-pack/glibc-needed
  else
    echo "objdump missing: the glibc the binaries need is not recorded (apt-get install binutils)"
  fi
  cat > gpu-pack/run.sh <<'RUN'
#!/usr/bin/env bash
# Runs the packed GPU check: the CPU-versus-CUDA parity tests with CUDA
# required (they fail, not skip, without it; an op that failed on the GPU
# is an error, never a silent CPU result), then host matmul CPU vs CUDA
# (and cuBLAS called directly), then the shapes CNN's rows/s CPU vs CUDA.
set -uo pipefail
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
need=$(cat glibc-needed 2>/dev/null)
have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -n "$need" ] && [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "this machine has glibc $have; the packed binaries need $need: pack them on a machine with glibc $have or older" >&2
  exit 3
fi
# CUDA 13 libraries under the names cudarc (built for 12) tries.
links=$(mktemp -d)
for lib in cublas cublasLt nvrtc; do
  if ! ldconfig -p 2>/dev/null | grep -q "lib$lib.so.12"; then
    found=$( (ldconfig -p 2>/dev/null | awk '{print $NF}'; python3 -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null |
      xargs -I{} find {}/nvidia -name "lib$lib.so.1[23]*" 2>/dev/null) | grep "lib$lib.so.1[23]" | head -1)
    [ -n "$found" ] && ln -sf "$found" "$links/lib$lib.so" && echo "using $found for lib$lib.so"
  fi
done
export LD_LIBRARY_PATH="$links${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "== parity tests (CPU vs CUDA)"
GAIC_REQUIRE_CUDA=1 ./cuda-tests --ignored --nocapture --test-threads 1
status=$?
echo "== host matmul and the shapes CNN: CPU vs CUDA"
GAIC_SHAPES_CNN="$PWD/shapes_cnn.wasm" ./host-ops-bench --bench --warm-up-time 1 --measurement-time 3
exit $status
RUN
  chmod +x gpu-pack/run.sh gpu-pack/cuda-tests gpu-pack/host-ops-bench
  ls -la gpu-pack
}

case "${1:-all}" in
  pack) pack ;;
  all) pack && gpu-pack/run.sh ;;
  *) echo "usage: scripts/gpu-check.sh [pack|all]" >&2; exit 2 ;;
esac
