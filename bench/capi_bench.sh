#!/usr/bin/env bash
# Build libsimple_jit.so with `simple capi`, compile bench/capi_bench.c against
# it and run it outside the virtual environment (clean environment).
#   bench/capi_bench.sh [ITERATIONS [BACKEND]]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${CAPI_BENCH_DIR:-$(mktemp -d)}"
"$ROOT/.venv/bin/simple" capi "$OUT" >/dev/null
cc -O2 -Wall -Wextra -I"$OUT" "$ROOT/bench/capi_bench.c" -L"$OUT" -lsimple_jit -lpthread \
    -Wl,-rpath,"$OUT" -o "$OUT/capi_bench"
env -i PATH=/usr/bin:/bin "$OUT/capi_bench" "$@"
