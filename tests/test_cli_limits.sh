#!/bin/bash
# Adversarial command lines (docs/reliability.md, "Bad inputs"): each is
# refused with one error line naming the problem and the documented exit
# status, never a crash, a hang, a silent truncation or a write elsewhere.
#   empty / over-long / non-directory --out; FIFOs, devices and oversized
#   files as config or data; sweeps whose job count overflows; reproduce
#   --threads; seeds with a sign or above 2^53; non-UTF-8 --set strings;
#   constraints between two knobs (exit 2, like every configuration error).
set -u
D=${DYNLAB:?DYNLAB not set}
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-limits-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE DESCRIPTION NEEDLE -- command...: exit status, exactly one
# stderr line holding NEEDLE; 20 s at most (a hang is a failure).
expect() {
  local code=$1 what=$2 needle=$3
  shift 4
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  [ "$rc" -eq "$code" ] || { fail "$what: exit $rc, expected $code"; sed 's/^/  | /' "$tmp/err" | head -5; return; }
  local lines
  lines=$(grep -c . "$tmp/err")
  grep -qF -- "$needle" "$tmp/err" || fail "$what: stderr lacks '$needle': $(head -c 300 "$tmp/err")"
  [ "$lines" -eq 1 ] || { fail "$what: expected one error line, got $lines"; sed 's/^/  | /' "$tmp/err" | head -5; }
}

q=(--quiet --threads 1)
# the runs that do run: a short icl (the ASan suite runs this too)
small=(--set train.steps=40 --set sweep.enabled=false --set eval.size=64)

# --out: empty (would be "/plots", "/config.json"), too long, a file.
expect 2 "run --out ''" "--out must not be empty" -- "$D" run icl "${q[@]}" --out ''
expect 2 "sweep -o ''" "--out must not be empty" -- "$D" sweep icl --quiet -o ''
expect 2 "reproduce -o ''" "-o must not be empty" -- "$D" reproduce icl -o ''
long=$(printf 'd%.0s' $(seq 1200))
expect 2 "run --out of 1200 bytes" "a path of 1200 bytes is longer than the 900 bytes" -- "$D" run icl "${q[@]}" --out "$long"
[ ! -e "${long:0:255}" ] || fail "an over-long --out created a truncated directory"
expect 2 "sweep job directories too long" "shorten --out" -- "$D" sweep icl --quiet -o "$(printf 'ss/%.0s' $(seq 298))s"
touch afile
expect 2 "run --out a regular file" "exists and is not a directory" -- "$D" run icl "${q[@]}" --out afile

# Config files: a FIFO (blocked forever), a device, a file above 16 MiB.
mkfifo fifo
expect 2 "--config FIFO" "config file 'fifo': not a regular file (a FIFO)" -- "$D" run icl "${q[@]}" --out o --config fifo
expect 2 "--config /dev/zero" "not a regular file (a character device)" -- "$D" run icl "${q[@]}" --out o --config /dev/zero
truncate -s 17M big.json
expect 2 "--config 17 MiB" "17 MiB, more than the 16 MiB limit" -- "$D" run icl "${q[@]}" --out o --config big.json
[ ! -e o ] || fail "a config error created the run directory"

# Data paths: a FIFO and /dev/zero (grew memory until abort).
expect 1 "gpt data.path=/dev/zero" "data.path: /dev/zero: not a regular file (a character device)" -- \
  "$D" run gpt "${q[@]}" --out g --set data.path=/dev/zero
expect 1 "gpt data.path=FIFO" "not a regular file (a FIFO)" -- "$D" run gpt "${q[@]}" --out g --set data.path="$tmp/fifo"

# Sweeps: 64^6 jobs (overflowed int: "0 jobs", exit 0) and 64^3 x 4096 seeds
# (exit 1 without a message).
v=$(seq -s, 1 64)
expect 2 "sweep 64^6 jobs" "more than 10000 jobs" -- "$D" sweep icl --quiet -o sw \
  --grid a=$v --grid b=$v --grid c=$v --grid d=$v --grid e=$v --grid f=$v
expect 2 "sweep 64^3 x 4096 seeds" "more than 10000 jobs" -- "$D" sweep icl --quiet -o sw \
  --grid a=$v --grid b=$v --grid c=$v --seeds 1-4096
# Two jobs into one directory: a repeated seed, values equal once cleaned.
expect 2 "sweep seeds 1,1" "jobs 1 and 2 would share the run directory 'quick-s1'" -- "$D" sweep icl --quiet -o sw --seeds 1,1
expect 2 "sweep values 'a b' and 'a_b'" "would share the run directory" -- "$D" sweep icl --quiet -o sw --grid 'data.noise=a b,a_b'
[ ! -e sw/sweep.json ] || fail "a refused sweep wrote sweep.json"

# reproduce --threads: validated as run --threads.
for t in abc -7 1025 99999999999 " 4"; do
  expect 2 "reproduce --threads '$t'" "--threads expects an integer in [0, 1024], got '$t'" -- "$D" reproduce icl --threads "$t"
done

# Seeds: no sign or space (" -1" was 2^64-1); above 2^53 stored exactly.
for s in " -1" "+3" " 7" "-0"; do
  expect 2 "--seed '$s'" "--seed expects a non-negative integer, got '$s'" -- "$D" run icl "${q[@]}" --out o --seed "$s"
done
big=18446744073709551615
"$D" run icl "${q[@]}" "${small[@]}" --out s --seed $big >/dev/null 2>&1 || fail "seed 2^64-1: run failed"
$PY - s/summary.json $big <<'EOF' || fail "summary.json does not hold the seed exactly"
import json, sys
s = json.load(open(sys.argv[1]))
assert type(s["seed"]) is int and s["seed"] == int(sys.argv[2]), s["seed"]
EOF
"$D" report s -o rep >/dev/null 2>&1 || fail "report of a seed-2^64-1 run"
grep -q -- "--seed $big" rep/*.html || fail "report does not show the exact seed"
"$D" sweep icl --quiet "${small[@]}" -o ss --seeds 9007199254740993 >/dev/null 2>&1 || fail "sweep with seed 2^53+1"
$PY - ss/sweep.json <<'EOF' || fail "sweep.json does not hold the seed exactly"
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
assert j["seed"] == 9007199254740993, j["seed"]
EOF

# --set strings must be UTF-8 (config.json must stay strict JSON).
expect 2 "--set non-UTF-8" "config key 'sample.prompt': the value is not valid UTF-8 (byte 2)" -- \
  "$D" run gpt "${q[@]}" --out o --set $'sample.prompt=ab\xff'
expect 2 "--set overlong UTF-8" "not valid UTF-8" -- "$D" run gpt "${q[@]}" --out o --set $'sample.prompt=\xc0\xaf'
expect 2 "--set UTF-16 surrogate" "not valid UTF-8" -- "$D" run gpt "${q[@]}" --out o --set $'sample.prompt=\xed\xa0\x80'
printf '{"sample": {"prompt": "\xfe"}}' >bad8.json
expect 2 "--config non-UTF-8 string" "not valid UTF-8" -- "$D" run gpt "${q[@]}" --out o --config bad8.json

# A newline inside a key or value stays inside the one error line (fuzz_config).
expect 2 "--set key with a newline" "unknown config key 'no?such'" -- "$D" run icl "${q[@]}" --out o --set $'no\nsuch=1=2'
expect 2 "--set enum value with a newline" "is not one of" -- "$D" run mot "${q[@]}" --out o --set $'train.loss=a\nb'

# Constraints between two knobs are configuration errors: exit 2, nothing created.
expect 2 "parity phase1 above steps" "train.phase1_steps=50 must be below train.steps=10" -- \
  "$D" run parity "${q[@]}" --out p --set train.steps=10 --set train.phase1_steps=50
expect 2 "gpt d_model / heads" "model.d_model (64) must be divisible by model.heads (3)" -- \
  "$D" run gpt "${q[@]}" --out p --set model.heads=3
expect 2 "mot eps_lo >= eps_hi" "claims.eps_lo must be smaller than claims.eps_hi" -- \
  "$D" run mot "${q[@]}" --out p --set claims.eps_lo=0.9 --set claims.eps_hi=0.1
expect 2 "treepath labels below the tree" "backward.labels=3 is smaller than the 31 nodes" -- \
  "$D" run treepath "${q[@]}" --out p --set backward.labels=3
expect 2 "monitor d_model / heads" "forecaster.d_model (32) must be a multiple of forecaster.heads (3)" -- \
  "$D" run monitor "${q[@]}" --out p --set forecaster.heads=3
expect 2 "sweep job with phase1 above steps" "train.phase1_steps=7 must be below train.steps=5" -- \
  "$D" sweep parity --quiet -o sp --grid train.steps=5,10 --set train.phase1_steps=7
[ ! -e p ] && [ ! -e sp ] || fail "a configuration error created a directory"

echo "test_cli_limits: $fails failure(s)"
[ "$fails" -eq 0 ]
