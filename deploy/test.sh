#!/usr/bin/env bash
# The test command (README): installs dependencies, builds Release and runs
# the whole suite, then builds with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the suite again. Exits non-zero on the first failure.
#   SKIP_DEPS=1   skip the apt step (dependencies already installed)
#   SKIP_ASAN=1   skip the sanitizer pass (quick local runs only; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}

if [ "${SKIP_DEPS:-0}" != 1 ]; then ./deploy/install-deps.sh; fi

export CCACHE_BASEDIR="$ROOT"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export GRPC_VERBOSITY=ERROR

run_suite() {
  local dir=$1
  # Unit and fuzz-corpus tests are cheap and parallel; end-to-end tests start
  # real daemons and run two at a time.
  ctest --test-dir "$dir" --output-on-failure --timeout 120 -j "$JOBS" -LE e2e
  ctest --test-dir "$dir" --output-on-failure --timeout 120 -j 2 -L e2e
}

echo "== Release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
run_suite build

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan+UBSan build"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBITROUTER_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
  cmake --build build-asan -j "$JOBS"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_suite build-asan
fi
echo "== all tests passed"
