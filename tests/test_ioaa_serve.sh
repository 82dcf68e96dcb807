#!/bin/bash
# dynlab serve + the ioaa client end to end on loopback: the server answers
# the OpenAI API, refuses bad requests with 4xx JSON errors and keeps
# serving; the benchmark through a fault-injecting proxy (429, malformed
# JSON, 503, a reply past the timeout) retries and ends with the same table
# as the benchmark straight against the server; bad flags and inputs give
# one error line and a non-zero exit.
set -u
D=${DYNLAB:?}; SRC=${DYNLAB_SOURCE_DIR:?}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_ioaa_serve.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A served model: the quick ioaa run trains one (served-gpt/).
"$D" run ioaa --quick --quiet --out "$tmp/base" >"$tmp/base.log" 2>&1 || { fail "base run"; tail -5 "$tmp/base.log"; exit 1; }
ck="$tmp/base/served-gpt/checkpoint.safetensors"

"$D" serve gpt --checkpoint "$ck" --port 0 --max-tokens 60 >"$tmp/port" 2>"$tmp/serve.err" &
pids+=($!)
for _ in $(seq 50); do grep -q '^port' "$tmp/port" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/^port/{print $2}' "$tmp/port")
[ -n "$port" ] || { fail "server did not start"; cat "$tmp/serve.err"; exit 1; }
url="http://127.0.0.1:$port/v1"

code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
[ "$(code "$url/models")" = 200 ] && grep -q dynlab-gpt "$tmp/body" || fail "GET /v1/models"
c=$(code -X POST "$url/chat/completions" -d '{"model":"dynlab-gpt","messages":[{"role":"user","content":"Stars"}],"max_tokens":20}')
[ "$c" = 200 ] || fail "completion: HTTP $c"
/usr/bin/python3 -c "import json,sys; d=json.load(open('$tmp/body')); assert d['choices'][0]['message']['role']=='assistant'" \
  || fail "completion reply is not valid chat-completions JSON"
for bad in '{broken' '{"model":"dynlab-gpt"}' '{"model":"other","messages":[{"role":"user","content":"x"}]}' \
           '{"model":"dynlab-gpt","messages":[{"role":"user"}]}' '{"model":"dynlab-gpt","messages":[{"role":"user","content":"x"}],"temperature":"hot"}'; do
  c=$(code -X POST "$url/chat/completions" -d "$bad")
  case "$c" in 4??) grep -q '"error"' "$tmp/body" || fail "4xx without an error object for $bad";; *) fail "bad request $bad got HTTP $c";; esac
done
[ "$(code "$url/nothing")" = 404 ] || fail "unknown path"
[ "$(code "$url/chat/completions")" = 405 ] || fail "GET on completions"
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$port" 2>/dev/null
[ "$(code "$url/models")" = 200 ] || fail "server died after bad requests"

# The same benchmark straight and through the fault-injecting proxy.
common=(--quick --quiet --set client.model=dynlab-gpt --set client.timeout=1 --set client.retries=5
        --set client.backoff=0.05 --set client.concurrency=1 --set gen.max_tokens=60)
"$D" run ioaa "${common[@]}" --set client.base_url="$url" --out "$tmp/direct" >"$tmp/direct.log" 2>&1 \
  || { fail "direct benchmark"; tail -3 "$tmp/direct.log"; }
/usr/bin/python3 "$SRC/tests/ioaa_fault_proxy.py" "$port" "$tmp/proxy.port" 2>"$tmp/proxy.err" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/proxy.port" ] && break; sleep 0.1; done
purl="http://127.0.0.1:$(cat "$tmp/proxy.port")/v1"
"$D" run ioaa "${common[@]}" --set client.base_url="$purl" --out "$tmp/proxied" >"$tmp/proxied.log" 2>&1 \
  || { fail "benchmark through the faulty proxy"; tail -3 "$tmp/proxied.log"; }
cmp -s "$tmp/direct/results.md" "$tmp/proxied/results.md" || { fail "tables differ (direct vs proxied)"; diff "$tmp/direct/results.md" "$tmp/proxied/results.md" | head; }
grep -q "HTTP request(s), 0 from the cache" "$tmp/proxied/log.txt" || fail "proxied run log"
# Rerun into the same directory: every answer comes from the cache.
"$D" run ioaa "${common[@]}" --set client.base_url="$purl" --out "$tmp/proxied" >"$tmp/rerun.log" 2>&1 || fail "rerun"
grep -q "0 HTTP request(s), 6 from the cache" "$tmp/proxied/log.txt" || { fail "rerun did not use the cache"; grep benchmark "$tmp/proxied/log.txt"; }

# Bad input: one error line, non-zero exit.
expect_fail() { # want_rc description command...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
  [ "$rc" = "$want" ] || { fail "$what: exit $rc, want $want"; cat "$tmp/e"; return; }
  [ "$(grep -c . "$tmp/e")" -ge 1 ] || fail "$what: no error line"
}
expect_fail 2 "serve without checkpoint" "$D" serve gpt
expect_fail 2 "serve other model" "$D" serve mot --checkpoint "$ck"
expect_fail 2 "serve bad port" "$D" serve gpt --checkpoint "$ck" --port 70000
expect_fail 1 "serve missing checkpoint" "$D" serve gpt --checkpoint "$tmp/none.safetensors"
expect_fail 1 "unreachable server" "$D" run ioaa --quick --quiet --set client.base_url=http://127.0.0.1:9/v1 --set client.retries=1 --set client.backoff=0.01 --out "$tmp/unreach"
grep -q "Couldn't connect\|Connection refused" "$tmp/e" || fail "unreachable server: message"
expect_fail 1 "missing exam dir" "$D" run ioaa --quick --quiet --set exam.dir="$tmp/none" --out "$tmp/x1"
printf 'year,part,score\nsample,theory,abc\n' > "$tmp/h.csv"
expect_fail 1 "malformed humans csv" "$D" run ioaa --quick --quiet --set humans.csv="$tmp/h.csv" --out "$tmp/x2"
grep -q "line 2" "$tmp/e" || fail "humans csv error names the line"
expect_fail 2 "unknown knob" "$D" run ioaa --quick --set client.nope=1 --out "$tmp/x3"
echo "ioaa serve: $fails failure(s)"
[ "$fails" -eq 0 ]
