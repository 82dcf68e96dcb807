#!/bin/bash
# Shared body of the untrained-control tests: run EXP's quick preset with
# `--control untrained` (learning disabled, everything else identical) on
# the given seeds (default 1) and require that every claim declares its kind
# and every `learned` claim FAILS (tests/check_claims.py --control).
#
#   tests/system_control.sh EXP [SEED...]
set -u
exp=${1:?usage: system_control.sh EXP [SEED...]}
shift
seeds=${*:-1}
D=${DYNLAB:?DYNLAB not set}
SRC=${DYNLAB_SOURCE_DIR:?DYNLAB_SOURCE_DIR not set}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/control_$exp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
for s in $seeds; do
  out="$tmp/s$s"
  if ! "$D" run "$exp" --quick --control untrained --seed "$s" --out "$out" >"$tmp/s$s.log" 2>&1; then
    echo "FAIL: $exp control seed $s: run exited non-zero"; tail -5 "$tmp/s$s.log"; fails=$((fails + 1)); continue
  fi
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$out" --control || fails=$((fails + 1))
done
echo "$exp control: $fails failure(s) over seeds $seeds"
[ "$fails" -eq 0 ]
