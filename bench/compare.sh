#!/bin/bash
# dynlab vs PyTorch on the training workloads (the transformer ones and the
# convolutional cnn-fmnist and resnet-det), run alternately in one session, for
# 1 and 2 threads, then the sgemm table (dynlab vs OpenBLAS) and the conv2d
# table (resnet-det's convolutions against the FMA peak).
#
#   bench/compare.sh [--rounds R] [--steps S] [--workloads "W1 W2 ..."]
#                    [--no-sgemm] [--no-conv] [--out FILE.jsonl]
#
# Uses $DYNLAB (default build/dynlab) and Debian's /usr/bin/python3 (torch 1.13).
# Debian's torch calls OpenBLAS, whose thread pool torch.set_num_threads does
# not bound, so every torch run sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS;
# for N threads PyTorch runs as (torch N, OpenBLAS 1) and (torch N, OpenBLAS N)
# and is compared at its best of the two. dynlab on N > 1 threads runs both
# ways too: N replicas (micro-batches side by side, the default) and 1
# replica (every op spread over the threads); the ratio uses its better one.
# Each figure is the median over
# rounds of each run's median warm-step time. Prints the load average before
# and after: the machine is shared, and a busy neighbour shows up there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
dynlab="${DYNLAB:-$root/build/dynlab}"
py=/usr/bin/python3
rounds=3
steps=20
sgemm=1
conv=1
workloads="onelayer gpt-tiny gpt-small gru-text cnn-fmnist resnet-det"
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --no-sgemm) sgemm=0; shift ;;
        --no-conv) conv=0; shift ;;
        --workloads) workloads="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ -x "$dynlab" ] || { echo "compare.sh: no dynlab program at $dynlab (build first or set DYNLAB)" >&2; exit 1; }
$py -c 'import torch' 2>/dev/null || { echo "compare.sh: $py cannot import torch (apt install python3-torch)" >&2; exit 1; }

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
for r in $(seq 1 "$rounds"); do
    for t in 1 2; do
        for w in $workloads; do
            for rep in $t 1; do
                OMP_NUM_THREADS=$t "$dynlab" bench --threads "$t" --replicas "$rep" --steps "$steps" \
                    --workload "$w" --json | sed "s/^{/{\"impl\": \"dynlab\", \"round\": $r, /" >>"$tmp"
                [ "$t" = 1 ] && break
            done
            for ob in 1 $t; do
                OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$ob $py "$here/torch_ref.py" --threads "$t" \
                    --steps "$steps" --workload "$w" --json \
                    | sed "s/^{/{\"impl\": \"torch\", \"openblas_threads\": $ob, \"round\": $r, /" >>"$tmp"
                [ "$t" = 1 ] && break
            done
        done
    done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$out" ] && cp "$tmp" "$out"

$py - "$tmp" "$workloads" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(sel, key="ms_per_step"):
    v = [r[key] for r in rows if sel(r)]
    return statistics.median(v) if v else float("nan")
print()
print("ms/step (median over rounds of each run's median warm step); ratio = PyTorch best / dynlab best")
print("dynlab repl: N micro-batches side by side; dynlab ops: 1 replica, each op threaded")
print(f"{'workload':10s} {'thr':>3s} {'dyn repl':>9s} {'dyn ops':>9s} {'GFLOP/s':>8s} {'torch ob1':>10s} {'torch obN':>10s} {'ratio':>7s}")
best = {}
for w in dict.fromkeys(r["workload"] for r in rows):
    for t in [1, 2]:
        dyn = lambda rep: (lambda r: r["impl"] == "dynlab" and r["workload"] == w and r["threads"] == t and r.get("replicas", 1) == rep)
        dr = med(dyn(t))
        do = med(dyn(1)) if t > 1 else dr
        d = min(dr, do)
        g = statistics.median([r["gflops"] for r in rows if dyn(t if dr <= do else 1)(r)])
        t1 = med(lambda r: r["impl"] == "torch" and r["workload"] == w and r["threads"] == t and r["openblas_threads"] == 1)
        tn = med(lambda r: r["impl"] == "torch" and r["workload"] == w and r["threads"] == t and r["openblas_threads"] == t) if t > 1 else t1
        tb = min(t1, tn)
        best.setdefault(w, {})[t] = (d, tb)
        print(f"{w:10s} {t:3d} {dr:9.3f} {do:9.3f} {g:8.1f} {t1:10.3f} {tn:10.3f} {tb / d:7.2f}")
print()
print("1 thread, process CPU time per step (median; not inflated by other processes' load):")
for w in best:
    dc = med(lambda r: r["impl"] == "dynlab" and r["workload"] == w and r["threads"] == 1 and r.get("cpu_ms_per_step"), "cpu_ms_per_step")
    tc = med(lambda r: r["impl"] == "torch" and r["workload"] == w and r["threads"] == 1 and r.get("cpu_ms_per_step"), "cpu_ms_per_step")
    print(f"  {w:10s} dynlab {dc:9.3f} ms  PyTorch {tc:9.3f} ms  ratio {tc / dc:6.2f}")
print()
print("at each side's best setting (any thread count):")
for w, v in best.items():
    d = min(x[0] for x in v.values()); tb = min(x[1] for x in v.values())
    print(f"  {w:10s} dynlab {d:9.3f} ms  PyTorch {tb:9.3f} ms  ratio {tb / d:6.2f}")
for w in ("gpt-small", "gru-text"):
    if w in best:
        d1, d2 = best[w][1][0], best[w][2][0]
        print(f"  {w} dynlab 2 threads vs 1: {d1 / d2:.2f}x")
EOF

if [ "$sgemm" = 1 ]; then
    for t in 1 2; do
        echo
        OMP_NUM_THREADS=$t "$dynlab" bench --sgemm --threads "$t"
    done
fi

if [ "$conv" = 1 ]; then
    for t in 1 2; do
        echo
        OMP_NUM_THREADS=$t "$dynlab" bench --conv --threads "$t"
    done
fi
