#!/bin/bash
# gpt system: quick config passes its claims on seeds 1..3 (seed 1 under the
# sanitizers); same seed + threads => identical metrics.jsonl; a run stopped
# mid-way (train.stop_after, checkpoint written as when killed) and resumed
# ends with metrics identical to an uninterrupted run; --set sample.tokens
# prints a sample; a missing corpus and a truncated checkpoint each fail with
# one error line and exit status 1, leaving the run's files untouched.
set -u
D="${DYNLAB:?DYNLAB not set}"
SRC="${DYNLAB_SOURCE_DIR:?}"
PY=/usr/bin/python3
# The machine is shared: keep idle OpenMP workers from spinning (libgomp's
# default active wait costs ~8x CPU time on small ops when oversubscribed).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-gpt-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run() { "$D" run gpt --quick --threads 2 --quiet "$@"; }

if [ ! -d /usr/share/games/fortunes ]; then
    echo "SKIP: Debian package 'fortunes' not installed"; exit 77
fi

seeds=${DYNLAB_TEST_SEEDS:-1 2 3} # CMake sets it: 1 under the sanitizers
small=()
claim_args=(--require C1,C2,C3)
if [ "${DYNLAB_SANITIZED:-0}" = 1 ]; then
    # ASan+UBSan builds run this model ~40x slower (430 s for the quick
    # preset): seed 1 on a 60-step schedule checks memory safety of the whole
    # training path and C2; C1 and C3 need the full schedule and are checked by the
    # release suite. The determinism/resume checks use 20 steps.
    seeds="1"
    claim_args=(--require C1,C2,C3 --allow-fail C1,C3)
    small=(--set train.steps=20 --set eval.every=10 --set ckpt.every=8 --set eval.windows=32)
fi

# 1. Claims on every seed.
for s in $seeds; do
    t0=$SECONDS
    extra=()
    [ "${DYNLAB_SANITIZED:-0}" = 1 ] && extra=(--set train.steps=60 --set eval.every=30)
    run --seed "$s" --out "$tmp/s$s" "${extra[@]}" >"$tmp/s$s.out" 2>"$tmp/s$s.err" || { cat "$tmp/s$s.err"; fail "seed $s: run failed"; }
    $PY "$SRC/tests/check_claims.py" "$tmp/s$s" "${claim_args[@]}" || fail "seed $s: claims"
    echo "seed $s: claims pass ($((SECONDS - t0)) s)"
done
if [ -n "$seeds" ]; then ls "$tmp/s1/plots/" | grep -q "^loss_vs_step" || fail "loss_vs_step plot missing"; fi

# 2. Determinism: same seed and threads => identical metrics.
run --seed 7 --out "$tmp/d1" "${small[@]}" >/dev/null 2>&1 || fail "determinism run 1"
run --seed 7 --out "$tmp/d2" "${small[@]}" >/dev/null 2>&1 || fail "determinism run 2"
cmp -s "$tmp/d1/metrics.jsonl" "$tmp/d2/metrics.jsonl" || fail "same seed, different metrics.jsonl"
echo "determinism: identical metrics.jsonl"

# 3. Resume: stop at a step that is not a checkpoint multiple, resume to the
#    end (printing a sample), compare with the uninterrupted run d1.
stop=13
[ ${#small[@]} -eq 0 ] && stop=130
run --seed 7 --out "$tmp/r" "${small[@]}" --set train.stop_after=$stop >/dev/null 2>"$tmp/r1.err" || { cat "$tmp/r1.err"; fail "interrupted run"; }
[ -f "$tmp/r/checkpoint.safetensors" ] || fail "no checkpoint after stop"
run --seed 7 --out "$tmp/r" "${small[@]}" --resume --set sample.tokens=200 >"$tmp/r2.out" 2>"$tmp/r2.err" || { cat "$tmp/r2.err"; fail "resume"; }
cmp -s "$tmp/d1/metrics.jsonl" "$tmp/r/metrics.jsonl" || { diff "$tmp/d1/metrics.jsonl" "$tmp/r/metrics.jsonl" | head; fail "resumed metrics differ from the uninterrupted run"; }
grep -q "resumed from" "$tmp/r/log.txt" || fail "log does not mention the resume"
echo "resume: metrics identical to the uninterrupted run"
grep -q -- "---- sample (200 characters" "$tmp/r2.out" || fail "no sample printed"
n=$(wc -c <"$tmp/r/sample.txt")
[ "$n" -eq 200 ] || fail "sample has $n characters, expected 200"
echo "sample: 200 characters printed"

# 4. Missing corpus: exit 1, one error line naming the path.
"$D" run gpt --quick --out "$tmp/m" --set data.path=/nonexistent/corpus >"$tmp/m.out" 2>"$tmp/m.err"
rc=$?
[ $rc -eq 1 ] || fail "missing corpus: exit $rc, expected 1"
n=$(grep -c "error" "$tmp/m.err")
[ "$n" -eq 1 ] || { cat "$tmp/m.err"; fail "missing corpus: $n error lines"; }
grep "error" "$tmp/m.err" | grep -q "/nonexistent/corpus" || fail "missing corpus: error does not name the path"
echo "missing corpus: $(grep error "$tmp/m.err")"

# 5. Truncated checkpoint: resume fails cleanly, files untouched.
cp -r "$tmp/r" "$tmp/t"
f="$tmp/t/checkpoint.safetensors"
truncate -s $(( $(stat -c %s "$f") / 2 )) "$f"
before=$(md5sum "$f" "$tmp/t/metrics.jsonl")
"$D" run gpt --quick --out "$tmp/t" "${small[@]}" --seed 7 --resume >"$tmp/t.out" 2>"$tmp/t.err"
rc=$?
[ $rc -eq 1 ] || fail "truncated checkpoint: exit $rc, expected 1"
n=$(grep -c "error" "$tmp/t.err")
[ "$n" -eq 1 ] || { cat "$tmp/t.err"; fail "truncated checkpoint: $n error lines"; }
grep "error" "$tmp/t.err" | grep -q "checkpoint.safetensors" || fail "truncated checkpoint: error does not name the file"
[ "$before" = "$(md5sum "$f" "$tmp/t/metrics.jsonl")" ] || fail "truncated checkpoint: files changed"
echo "truncated checkpoint: $(grep error "$tmp/t.err")"

# 6. Resume without a checkpoint.
"$D" run gpt --quick --quiet --out "$tmp/n" --resume >/dev/null 2>"$tmp/n.err"
[ $? -eq 1 ] || fail "resume without checkpoint should exit 1"
echo "PASS"
