#!/bin/bash
# CLI contract: help, exit codes, and one clear error line for every kind of
# bad input (unknown system, unknown key, wrong type, out of range, bad JSON,
# missing config file, bad option values). Uses every registered system.
set -u
D=${DYNLAB:?DYNLAB not set}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE DESCRIPTION NEEDLE -- command...: exit code, and (if NEEDLE is
# non-empty) exactly one stderr line containing NEEDLE.
expect() {
  local code=$1 what=$2 needle=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq "$code" ] || { fail "$what: exit $rc, expected $code"; sed 's/^/  | /' "$tmp/err" | head -5; return; }
  if [ -n "$needle" ]; then
    local lines
    lines=$(grep -c . "$tmp/err")
    grep -qF -- "$needle" "$tmp/err" || fail "$what: stderr lacks '$needle': $(head -c 300 "$tmp/err")"
    [ "$lines" -eq 1 ] || fail "$what: expected one error line, got $lines"
  fi
}

expect 0 "--help" "" -- "$D" --help
grep -q "usage: dynlab" "$tmp/out" || fail "--help prints usage"
expect 2 "no command" "" -- "$D"
expect 2 "unknown command" "unknown command 'frobnicate'" -- "$D" frobnicate
expect 0 "--version" "" -- "$D" --version
expect 0 "list" "" -- "$D" list
expect 2 "run unknown system" "unknown system 'nosuchsystem'" -- "$D" run nosuchsystem
expect 2 "run unknown option" "unknown option '--frob'" -- "$D" run nosuchsystem --frob
expect 2 "bad seed" "--seed expects a non-negative integer" -- "$D" run x --seed -3
expect 2 "reproduce unknown system" "unknown system 'nosuch'" -- "$D" reproduce nosuch
expect 2 "run bad control" "--control expects 'none' or 'untrained', got 'frozen'" -- "$D" run x --control frozen
expect 2 "reproduce bad control" "--control expects 'none' or 'untrained', got 'frozen'" -- "$D" reproduce --control frozen
expect 2 "bad DYNLAB_HUGEPAGES" "DYNLAB_HUGEPAGES='yes': expected 0 (off) or 1 (on, the default)" -- env DYNLAB_HUGEPAGES=yes "$D" list
expect 0 "DYNLAB_HUGEPAGES=1" "" -- env DYNLAB_HUGEPAGES=1 "$D" list
"$D" reproduce --help | grep -q -- "--control untrained" || fail "reproduce --help documents --control untrained"
for sub in run reproduce config list; do
  expect 0 "$sub --help" "" -- "$D" "$sub" --help
done

for exp in $("$D" list | awk '{print $1}'); do
  expect 0 "config $exp --json" "" -- "$D" config "$exp" --json
  cp "$tmp/out" "$tmp/$exp.json"
  $PY -c "import json,sys; json.load(open(sys.argv[1]))" "$tmp/$exp.json" || fail "$exp: config --json is not JSON"
  # first whole-number knob (an integer, or a number knob at a whole value)
  read -r ikey ival < <($PY - "$tmp/$exp.json" <<'EOF'
import json, sys
def walk(o, p=""):
    for k, v in o.items():
        key = p + k
        if isinstance(v, dict):
            yield from walk(v, key + ".")
        else:
            yield key, v
for k, v in walk(json.load(open(sys.argv[1]))):
    if isinstance(v, int) and not isinstance(v, bool):
        print(k, v); break
EOF
)
  out="$tmp/run-$exp"
  expect 2 "$exp unknown key" "unknown config key 'no.such.knob'" -- "$D" run "$exp" --out "$out" --set no.such.knob=1
  [ ! -e "$out/summary.json" ] || fail "$exp: a config error must not start a run"
  if [ -n "${ikey:-}" ]; then
    expect 2 "$exp wrong type" "'$ikey': expected a" -- "$D" run "$exp" --out "$out" --set "$ikey=\"abc\""
    expect 2 "$exp out of range" "'$ikey': value" -- "$D" run "$exp" --out "$out" --set "$ikey=-1e300"
  fi
  echo '{"definitely_not_a_knob": 1}' >"$tmp/bad.json"
  expect 2 "$exp config file unknown key" "unknown config key 'definitely_not_a_knob'" -- "$D" run "$exp" --out "$out" --config "$tmp/bad.json"
  echo '{"x": ' >"$tmp/trunc.json"
  expect 2 "$exp truncated config file" "invalid JSON" -- "$D" run "$exp" --out "$out" --config "$tmp/trunc.json"
  expect 2 "$exp missing config file" "cannot open config file" -- "$D" run "$exp" --out "$out" --config "$tmp/missing.json"
  expect 2 "$exp unknown preset" "has no preset 'nope'" -- "$D" run "$exp" --out "$out" --preset nope
done

echo "test_cli: $fails failure(s)"
[ "$fails" -eq 0 ]
