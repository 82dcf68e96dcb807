#!/bin/bash
# Shared body of the system tests: run EXP's quick preset on seeds 1..3 (seed 1
# under the sanitizers, DYNLAB_SANITIZED=1), require every claim in CLAIMS to
# be present and passing (tests/check_claims.py), and every named plot to
# have been written (its .dat file; the PNG needs gnuplot). ALLOW_FAIL=C3,...
# names claims that must be present but may fail: documented findings (the
# system's docs/papers page shows the measurement), never a way to hide one.
#
#   [ALLOW_FAIL=C3] tests/system_seeds.sh EXP C1,C2,... [PLOT_STEM...]
set -u
exp=${1:?usage: system_seeds.sh EXP CLAIMS [PLOT...]}
claims=${2:?usage: system_seeds.sh EXP CLAIMS [PLOT...]}
shift 2
D=${DYNLAB:?DYNLAB not set}
SRC=${DYNLAB_SOURCE_DIR:?DYNLAB_SOURCE_DIR not set}
seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_$exp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
for s in $seeds; do
  out="$tmp/s$s"
  if ! "$D" run "$exp" --quick --seed "$s" --out "$out" >"$tmp/s$s.log" 2>&1; then
    echo "FAIL: $exp seed $s: run exited non-zero"; tail -5 "$tmp/s$s.log"; fails=$((fails + 1)); continue
  fi
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$out" --require "$claims" ${ALLOW_FAIL:+--allow-fail "$ALLOW_FAIL"} || fails=$((fails + 1))
  for p in "$@"; do
    [ -s "$out/plots/$p.dat" ] || { echo "FAIL: $exp seed $s: plots/$p.dat missing"; fails=$((fails + 1)); }
  done
done
echo "$exp: $fails failure(s) over seeds $seeds"
[ "$fails" -eq 0 ]
