#!/bin/bash
# `dynlab eval rtdetr --results` agrees with tests/rtdetr_cocoeval_ref.py (a
# step-by-step transcription of pycocotools' COCOeval) to 1e-6 on every
# hand-made case, and the case table compiled into the run
# (experiments/rtdetr/coco_cases.c) is what the reference produces now.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
REF="$SRC/tests/rtdetr_cocoeval_ref.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_rtdetr_cocoeval.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$REF" cases "$tmp/cases" || { echo "FAIL: reference could not write the cases"; exit 1; }
for d in "$tmp"/cases/*/; do
  "$D" eval rtdetr --data "$d" --results "$d/results.json" --json "$d/dynlab.json" >"$tmp/out.txt" 2>&1 ||
    { echo "FAIL: dynlab eval on $d"; cat "$tmp/out.txt"; exit 1; }
done
/usr/bin/python3 "$REF" compare "$tmp/cases" || { echo "FAIL: evaluator differs from the reference"; exit 1; }
/usr/bin/python3 "$REF" ctable "$tmp/coco_cases.c" &&
  cmp -s "$tmp/coco_cases.c" "$SRC/experiments/rtdetr/coco_cases.c" ||
  { echo "FAIL: experiments/rtdetr/coco_cases.c is stale (regenerate with rtdetr_cocoeval_ref.py ctable)"; exit 1; }
echo "test_rtdetr_cocoeval: ok"
