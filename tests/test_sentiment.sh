#!/bin/bash
# sentiment (arXiv 2412.10199): quick preset, seeds 1-3 (seed 1 under the
# sanitizers). C2 (alerts precede risk events) and C4 (the null market stays at
# chance) must pass on every seed. C1 (CNN+GRU beats every baseline on F1 and
# AUROC) and C3 (removing the GRU lowers AUROC) are findings on a single run
# (5 repetitions leave the paired F1 differences noisy: they fail on some
# seeds, docs/papers/sentiment.md shows which), so on one run they must be
# present, and over the 15 repetitions of seeds 1-3 pooled the CNN+GRU must beat
# every baseline's AUROC and F1 by more than 2 standard errors.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_sentiment.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
fails=0
extra=(); allow=C1,C3
if [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
  # Under ASan+UBSan (several times slower) a shorter schedule runs every code path; the
  # claims are judged by the Release suite.
  extra=(--set train.steps=150 --set train.seeds=2)
  allow=C1,C2,C3,C4
fi
for s in $seeds; do
  if ! "$D" run sentiment --quick --quiet --seed "$s" --out "$tmp/s$s" "${extra[@]}" >"$tmp/s$s.log" 2>&1; then
    echo "FAIL: sentiment seed $s: run exited non-zero"; tail -5 "$tmp/s$s.log"; fails=$((fails + 1)); continue
  fi
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$tmp/s$s" --require C1,C2,C3,C4 --allow-fail "$allow" || fails=$((fails + 1))
  for p in roc alerts_on_price lead_time_histogram; do
    [ -s "$tmp/s$s/plots/$p.dat" ] || { echo "FAIL: seed $s: plots/$p.dat missing"; fails=$((fails + 1)); }
  done
done
if [ "${DYNLAB_SANITIZED:-0}" != 1 ]; then
  /usr/bin/python3 - "$tmp" $seeds <<'PY' || fails=$((fails + 1))
import json, math, sys
rows = {}
for s in sys.argv[2:]:
    for l in open(f"{sys.argv[1]}/s{s}/metrics.jsonl"):
        r = json.loads(l)
        if "model" in r:
            rows[(s, r["repetition"], r["model"])] = r
reps = sorted({(s, k) for s, k, _ in rows})
bad = 0
for base in ("cnn_only", "gru_only", "bow_logreg"):
    for m in ("test_auroc", "test_f1"):
        d = [rows[(s, k, "cnn_gru")][m] - rows[(s, k, base)][m] for s, k in reps]
        mean = sum(d) / len(d)
        se = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1) / len(d))
        ok = mean > 2 * se
        print(f"pooled {len(d)} repetitions: cnn_gru - {base} {m} = {mean:+.4f} ({mean / se:.2f} SE) {'ok' if ok else 'FAIL'}")
        bad += not ok
sys.exit(1 if bad else 0)
PY
fi
echo "sentiment: $fails failure(s) over seeds $seeds"
[ "$fails" -eq 0 ]
