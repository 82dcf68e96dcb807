#!/bin/bash
# libFuzzer over every parser (tests/fuzz/fuzz_*.c, docs/reliability.md):
# builds the harnesses with clang (ASan + UBSan + libFuzzer) into
# $DYNLAB_BUILD_DIR/fuzz, then runs each for DYNLAB_FUZZ_SECONDS (default 8)
# from its seed corpus (tests/fuzz/corpus/<name>/). Any crash, sanitizer
# report, leak of the one-line error contract, hang (10 s per input) or
# allocation above 512 MB fails the test; the reproducer is kept under
# $DYNLAB_BUILD_DIR/fuzz/artifacts/. Skipped (exit 0, with a message) only
# where clang or its libFuzzer runtime is missing.
set -u
SRC=${DYNLAB_SOURCE_DIR:?DYNLAB_SOURCE_DIR not set}
BUILD=${DYNLAB_BUILD_DIR:?DYNLAB_BUILD_DIR not set}
SECS=${DYNLAB_FUZZ_SECONDS:-8}
out="$BUILD/fuzz"
if ! command -v clang >/dev/null 2>&1; then
  echo "SKIP: clang not found (Debian packages clang and libclang-rt-14-dev); fuzzers not run"
  exit 0
fi
mkdir -p "$out"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$out/probe.c"
if ! clang -fsanitize=fuzzer "$out/probe.c" -o "$out/probe" 2>"$out/probe.err"; then
  echo "SKIP: clang cannot link libFuzzer ($(head -1 "$out/probe.err")); install libclang-rt-14-dev"
  exit 0
fi
# A separate clang build: the suite's own build may be gcc.
env -u CC -u CFLAGS cmake -S "$SRC/tests/fuzz" -B "$out" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=None >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; echo "FAIL: configure"; exit 1; }
cmake --build "$out" -j2 >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; echo "FAIL: build"; exit 1; }
mkdir -p "$out/artifacts"
fails=0
for h in "$SRC"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$h" .c)
  name=${name#fuzz_}
  seeds="$SRC/tests/fuzz/corpus/$name"
  [ -d "$seeds" ] || { echo "FAIL: $name: no seed corpus in $seeds"; fails=$((fails + 1)); continue; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-fuzz-$name-XXXXXX")
  "$out/fuzz_$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" "$work" "$seeds" >"$out/$name.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: fuzz_$name (exit $rc); reproducer in $out/artifacts/, log $out/$name.log:"
    grep -E "ERROR|SUMMARY|bad error|runtime error" "$out/$name.log" | head -5
    fails=$((fails + 1))
  else
    echo "fuzz_$name: ${execs:-?} executions in ${SECS} s, no failure"
  fi
  rm -rf "$work"
done
echo "test_fuzz: $fails failure(s)"
[ "$fails" -eq 0 ]
