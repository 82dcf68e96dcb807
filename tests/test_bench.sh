#!/bin/bash
# `dynlab bench`: help and usage errors (--replicas that does not divide a batch among them),
# one JSON line per workload with the
# benchmark keys, zero arena/tape heap allocations per step after the first,
# peak RSS within 1.5x of params+grads+AdamW state+activations (gpt-tiny here;
# docs/benchmarks.md has gpt-small), and the sgemm table's JSON.
set -u
fail() { echo "FAIL: $*"; exit 1; }
D="${DYNLAB:?DYNLAB not set}"
PY=/usr/bin/python3

"$D" bench --help | grep -q "usage: dynlab bench" || fail "--help"
"$D" bench --no-such-flag 2>/dev/null; [ $? = 2 ] || fail "unknown flag must exit 2"
"$D" bench --workload nope 2>/dev/null; [ $? = 2 ] || fail "unknown workload must exit 2"
"$D" bench --steps 0 2>/dev/null; [ $? = 2 ] || fail "--steps 0 must exit 2"
"$D" bench --threads x 2>/dev/null; [ $? = 2 ] || fail "bad --threads must exit 2"
"$D" bench --replicas 0 2>/dev/null; [ $? = 2 ] || fail "--replicas 0 must exit 2"
err="$("$D" bench --replicas 3 --workload onelayer 2>&1 >/dev/null)"; rc=$?
[ $rc = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && printf '%s' "$err" | grep -q "onelayer's batch of 256" \
    || fail "--replicas 3 on a batch of 256 must exit 2 with one line naming it (rc=$rc: $err)"

out="$("$D" bench --threads 2 --steps 3 --warmup 1 --json --workload onelayer --workload gpt-tiny)" \
    || fail "bench run failed"
ops="$("$D" bench --threads 2 --replicas 1 --steps 2 --warmup 1 --json --workload onelayer)" \
    || fail "bench --replicas 1 failed"
printf '%s' "$ops" | grep -q '"replicas": 1' || fail "--replicas 1 not reported: $ops"
echo "$out"
$PY - "$out" "${DYNLAB_SANITIZED:-0}" <<'EOF' || fail "bench JSON check"
import json, sys
sanitized = sys.argv[2] == "1"  # ASan's shadow memory and quarantine inflate the RSS
rows = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
assert [r["workload"] for r in rows] == ["onelayer", "gpt-tiny"], rows
for r in rows:
    for k in ("workload", "threads", "ms_per_step", "gflops", "peak_rss_mb", "memory_sum_mb",
              "heap_allocs_per_step"):
        assert k in r, (k, r)
    assert r["threads"] == 2 and r["replicas"] == 2 and r["ms_per_step"] > 0 and r["gflops"] > 0, r
    assert r["heap_allocs_per_step"] == 0, f"heap allocations per step after the first: {r}"
    if not sanitized:
        assert r["peak_rss_mb"] <= 1.5 * r["memory_sum_mb"] + 40, r  # + program/library baseline
    assert r["last_loss"] == r["last_loss"], "loss is NaN"
print("bench JSON ok")
EOF

if [ "${DYNLAB_SANITIZED:-0}" != 1 ]; then
    "$D" bench --threads 1 --steps 3 --json | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert [r["workload"] for r in rows][:4] == ["onelayer", "gpt-tiny", "gpt-small", "gru-text"], rows
assert {"cnn-fmnist", "resnet-det"} <= {r["workload"] for r in rows}, rows
# every workload reports its process CPU time per step (bench/compare.sh compares it)
assert all(r.get("cpu_ms_per_step", 0) > 0 for r in rows), rows
print("all workloads ok")' || fail "all workloads"
fi
echo "test_bench: ok"
