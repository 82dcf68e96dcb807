#!/bin/bash
# reweight (Sow et al., ICLR 2025): the quick preset passes C2 and C3 on
# seeds 1..3 (C1 reported, see below) and writes its plots; the results do not depend on the thread count
# (the strategy x seed trainings run side by side); bad configuration and
# missing corpora fail with one error line.
# Under the sanitizers (DYNLAB_SANITIZED=1, ~40x slower on the transformer)
# seed 1 runs a 40-step schedule: memory safety of the whole path, C3 in
# full; C1 and C2 need the full schedule and are checked by the release suite.
set -u
D="${DYNLAB:?DYNLAB not set}"
SRC="${DYNLAB_SOURCE_DIR:?}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-reweight-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for p in /usr/share/games/fortunes /usr/share/man/man1; do
  [ -d "$p" ] || { echo "SKIP: $p missing (Debian packages fortunes, man-db)"; exit 77; }
done

seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
# C1 is computed and reported on every seed but may fail: on the quick preset
# LinUpper's gain over uniform is positive on every seed checked yet exceeds
# its standard error over the 4 training seeds on only part of them, a
# finding documented in docs/papers/reweight.md ("What we measured").
claims=(--require C1,C2,C3 --allow-fail C1)
small=(--set train.steps=40 --set lm.seeds=2 --set eval.every=20 --set eval.windows=32 --set reweight.warmup=10 --set data.man_pages=30)
extra=()
if [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
  seeds="1"
  claims=(--require C1,C2,C3 --allow-fail C1,C2)
  extra=("${small[@]}")
fi
for s in $seeds; do
  t0=$SECONDS
  "$D" run reweight --quick --threads 2 --quiet --seed "$s" --out "$tmp/s$s" "${extra[@]}" >"$tmp/s$s.out" 2>"$tmp/s$s.err" \
    || { tail -3 "$tmp/s$s.err"; fail "seed $s: run failed"; }
  /usr/bin/python3 "$SRC/tests/check_claims.py" "$tmp/s$s" "${claims[@]}" || fail "seed $s: claims"
  echo "seed $s: claims pass ($((SECONDS - t0)) s)"
done
for p in lm_val_loss_vs_step lm_val_loss_vs_tokens weight_per_source_vs_step weight_histograms \
         linreg_error_vs_step strategy_shapes; do
  [ -s "$tmp/s1/plots/$p.dat" ] || fail "plots/$p.dat missing"
done
grep -q '"weight_linupper_duplicate"' "$tmp/s1/metrics.jsonl" || fail "no per-source weights in metrics.jsonl"

# Thread count: 1 and 2 threads give identical metrics.
"$D" run reweight --quick --threads 1 --quiet --seed 3 --out "$tmp/t1" "${small[@]}" >/dev/null 2>&1 || fail "1-thread run"
"$D" run reweight --quick --threads 2 --quiet --seed 3 --out "$tmp/t2" "${small[@]}" >/dev/null 2>&1 || fail "2-thread run"
cmp -s "$tmp/t1/metrics.jsonl" "$tmp/t2/metrics.jsonl" || fail "metrics differ between 1 and 2 threads"
echo "threads: identical metrics with 1 and 2 threads"

# Data parallel (`--dp` under mpirun, 2 ranks): the losses of the global batch
# are all-gathered before weighting, so the run matches one process up to
# float summation order, and every rank ends with bitwise equal parameters.
if command -v mpirun >/dev/null && "$D" sweep --help | grep -q "built with MPI"; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  timeout 400 mpirun --oversubscribe --mca plm isolated --mca btl self,vader \
    --mca btl_vader_single_copy_mechanism none -np 2 "$D" run reweight --quick --quiet --threads 1 --dp \
    --seed 3 --out "$tmp/dp2" "${small[@]}" >"$tmp/dp2.log" 2>&1 || { tail -5 "$tmp/dp2.log"; fail "mpirun -np 2 --dp"; }
  grep -q "dp: 2 ranks, parameters of all 4 trainings identical on every rank" "$tmp/dp2/log.txt" ||
    fail "dp: parameters not identical on the ranks"
  /usr/bin/python3 - "$tmp/t1/metrics.jsonl" "$tmp/dp2/metrics.jsonl" <<'PYEOF' || fail "dp differs from one process"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
d = max(abs(v - y[k]) for x, y in zip(a, b) for k, v in x.items() if isinstance(v, float))
assert d < 1e-4, d
print(f"dp: 2 ranks vs 1 process: max metric difference {d:.2g} (tol 1e-4)")
PYEOF
else
  echo "SKIP: --dp (no mpirun or built without MPI)"
fi

# Bad input: one error line naming the problem, non-zero exit.
bad() { # expected-rc needle args...
  local want=$1 needle=$2; shift 2
  "$D" run reweight --quick --quiet --out "$tmp/bad" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"
  local rc=$?
  [ $rc -eq "$want" ] || { cat "$tmp/bad.err"; fail "$*: exit $rc, expected $want"; }
  # run failures log one "error: ..." line; config errors are the CLI's one line
  local pat="error"; [ "$want" -eq 2 ] && pat="."
  local n; n=$(grep -c "$pat" "$tmp/bad.err")
  [ "$n" -eq 1 ] || { cat "$tmp/bad.err"; fail "$*: $n error lines"; }
  grep "$pat" "$tmp/bad.err" | grep -q -- "$needle" || { cat "$tmp/bad.err"; fail "$*: error does not mention $needle"; }
  echo "bad input ($*): $(grep "$pat" "$tmp/bad.err")"
}
bad 1 "reweight.strategies" --set reweight.strategies=uniform,upper
bad 1 "listed twice" --set reweight.strategies=linupper,linupper
bad 1 "linreg.strategies" --set linreg.strategies=,
bad 1 "/nonexistent/man" --set linreg.enable=false --set data.man=/nonexistent/man
bad 1 "/nonexistent/fortunes" --set linreg.enable=false --set data.fortunes=/nonexistent/fortunes
bad 1 "data.dup_frac" --set data.dup_frac=0.6 --set data.noise_frac=0.5
bad 2 "reweight.r" --set reweight.r=-1
bad 2 "lm.seedz" --set lm.seedz=3
echo "PASS"
