#!/bin/bash
# reweight: under --control untrained (learning rates zero) every learned
# claim (C1, C2, C3) fails. Under the sanitizers the transformer is ~40x
# slower, so seed 1 runs a 40-step schedule there (the control's claims fail
# for the same reason at any length: nothing trains).
set -u
if [ "${DYNLAB_SANITIZED:-0}" != 1 ]; then
  exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" reweight
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/control_reweight.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$DYNLAB" run reweight --quick --control untrained --seed 1 --out "$tmp/c" --set train.steps=40 \
  --set lm.seeds=2 --set eval.every=20 --set eval.windows=32 --set reweight.warmup=10 \
  --set data.man_pages=30 >"$tmp/c.log" 2>&1 || { tail -5 "$tmp/c.log"; echo "FAIL: control run"; exit 1; }
/usr/bin/python3 "$DYNLAB_SOURCE_DIR/tests/check_claims.py" "$tmp/c" --control
