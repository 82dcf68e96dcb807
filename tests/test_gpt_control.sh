#!/bin/bash
# gpt: under `--control untrained` (learning rate zero at every step) every
# learned claim (C1-C3) fails. Under the sanitizers (~40x slower, see
# test_gpt.sh) the control runs a 60-step schedule: with learning rate zero
# the claims' outcome does not depend on the schedule's length.
set -u
D=${DYNLAB:?DYNLAB not set}
SRC=${DYNLAB_SOURCE_DIR:?DYNLAB_SOURCE_DIR not set}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
if [ "${DYNLAB_SANITIZED:-0}" != 1 ]; then
  exec bash "$SRC/tests/system_control.sh" gpt
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/control_gpt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$D" run gpt --quick --control untrained --seed 1 --out "$tmp/s1" --set train.steps=60 --set eval.every=30 \
  >"$tmp/s1.log" 2>&1 || { echo "FAIL: gpt control: run exited non-zero"; tail -5 "$tmp/s1.log"; exit 1; }
/usr/bin/python3 "$SRC/tests/check_claims.py" "$tmp/s1" --control
