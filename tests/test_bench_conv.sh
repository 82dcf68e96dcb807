#!/bin/bash
# `dynlab bench` on the convolutional workloads: cnn-fmnist's JSON row (zero heap
# allocations per step after the first, peak RSS within 1.5x of parameters +
# gradients + AdamW state + activations, a finite loss that falls), the same
# loss on 1 and 2 threads with one replica (results independent of the thread
# count), --replicas that does not divide the batch, and the JSON of the conv2d
# table and of the algorithm-choice table.
set -u
fail() { echo "FAIL: $*"; exit 1; }
D="${DYNLAB:?DYNLAB not set}"
PY=/usr/bin/python3

err="$("$D" bench --replicas 3 --workload resnet-det 2>&1 >/dev/null)"; rc=$?
[ $rc = 2 ] && printf '%s' "$err" | grep -q "resnet-det's batch of 4" \
    || fail "--replicas 3 on resnet-det must exit 2 naming the batch (rc=$rc: $err)"
"$D" bench --help | grep -q "resnet-det" || fail "--help lists resnet-det"
err="$("$D" bench --conv-algo fft 2>&1 >/dev/null)"; rc=$?
[ $rc = 2 ] && printf '%s' "$err" | grep -q "auto, im2col, winograd or winograd2" \
    || fail "--conv-algo fft must exit 2 naming the choices (rc=$rc: $err)"
err="$(DYNLAB_CONV_ALGO=fft "$D" bench --workload cnn-fmnist 2>&1 >/dev/null)"; rc=$?
[ $rc = 2 ] && printf '%s' "$err" | grep -q "DYNLAB_CONV_ALGO" \
    || fail "DYNLAB_CONV_ALGO=fft must exit 2 naming the variable (rc=$rc: $err)"
err="$(DYNLAB_CONV_ALGO=fft "$D" run parity --quick --out "${TMPDIR:-/tmp}/dynlab-bad-algo-$$" 2>&1 >/dev/null)"; rc=$?
[ $rc -eq 2 ] && [ ! -e "${TMPDIR:-/tmp}/dynlab-bad-algo-$$" ] && echo "$err" | grep -q "DYNLAB_CONV_ALGO" \
    || fail "dynlab run with DYNLAB_CONV_ALGO=fft must exit 2 before creating anything (rc=$rc: $err)"

one="$(OMP_NUM_THREADS=1 "$D" bench --threads 1 --replicas 1 --steps 2 --warmup 1 --json --workload cnn-fmnist)" \
    || fail "bench cnn-fmnist (1 thread) failed"
two="$(OMP_NUM_THREADS=2 "$D" bench --threads 2 --replicas 1 --steps 2 --warmup 1 --json --workload cnn-fmnist)" \
    || fail "bench cnn-fmnist (2 threads) failed"
echo "$one"
echo "$two"
$PY - "$one" "$two" "${DYNLAB_SANITIZED:-0}" <<'PYEOF' || fail "bench JSON check"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sanitized = sys.argv[3] == "1"
for r in (a, b):
    assert r["workload"] == "cnn-fmnist" and r["replicas"] == 1, r
    assert r["heap_allocs_per_step"] == 0, f"heap allocations per step after the first: {r}"
    if not sanitized:
        assert r["peak_rss_mb"] <= 1.5 * r["memory_sum_mb"] + 40, r
    assert r["last_loss"] < r["first_loss"], r
assert a["first_loss"] == b["first_loss"] and a["last_loss"] == b["last_loss"], (a, b)
print("cnn-fmnist rows ok; 1 and 2 threads give the same losses")
PYEOF

if [ "${DYNLAB_SANITIZED:-0}" != 1 ]; then
    "$D" bench --conv --threads 1 --json | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(rows) == 12 and rows[-1]["conv"] == "resnet-det all", rows
# im2col rows cannot pass the FMA peak; Winograd F(4x4,3x3) rows (and the total,
# which includes them) are effective rates (direct-convolution FLOPs / time) with
# 4x fewer multiplies, so below 4x it
assert all(r["gflops"] > 0 and 0 < r["cpu_peak_frac"] < (1.5 if r.get("algo") == "im2col" else 4.0)
           for r in rows), rows
assert any(r.get("algo") == "winograd" for r in rows), rows
print("conv table ok")' || fail "conv table"
    "$D" bench --conv-choice --threads 1 --json | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(rows) == 14, rows
names = {"im2col", "winograd", "winograd2"}
for r in rows:
    assert all(r[k] > 0 for k in ("im2col_ms", "winograd_ms", "winograd2_ms")), r
    assert r["auto"] in names and r["fastest"] in names, r
    assert r["tiles2"] >= r["tiles4"] > 0, r
    if r["tiles2"] < 16:
        assert r["auto"] == "im2col", r  # below 16 2x2 tiles auto keeps im2col
assert {r["auto"] for r in rows} == names, rows  # the sweep crosses both thresholds
print("conv choice table ok")' || fail "conv choice table"
fi
echo "test_bench_conv: ok"
