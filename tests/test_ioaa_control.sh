#!/bin/bash
# ioaa under --control untrained (the served gpt keeps its initial weights):
# every ioaa claim is structural (scoring arithmetic and the pipeline), so
# each must still be declared structural and pass.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_ioaa_control.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
"$D" run ioaa --quick --quiet --control untrained --out "$tmp/c" >"$tmp/log" 2>&1 || { echo "FAIL: control run"; tail -5 "$tmp/log"; exit 1; }
/usr/bin/python3 "$SRC/tests/check_claims.py" "$tmp/c" --control --allow-no-learned && \
/usr/bin/python3 "$SRC/tests/check_claims.py" "$tmp/c" --require C1,C2,C3
