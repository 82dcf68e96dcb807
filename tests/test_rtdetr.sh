#!/bin/bash
# rtdetr (arXiv 2501.16469 on RT-DETR, arXiv 2304.08069): quick preset, seeds
# 1-3 (seed 1 under the sanitizers). C1 (RT-DETR above DETR), C4 (evaluator =
# pycocotools transcription) and C5 (matcher optimal) must pass; C2 (small-lesion
# AP above the dense detector) and C3 (precision and recall at least the best
# baseline's) must be computed but fail on some seeds at the quick budget -- a
# finding recorded in docs/papers/rtdetr.md, not a test failure.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_rtdetr.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
fails=0
extra=(); allow=C2,C3
if [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
  # Under ASan+UBSan (several times slower) a shorter schedule runs every code path; the
  # learned claims are judged by the Release suite, the structural ones (C4, C5) here too.
  extra=(--set train.steps=60 --set train.eval_every=30 --set data.n_train=64)
  allow=C1,C2,C3
fi
for s in $seeds; do
  out="$tmp/s$s"
  if ! "$D" run rtdetr --quick --quiet --seed "$s" --out "$out" "${extra[@]}" >"$tmp/s$s.log" 2>&1; then
    echo "FAIL: rtdetr seed $s: run exited non-zero"; tail -5 "$tmp/s$s.log"; fails=$((fails + 1)); continue
  fi
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$out" --require C1,C2,C3,C4,C5 --allow-fail "$allow" ||
    fails=$((fails + 1))
  for p in training_loss ap_vs_step ap_by_lesion_size; do
    [ -s "$out/plots/$p.dat" ] || { echo "FAIL: rtdetr seed $s: plots/$p.dat missing"; fails=$((fails + 1)); }
  done
  [ -s "$out/checkpoint.safetensors" ] && [ -s "$out/val/annotations.json" ] && [ -s "$out/val_results.json" ] ||
    { echo "FAIL: rtdetr seed $s: checkpoint, val folder or results missing"; fails=$((fails + 1)); }
done
echo "rtdetr: $fails failure(s) over seeds $seeds"
[ "$fails" -eq 0 ]
