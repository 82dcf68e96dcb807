#!/bin/bash
# rtdetr end to end on a tiny budget, then the commands around it:
#   the loss falls; `dynlab eval rtdetr --checkpoint` reproduces the run's AP on
#   the validation folder the run wrote; `dynlab detect` draws PNGs and writes
#   detections.json from PNG and JPEG input; bad input gives one error line
#   and a non-zero exit.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_rtdetr_cli.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$D" run rtdetr --quick --quiet --out "$tmp/r" --set train.steps=60 --set train.eval_every=30 \
  --set data.n_train=64 --set data.n_val=16 >"$tmp/run.log" 2>&1 || { tail -5 "$tmp/run.log"; fail "tiny run"; }
/usr/bin/python3 - "$tmp/r/summary.json" <<'PY' || fail "loss did not fall"
import json, sys
f = json.load(open(sys.argv[1]))["final"]
assert f["rtdetr_loss_last"] < f["rtdetr_loss_first"], (f["rtdetr_loss_first"], f["rtdetr_loss_last"])
PY
"$D" eval rtdetr --data "$tmp/r/val" --checkpoint "$tmp/r/checkpoint.safetensors" --json "$tmp/e.json" \
  -o "$tmp/res.json" >"$tmp/eval.txt" 2>&1 || { cat "$tmp/eval.txt"; fail "eval --checkpoint"; }
/usr/bin/python3 - "$tmp/r/summary.json" "$tmp/e.json" <<'PY' || fail "eval does not reproduce the run's AP"
import json, sys
f = json.load(open(sys.argv[1]))["final"]; e = json.load(open(sys.argv[2]))
assert abs(f["rtdetr_ap"] - e["stats"][0]) < 1e-9 and abs(f["rtdetr_ap50"] - e["stats"][1]) < 1e-9, (f["rtdetr_ap"], e)
PY
"$D" eval rtdetr --data "$tmp/r/val" --results "$tmp/res.json" --json "$tmp/e2.json" >/dev/null 2>&1 || fail "eval --results"
cmp -s "$tmp/e.json" "$tmp/e2.json" || fail "results file evaluates differently"
img=$(ls "$tmp"/r/val/images/*.png | head -1)
/usr/bin/python3 -c "
import sys
from PIL import Image
Image.open(sys.argv[1]).save(sys.argv[2], quality=95)" "$img" "$tmp/x.jpg" 2>/dev/null || cp "$img" "$tmp/x.jpg"
"$D" detect rtdetr --checkpoint "$tmp/r/checkpoint.safetensors" "$img" "$tmp/x.jpg" -o "$tmp/det" --score-thr 0.1 \
  >"$tmp/det.txt" 2>&1 || { cat "$tmp/det.txt"; fail "detect"; }
[ -s "$tmp/det/detections.json" ] && [ -s "$tmp/det/x.jpg.png" ] || fail "detect outputs missing"
/usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/det/detections.json" || fail "detections.json invalid"
# bad input: one error line, non-zero exit
check_bad() { # expected-status description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"; local st=$?
  [ "$st" -eq "$want" ] || fail "$what: exit $st, expected $want"
  [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] || { cat "$tmp/bad.err"; fail "$what: not one error line"; }
}
echo '{"images": [' >"$tmp/trunc.json"; mkdir -p "$tmp/bd"; cp "$tmp/trunc.json" "$tmp/bd/annotations.json"
check_bad 1 "truncated annotations" "$D" eval rtdetr --data "$tmp/bd" --results "$tmp/res.json"
check_bad 1 "missing folder" "$D" eval rtdetr --data "$tmp/nope" --results "$tmp/res.json"
check_bad 1 "malformed results" "$D" eval rtdetr --data "$tmp/r/val" --results "$tmp/trunc.json"
echo '[{"image_id": 999, "category_id": 1, "bbox": [0,0,1,1], "score": 1}]' >"$tmp/r999.json"
check_bad 1 "unknown image in results" "$D" eval rtdetr --data "$tmp/r/val" --results "$tmp/r999.json"
check_bad 1 "not a checkpoint" "$D" eval rtdetr --data "$tmp/r/val" --checkpoint "$tmp/trunc.json"
check_bad 2 "no source" "$D" eval rtdetr --data "$tmp/r/val"
check_bad 2 "bad threshold" "$D" eval rtdetr --data "$tmp/r/val" --results "$tmp/res.json" --score-thr 2
check_bad 2 "unknown system" "$D" eval gpt --data "$tmp/r/val"
check_bad 1 "not an image" "$D" detect rtdetr --checkpoint "$tmp/r/checkpoint.safetensors" "$tmp/trunc.json" -o "$tmp/det2"
check_bad 2 "detect without -o" "$D" detect rtdetr --checkpoint "$tmp/r/checkpoint.safetensors" "$img"
check_bad 2 "bad size" "$D" run rtdetr --quick --out "$tmp/bs" --set data.size=72
echo "test_rtdetr_cli: ok"
