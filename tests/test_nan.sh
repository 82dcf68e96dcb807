#!/bin/bash
# A NaN/inf during training, end to end (project rule: one `error:` line
# naming the problem, exit status 1, nothing already written lost or
# corrupted). Two ways a user meets one:
#  A. a legal knob that diverges: mot's single transformer with
#     train.lr_single=1000 (the top of its range) reaches an infinite squared
#     loss within ~50 full-batch steps; its training loop's dl_check_finite
#     must stop the run. Run fresh into a directory holding an earlier good
#     run: that run's summary.json, metrics.jsonl, config.json, log.txt and
#     plots must come back byte-identical, and the failed run's own rows and
#     log are kept as *.failed (valid JSON, no NaN token).
#  B. --resume from a checkpoint whose weights (or optimizer state) hold a
#     NaN/inf (a corrupted or diverged file): gpt must refuse it naming the
#     file and the tensor, before touching anything in the run directory.
set -u
D="${DYNLAB:?DYNLAB not set}"
PY=/usr/bin/python3
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dynlab-nan-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_one_error WHAT RC ERRFILE REGEX: exit status 1 (not a crash: 134
# abort, 139 segfault, or 0 = the NaN went unnoticed), stderr exactly one
# line, starting with "error:" and matching REGEX (extended).
expect_one_error() {
  local what=$1 rc=$2 err=$3 re=$4
  [ "$rc" -eq 1 ] || fail "$what: exit status $rc, expected 1"
  local n
  n=$(grep -c . "$err")
  [ "$n" -eq 1 ] || fail "$what: $n lines on stderr, expected one error line"
  grep -q '^error: ' "$err" || fail "$what: stderr does not start with 'error: '"
  grep -Eq -- "$re" "$err" || fail "$what: error line does not match /$re/"
  echo "$what: $(head -c 300 "$err")"
}

# same_tree WHAT A B [GROWN]: every file of A is in B with the same bytes
# (the file named GROWN may have grown: A's bytes are a prefix of B's), and B
# has no other file except *.failed.
same_tree() {
  local what=$1 a=$2 b=$3 grown=${4:-} extra
  if [ -n "$grown" ]; then
    cmp -s -n "$(stat -c %s "$a/$grown")" "$a/$grown" "$b/$grown" || fail "$what: $grown was rewritten, not appended to"
  fi
  diff -r -x '*.failed' -x .lock ${grown:+-x "$grown"} "$a" "$b" >"$tmp/diff" || { fail "$what: files changed"; head -5 "$tmp/diff"; }
  extra=$(cd "$b" && find . -type f ! -name '*.failed' | sort | comm -13 <(cd "$a" && find . -type f | sort) -)
  [ -z "$extra" ] || fail "$what: new files $extra"
}

# strict_jsonl FILE: every line a complete JSON object, NaN/Infinity refused.
strict_jsonl() {
  $PY - "$1" <<'EOF'
import json, sys
def bad(c): raise ValueError("non-JSON constant " + c)
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "last line not terminated"
for i, l in enumerate(lines[:-1]):
    row = json.loads(l, parse_constant=bad)
    assert isinstance(row, dict) and "step" in row, "line %d is not a metrics row" % (i + 1)
print(len(lines) - 1)
EOF
}

# ---- A. mot: train.lr_single=1000 diverges --------------------------------
mot=(run mot --quick --seed 1 --set fmnist.enable=false --set data.n_train=300 --set data.n_test=300
     --set train.t3=100)
"$D" "${mot[@]}" --quiet --out "$tmp/mot" >/dev/null 2>"$tmp/good.err" || { cat "$tmp/good.err"; fail "mot: good run failed"; }
[ -s "$tmp/mot/summary.json" ] || fail "mot: good run wrote no summary.json"
cp -a "$tmp/mot" "$tmp/mot.before"

"$D" "${mot[@]}" --quiet --out "$tmp/mot" --set train.lr_single=1000 >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
expect_one_error "mot lr_single=1000" $rc "$tmp/a.err" \
  '^error: single train loss is (inf|-inf|nan|-nan) at step [0-9]+; stopping the run$'
same_tree "mot lr_single=1000 over a good run" "$tmp/mot.before" "$tmp/mot"
step=$(sed -En 's/.* at step ([0-9]+).*/\1/p' "$tmp/a.err")
for f in metrics.jsonl log.txt config.json; do
  [ -f "$tmp/mot/$f.failed" ] || fail "mot: the failed run's $f was not kept as $f.failed"
done
if [ -f "$tmp/mot/metrics.jsonl.failed" ]; then
  rows=$(strict_jsonl "$tmp/mot/metrics.jsonl.failed") || fail "mot: metrics.jsonl.failed is not valid JSONL"
  last=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["step"])' \
         "$tmp/mot/metrics.jsonl.failed" 2>/dev/null)
  [ "${last:-x}" -le "${step:-0}" ] 2>/dev/null || fail "mot: failed run's last row (step ${last:-?}) is after the failing step ${step:-?}"
  echo "mot: failed run kept $rows metrics rows (last step $last), earlier run restored"
fi
grep -q "error: single train loss" "$tmp/mot/log.txt.failed" 2>/dev/null || fail "mot: log.txt.failed lacks the error"
grep -q "lr_single" "$tmp/mot/config.json.failed" 2>/dev/null || fail "mot: config.json.failed missing"

# A good run afterwards replaces everything and leaves no .prev behind.
"$D" "${mot[@]}" --quiet --out "$tmp/mot" >/dev/null 2>&1 || fail "mot: good run after the failure"
cmp -s "$tmp/mot.before/metrics.jsonl" "$tmp/mot/metrics.jsonl" || fail "mot: rerun metrics differ (determinism)"
[ -z "$(find "$tmp/mot" -name '*.prev')" ] || fail "mot: a completed run left *.prev files"

# Same divergence in an empty directory, progress output on: still one
# error line on stderr, no summary.json, valid metrics rows.
"$D" "${mot[@]}" --out "$tmp/mot2" --set train.lr_single=1000 >/dev/null 2>"$tmp/a2.err"
rc=$?
[ "$rc" -eq 1 ] || fail "mot (empty dir): exit $rc, expected 1"
n=$(grep -c 'error' "$tmp/a2.err")
[ "$n" -eq 1 ] || { fail "mot (empty dir): $n error lines"; grep error "$tmp/a2.err" | head -3; }
[ ! -e "$tmp/mot2/summary.json" ] || fail "mot (empty dir): a failed run wrote summary.json"
strict_jsonl "$tmp/mot2/metrics.jsonl" >/dev/null || fail "mot (empty dir): metrics.jsonl is not valid JSONL"

# ---- B. gpt --resume from a checkpoint holding NaN/inf ---------------------
if [ -d /usr/share/games/fortunes ]; then
  gpt=(run gpt --quick --seed 3 --threads 1 --quiet --set train.steps=12 --set eval.every=6
       --set ckpt.every=4 --set eval.windows=16 --set model.d_model=32)
  "$D" "${gpt[@]}" --out "$tmp/g" --set train.stop_after=8 >/dev/null 2>"$tmp/g.err" ||
    { cat "$tmp/g.err"; fail "gpt: good run failed"; }
  "$D" "${gpt[@]}" --out "$tmp/g" --resume --set train.stop_after=10 >/dev/null 2>"$tmp/g.err" ||
    { cat "$tmp/g.err"; fail "gpt: good resume failed"; }
  # poison TENSOR_SUFFIX VALUE: set element 5 of the first F32 tensor whose
  # name ends with the suffix ("" = a parameter) to VALUE; prints its name.
  poison() {
    $PY - "$tmp/g/checkpoint.safetensors" "$1" "$2" <<'EOF'
import json, struct, sys
path, suffix, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
b = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
hdr = json.loads(b[8:8 + n])
state = (".adam_m", ".adam_v", ".momentum")
for name, t in hdr.items():
    if name == "__metadata__" or t["dtype"] != "F32":
        continue
    if (suffix and name.endswith(suffix)) or (not suffix and not name.endswith(state)):
        off = 8 + n + t["data_offsets"][0] + 4 * 5
        b[off:off + 4] = struct.pack("<f", value)
        # keep the data checksum valid: this checks the finiteness test behind it
        import zlib
        crc = b"%08x" % (zlib.crc32(bytes(b[8 + n:])) & 0xffffffff)
        k = b.index(b'"dynlab_crc32":"') + len(b'"dynlab_crc32":"')
        b[k:k + 8] = crc
        open(path, "wb").write(b)
        print(name)
        break
EOF
  }
  cp -a "$tmp/g" "$tmp/g.good"
  for c in "param nan" "adam_v inf"; do
    set -- $c
    rm -rf "$tmp/g" && cp -a "$tmp/g.good" "$tmp/g"
    name=$(poison "$([ "$1" = param ] && echo "" || echo ".$1")" "$2")
    [ -n "$name" ] || { fail "gpt: no tensor to poison for $1"; continue; }
    cp -a "$tmp/g" "$tmp/g.before"
    "$D" "${gpt[@]}" --out "$tmp/g" --resume >"$tmp/b.out" 2>"$tmp/b.err"
    rc=$?
    re="^error: --resume: .*checkpoint\.safetensors: (parameter|optimizer state) '$name' holds (NaN|\+inf)"
    expect_one_error "gpt --resume, $2 in '$name'" $rc "$tmp/b.err" "$re"
    # a resumed run appends to log.txt (the failed attempt is on record there)
    same_tree "gpt --resume with $2 in '$name'" "$tmp/g.before" "$tmp/g" log.txt
    grep -q "error: --resume: .*'$name'" "$tmp/g/log.txt" || fail "gpt: log.txt lacks the error"
    rm -rf "$tmp/g.before"
  done
else
  echo "gpt part skipped: Debian package 'fortunes' not installed"
fi

echo "test_nan: $fails failure(s)"
[ "$fails" -eq 0 ]
