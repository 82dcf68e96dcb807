#!/bin/bash
# Run one system on several seeds and print, per claim, the worst measured
# value against its threshold (the margin table of docs/papers/<system>.md).
#
#   scripts/check_seeds.sh EXP [SEEDS] [PRESET]
#
# SEEDS: "1-10" (default), "6-10", or a list "1,3,7". PRESET: quick (default)
# or paper. Environment: DYNLAB (the binary; default build/dynlab), OUT (run
# directories; default a temporary folder, removed), THREADS (per run),
# CONTROL=untrained (check the untrained control instead: there every
# `learned` claim should FAIL, so the table counts the seeds where it passes),
# SET="key=value ..." (extra --set overrides, e.g. a knob's other setting).
#
# The threshold text of each claim (">= 0.9", "< 0.05", "max ratio <= 1.05")
# gives the direction; the margin is measured minus threshold for >, >=, and
# threshold minus measured for <, <= (positive = passes with room). Claims
# whose threshold is not of that form show only the measured range.
# Exit status: 0 when every claim passed on every seed (with CONTROL: every
# learned claim failed on every seed), 1 otherwise, 2 on usage errors.
set -u
exp=${1:-}
if [ -z "$exp" ] || [ "$exp" = "-h" ] || [ "$exp" = "--help" ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  [ -n "$exp" ]; exit $(( $? ? 2 : 0 ))
fi
seeds_arg=${2:-1-10}
preset=${3:-quick}
here=$(cd "$(dirname "$0")/.." && pwd)
D=${DYNLAB:-$here/build/dynlab}
[ -x "$D" ] || { echo "check_seeds: no dynlab binary at $D (set DYNLAB or build first)" >&2; exit 2; }
case "$seeds_arg" in
  *-*) seeds=$(seq "${seeds_arg%-*}" "${seeds_arg#*-}") ;;
  *) seeds=${seeds_arg//,/ } ;;
esac
for s in $seeds; do
  case "$s" in ''|*[!0-9]*) echo "check_seeds: bad seed '$s' in '$seeds_arg'" >&2; exit 2 ;; esac
done
if [ -n "${OUT:-}" ]; then root=$OUT; mkdir -p "$root"; else root=$(mktemp -d); trap 'rm -rf "$root"' EXIT; fi
extra=()
[ -n "${THREADS:-}" ] && extra+=(--threads "$THREADS")
[ -n "${CONTROL:-}" ] && extra+=(--control "$CONTROL")
for kv in ${SET:-}; do extra+=(--set "$kv"); done
dirs=()
for s in $seeds; do
  dir="$root/$exp-$preset-s$s${CONTROL:+-$CONTROL}"
  t0=$(date +%s.%N)
  "$D" run "$exp" --preset "$preset" --seed "$s" --out "$dir" --quiet "${extra[@]}" >"$dir.out" 2>&1
  rc=$?
  printf 'seed %-3s rc %d  %6.1f s\n' "$s" "$rc" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
  [ -f "$dir/summary.json" ] && dirs+=("$dir") || { echo "check_seeds: seed $s wrote no summary:" >&2; tail -3 "$dir.out" >&2; }
done
[ ${#dirs[@]} -gt 0 ] || exit 1
/usr/bin/python3 - "${CONTROL:-none}" "${dirs[@]}" <<'EOF'
import json, re, sys
control = sys.argv[1] != "none"
rows, order = {}, []
for d in sys.argv[2:]:
    s = json.load(open(d + "/summary.json"))
    seed = s.get("seed")
    for c in s.get("claims", []):
        r = rows.setdefault(c["id"], {"kind": c.get("kind", "?"), "thr": c.get("threshold", ""), "vals": []})
        if c["id"] not in order: order.append(c["id"])
        r["vals"].append((seed, c.get("measured"), bool(c.get("pass"))))
def margin(thr, m):
    # the whole threshold must be "[words] OP NUMBER" (e.g. ">= 0.9", "max ratio <= 1.05")
    mo = re.fullmatch(r"\s*[A-Za-z _]*?(>=|<=|>|<|≥|≤)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*", thr or "")
    if not mo or not isinstance(m, (int, float)): return None
    try: t = float(mo.group(2))
    except ValueError: return None
    return m - t if mo.group(1) in (">=", ">", "≥") else t - m
bad = 0
n = len(sys.argv) - 2
print(f"{'claim':6} {'kind':11} {'threshold':22} {'worst measured':>15} {'margin':>11}  {'pass':>6}  failing seeds")
for cid in order:
    r = rows[cid]
    ms = [(seed, m, p, margin(r["thr"], m)) for seed, m, p in r["vals"]]
    with_m = [x for x in ms if x[3] is not None]
    if with_m:
        w = min(with_m, key=lambda x: x[3]); worst, wm = f"{w[1]:.4g} (s{w[0]})", f"{w[3]:+.3g}"
    else:
        nums = [x[1] for x in ms if isinstance(x[1], (int, float))]
        worst, wm = (f"{min(nums):.4g}..{max(nums):.4g}" if nums else "n/a"), "-"
    npass = sum(p for _, _, p, _ in ms)
    fails = [str(seed) for seed, _, p, _ in ms if not p]
    if control:
        passing = [str(seed) for seed, _, p, _ in ms if p]
        if r["kind"] == "learned" and passing: bad += 1
        note = ("PASSES untrained on seeds " + ",".join(passing)) if (r["kind"] == "learned" and passing) else ""
    else:
        if fails: bad += 1
        note = ",".join(fails)
    print(f"{cid:6} {r['kind']:11} {r['thr'][:22]:22} {worst:>15} {wm:>11}  {npass:>2}/{len(ms):<3}  {note}")
print(f"{n} seed(s); " + (f"{bad} learned claim(s) passing untrained" if control else f"{bad} claim(s) failing on some seed"))
sys.exit(1 if bad else 0)
EOF
