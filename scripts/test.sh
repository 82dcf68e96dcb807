#!/bin/bash
# The README's test command: installs the Debian packages, builds with gcc
# (Release) and runs the whole suite, builds with clang (-Werror, compile
# check), then builds with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the whole suite again. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
JOBS=$(nproc)
# Short runs: the huge pages' slow first touch on virtual machines costs the suite
# more than their faster steps give back (src/core/bigalloc.c).
export DYNLAB_HUGEPAGES=0
pass=0; fail=0
run_suite() { # build-dir build-type
  local dir=$1 type=$2
  echo "== build $dir ($type) =="
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null || return 1
  cmake --build "$dir" -j"$JOBS" || return 1
  echo "== ctest $dir ($type) =="
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" --timeout 900) | tee "$dir/ctest.log"
  local p f
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$dir/ctest.log")
  f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Not Run)' "$dir/ctest.log")
  pass=$((pass + p)); fail=$((fail + f))
}
run_suite build Release || fail=$((fail + 1))
echo "== clang -Werror compile check =="
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build-clang -j"$JOBS" \
  || { echo "clang build failed"; fail=$((fail + 1)); }
run_suite build-asan Asan || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
