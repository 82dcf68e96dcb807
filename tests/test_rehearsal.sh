#!/bin/bash
# rehearsal (arXiv 2506.00205): quick preset, seeds 1-3, claims C1-C5 pass and
# the figures are written; with no memory the deep strategies cannot reduce
# forgetting (negative control); bad input is refused with one error line.
set -u
D=${DYNLAB:?DYNLAB not set}
SRC=${DYNLAB_SOURCE_DIR:?DYNLAB_SOURCE_DIR not set}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" # shared machine: no spinning OpenMP workers
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_rehearsal.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
extra=()
if [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
  # ASan+UBSan runs are ~15x slower (the quick preset alone outgrew the 600 s limit on the shared
  # machine): seed 1 with fewer draws and smaller deep tasks checks memory safety of every code
  # path; the linear claims stay required (robust at 100 draws), C5 is judged by the Release suite.
  seeds="1"
  extra=(--set linear.reps=100 --set deep.n_train=200 --set deep.n_test=200)
fi
plots="linear_generalization_vs_similarity linear_forgetting_vs_similarity linear_crossover_all_configs
  linear_hybrid_vs_separation deep_split_accuracy_matrices deep_rotated_accuracy_matrices
  deep_final_accuracy_per_strategy"
# C5 (hybrid >= concurrent on Split-Fashion-MNIST over ten inner seeds) is weak by design and
# fails on some run seeds (seed 4 of 1-10: a documented finding, docs/papers/rehearsal.md); per
# run it may fail, but pooled over every inner seed of the seeds run here it must hold.
for s in $seeds; do
  out="$tmp/s$s"
  if ! "$D" run rehearsal --quick --seed "$s" --out "$out" "${extra[@]}" >"$tmp/s$s.log" 2>&1; then
    echo "FAIL: rehearsal seed $s: run exited non-zero"; tail -5 "$tmp/s$s.log"; fails=$((fails + 1)); continue
  fi
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$out" --require C1,C2,C3,C4,C5 --allow-fail C5 || fails=$((fails + 1))
  for p in $plots; do
    [ -s "$out/plots/$p.dat" ] || { echo "FAIL: rehearsal seed $s: plots/$p.dat missing"; fails=$((fails + 1)); }
  done
done
[ "${DYNLAB_SANITIZED:-0}" = 1 ] || /usr/bin/python3 - "$tmp" $seeds <<'PY' || fails=$((fails + 1))
import json, sys
acc = {}
for s in sys.argv[2:]:
    for line in open(f"{sys.argv[1]}/s{s}/metrics.jsonl"):
        r = json.loads(line)
        if r.get("part") == "deep" and r.get("family") == "split":
            acc[(s, r["inner_seed"], r["strategy"])] = r["ACC"]
keys = sorted({(s, k) for (s, k, _) in acc})
gains = [acc[(s, k, "HR")] - acc[(s, k, "CR")] for (s, k) in keys]
wins = sum(g > 0 for g in gains)
mean = sum(gains) / len(gains)
print(f"test_rehearsal: pooled C5 over {len(gains)} inner seeds: gain {100 * mean:+.2f} pp, HR wins {wins}")
sys.exit(0 if len(gains) >= 10 and mean >= 0 and wins >= 0.6 * len(gains) else 1)
PY
# negative control: memory 0 -> CR, SR and HR train exactly like plain fine-tuning
if ! "$D" run rehearsal --quick --out "$tmp/m0" --set linear.enable=false --set deep.memory=0 \
     --set deep.seeds=2 --set deep.n_train=64 --set deep.n_test=64 --set deep.family=split >"$tmp/m0.txt" 2>&1; then
  echo "test_rehearsal: memory-0 run failed"; tail -3 "$tmp/m0.txt"; fails=$((fails + 1))
else
  /usr/bin/python3 - "$tmp/m0/summary.json" <<'PY' || fails=$((fails + 1))
import json, sys
f = json.load(open(sys.argv[1]))["final"]
base = f["split_FGT_none"]
for s in ("cr", "sr", "hr_family", "hr_data"):
    if f[f"split_FGT_{s}"] < base - 1e-12 or abs(f[f"split_ACC_{s}"] - f["split_ACC_none"]) > 1e-12:
        print(f"test_rehearsal: with no memory {s} differs from plain fine-tuning"); sys.exit(1)
PY
fi
# bad input: one error line, non-zero exit
expect_fail() {
  local what=$1; shift
  if "$D" run rehearsal --quick --out "$tmp/bad" "$@" >"$tmp/bad.txt" 2>&1; then
    echo "test_rehearsal: $what accepted"; fails=$((fails + 1)); return
  fi
  grep -qE "error|dynlab:" "$tmp/bad.txt" || { echo "test_rehearsal: $what: no error line"; cat "$tmp/bad.txt"; fails=$((fails + 1)); }
}
# constraints across knobs are configuration errors: exit 2, nothing created
expect_config_error() {
  local what=$1; shift
  rm -rf "$tmp/bad"
  "$D" run rehearsal --quick --out "$tmp/bad" "$@" >"$tmp/bad.txt" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { echo "test_rehearsal: $what: exit $rc, expected 2"; cat "$tmp/bad.txt"; fails=$((fails + 1)); }
  [ "$(wc -l <"$tmp/bad.txt")" -eq 1 ] || { echo "test_rehearsal: $what: not one error line"; cat "$tmp/bad.txt"; fails=$((fails + 1)); }
  [ ! -e "$tmp/bad" ] || { echo "test_rehearsal: $what: the run directory was created"; fails=$((fails + 1)); }
}
expect_config_error "mismatched configuration lists" --set 'linear.T=[5,5]'
expect_config_error "underparameterized configuration" --set 'linear.p=[30,200,300,200]'
expect_config_error "nothing enabled" --set linear.enable=false --set deep.enable=false
expect_fail "unknown grouping" --set deep.grouping=oracle
expect_fail "unknown key" --set deep.epoch=3
mkdir -p "$tmp/nofm"
DYNLAB_FASHION_MNIST="$tmp/nofm" expect_fail "missing Fashion-MNIST" --set linear.enable=false
printf 'garbage' | gzip >"$tmp/nofm/train-images-idx3-ubyte.gz"
cp "$tmp/nofm/train-images-idx3-ubyte.gz" "$tmp/nofm/train-labels-idx1-ubyte.gz"
DYNLAB_FASHION_MNIST="$tmp/nofm" expect_fail "malformed Fashion-MNIST" --set linear.enable=false
echo "test_rehearsal: $fails extra failure(s)"
[ "$fails" -eq 0 ]
