#!/bin/bash
# Run directory guarantees (docs/reliability.md):
#  1. one writer per directory: a second run (or resume) into a directory
#     whose lock is held exits 1 with one line naming the holder's pid; the
#     lock dies with its process (SIGKILL leaves no stale lock);
#  2. temp files of atomic writes left by a killed run are removed;
#  3. a failed resume loses nothing: metrics.jsonl, checkpoint.safetensors and
#     config.json are as before the resume (a resume that hits a full disk,
#     simulated by RLIMIT_FSIZE, after it trimmed the metrics rows beyond its
#     checkpoint), and a retried resume succeeds and matches an
#     uninterrupted run;
#  4. metrics.jsonl that cannot be written fails the run with its own line;
#  5. `dynlab report` on a directory holding .prev files (an interrupted
#     run) reads the complete run's files, not a mix.
set -u
D="${DYNLAB:?DYNLAB not set}"
PY=/usr/bin/python3
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-rundir-XXXXXX")
holder=
cleanup() { [ -n "$holder" ] && kill -9 "$holder" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# Short runs: icl without its sweep; gpt on a small model (ASan runs it ~40x slower).
icl=(run icl --quiet --threads 1 --set train.steps=40 --set sweep.enabled=false --set eval.size=64)
steps=40
[ "${DYNLAB_SANITIZED:-0}" = 1 ] && steps=12
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# one_line FILE NEEDLE: FILE has exactly one non-empty line and it holds NEEDLE
one_line() {
  local n
  n=$(grep -c . "$1")
  [ "$n" -eq 1 ] || { fail "$2: $n stderr lines"; sed 's/^/  | /' "$1" | head -5; }
  grep -qF -- "$2" "$1" || fail "stderr lacks '$2': $(head -c 300 "$1")"
}

# ---- 1. the lock -------------------------------------------------------------
mkdir -p "$tmp/l"
# A holder outside dynlab: flock(2) on <dir>/.lock with its pid inside.
$PY - "$tmp/l/.lock" >"$tmp/holder.pid" <<'EOF' &
import fcntl, os, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.truncate(0); f.write("%d\n" % os.getpid()); f.flush()
print(os.getpid(), flush=True)
time.sleep(120)
EOF
holder=$!
for _ in $(seq 100); do [ -s "$tmp/holder.pid" ] && break; sleep 0.1; done
"$D" "${icl[@]}" --out "$tmp/l" >/dev/null 2>"$tmp/l.err"
rc=$?
[ "$rc" -eq 1 ] || fail "locked directory: exit $rc, expected 1"
one_line "$tmp/l.err" "is in use by another dynlab run (pid $holder)"
[ ! -e "$tmp/l/config.json" ] || fail "locked directory: the second run wrote config.json"
kill -9 "$holder"; wait "$holder" 2>/dev/null; holder=
"$D" "${icl[@]}" --out "$tmp/l" >/dev/null 2>"$tmp/l2.err" || { fail "after the holder died: run failed"; cat "$tmp/l2.err"; }
echo "lock: $(cat "$tmp/l.err")"

# Two real runs: the second, started while the first trains, is refused; the
# first completes with a consistent directory.
gpt=(run gpt --quick --threads 1 --quiet --set train.steps=$steps --set eval.every=20
     --set ckpt.every=8 --set eval.windows=16 --set model.d_model=32 --set log.every=1)
if [ -d /usr/share/games/fortunes ]; then
  "$D" "${gpt[@]}" --out "$tmp/c" >/dev/null 2>"$tmp/c1.err" &
  first=$!
  for _ in $(seq 300); do [ -s "$tmp/c/.lock" ] && break; sleep 0.05; done
  "$D" "${gpt[@]}" --out "$tmp/c" >/dev/null 2>"$tmp/c2.err"
  rc=$?
  wait "$first" || { fail "first of two concurrent runs failed"; cat "$tmp/c1.err"; }
  [ "$rc" -eq 1 ] || fail "concurrent second run: exit $rc, expected 1"
  one_line "$tmp/c2.err" "(pid $first)"
  $PY - "$tmp/c/metrics.jsonl" $steps <<'EOF' || fail "concurrent runs: metrics.jsonl is not one run's rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
steps = [r["step"] for r in rows if "train_loss" in r]
assert steps == list(range(int(sys.argv[2]))), steps
EOF
fi

# ---- 2. stale temp files -------------------------------------------------------
mkdir -p "$tmp/t"
touch "$tmp/t/checkpoint.safetensors.tmp.AbC123" "$tmp/t/summary.json.tmp.4242" "$tmp/t/notes.tmp.keep"
"$D" "${icl[@]}" --out "$tmp/t" >/dev/null 2>&1 || fail "run into a directory with temp files"
[ ! -e "$tmp/t/checkpoint.safetensors.tmp.AbC123" ] || fail "stale checkpoint temp file kept"
[ ! -e "$tmp/t/summary.json.tmp.4242" ] || fail "stale summary temp file kept"
[ -e "$tmp/t/notes.tmp.keep" ] || fail "a file that is not dynlab's was removed"

# ---- 3. failed resumes lose nothing -------------------------------------------------
snap() { md5sum "$1/metrics.jsonl" "$1/checkpoint.safetensors" "$1/config.json" | awk '{print $1}'; }
if [ -d /usr/share/games/fortunes ]; then
  g=(run gpt --quick --threads 1 --quiet --seed 5 --set train.steps=16 --set eval.every=8
     --set ckpt.every=4 --set eval.windows=16 --set model.d_model=32 --set log.every=1)
  r="$tmp/r"
  "$D" "${g[@]}" --out "$r" --set train.stop_after=8 >/dev/null 2>"$tmp/r.err" || { cat "$tmp/r.err"; fail "gpt stop at 8"; }
  cp "$r/checkpoint.safetensors" "$tmp/ckpt8"
  "$D" "${g[@]}" --out "$r" --resume --set train.stop_after=11 >/dev/null 2>"$tmp/r.err" || { cat "$tmp/r.err"; fail "gpt resume to 11"; }
  # As if killed after step 10's row but before the checkpoint of step 12:
  # metrics rows beyond the checkpoint (8), which a resume trims.
  cp "$tmp/ckpt8" "$r/checkpoint.safetensors"
  before=$(snap "$r")
  rows=$(wc -l <"$r/metrics.jsonl")
  # (a) a configuration error on resume: refused before the directory is touched
  "$D" "${g[@]}" --out "$r" --resume --set train.replicas=3 >/dev/null 2>"$tmp/a.err"
  rc=$?
  [ "$rc" -eq 2 ] || fail "resume with a bad configuration: exit $rc, expected 2"
  [ "$before" = "$(snap "$r")" ] || fail "resume with a bad configuration changed files"
  # (b) a full disk: writes beyond 40 KiB fail (EFBIG). The resume trims the
  #     rows beyond its checkpoint, trains, then cannot save the checkpoint of
  #     step 12: everything must be put back (the trimmed rows included).
  (trap '' XFSZ; ulimit -f 40; exec "$D" "${g[@]}" --out "$r" --resume) >/dev/null 2>"$tmp/b.err"
  rc=$?
  [ "$rc" -eq 1 ] || { fail "resume on a full disk: exit $rc, expected 1"; cat "$tmp/b.err"; }
  grep -q "error" "$tmp/b.err" || fail "resume on a full disk: no error line"
  [ "$before" = "$(snap "$r")" ] || fail "resume on a full disk changed metrics.jsonl/checkpoint/config ($rows rows before, $(wc -l <"$r/metrics.jsonl") after)"
  ls "$r"/*.prev >/dev/null 2>&1 && fail "failed resume left .prev files"
  # (c) the retry succeeds and matches an uninterrupted run
  "$D" "${g[@]}" --out "$r" --resume >/dev/null 2>"$tmp/c.err" || { cat "$tmp/c.err"; fail "retried resume"; }
  "$D" "${g[@]}" --out "$tmp/u" >/dev/null 2>"$tmp/u.err" || { cat "$tmp/u.err"; fail "uninterrupted run"; }
  cmp -s "$r/metrics.jsonl" "$tmp/u/metrics.jsonl" || fail "resumed metrics differ from the uninterrupted run"
  $PY - "$r/summary.json" "$tmp/u/summary.json" <<'EOF' || fail "resumed final values differ from the uninterrupted run"
import json, sys
a, b = (json.load(open(p))["final"] for p in sys.argv[1:])
skip = {"train_seconds", "steps_per_second"}
bad = [k for k in b if k not in skip and a.get(k) != b[k]]
assert not bad, [(k, a.get(k), b[k]) for k in bad]
EOF
  echo "failed resumes: files unchanged, retry matches the uninterrupted run"
fi

# ---- 4. metrics.jsonl unwritable -------------------------------------------------------
# 200 icl steps, a row each: ~27 KB of metrics; files may not grow beyond
# 16 KiB (EFBIG, as a full disk fails a write). Plots may fail too (their own lines).
(trap '' XFSZ; ulimit -f 16; exec "$D" "${icl[@]}" --set train.steps=200 --set train.log_every=1 --out "$tmp/f") >/dev/null 2>"$tmp/f.err"
rc=$?
[ "$rc" -eq 1 ] || fail "metrics beyond the file size limit: exit $rc, expected 1"
grep -qF "error: cannot write $tmp/f/metrics.jsonl: File too large; the run is incomplete" "$tmp/f.err" ||
  { fail "metrics beyond the file size limit: no error line of its own"; head -5 "$tmp/f.err"; }
[ ! -e "$tmp/f/summary.json" ] || fail "metrics beyond the file size limit: summary.json written"

# ---- 5. report reads .prev files --------------------------------------------------------
p="$tmp/p"
"$D" "${icl[@]}" --out "$p" >/dev/null 2>&1 || fail "icl run for the report"
for f in config.json metrics.jsonl log.txt; do mv "$p/$f" "$p/$f.prev"; done
echo '{"step": 0, "interrupted": 1}' >"$p/metrics.jsonl"
echo '{"marker": "interrupted-run-config"}' >"$p/config.json"
echo "interrupted run" >"$p/log.txt"
"$D" report "$p" -o "$tmp/rep" >/dev/null 2>"$tmp/rep.err" || { cat "$tmp/rep.err"; fail "report"; }
got=$(find "$tmp/rep/assets" -name metrics.jsonl | head -1)
[ -n "$got" ] && cmp -s "$got" "$p/metrics.jsonl.prev" || fail "report copied the interrupted run's metrics.jsonl"
grep -q "interrupted-run-config" "$tmp/rep"/*.html && fail "report shows the interrupted run's config.json"

echo "test_run_dir_safety: $fails failure(s)"
[ "$fails" -eq 0 ]
