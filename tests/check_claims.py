#!/usr/bin/python3
"""Check a run's summary.json: every claim present passes, and required ids exist.

usage: check_claims.py RUN_DIR [--require C1,C2,...] [--allow-fail C7,...] [--control]
Exit 0 when all (non-allowed) claims pass; 1 otherwise, printing the failures.

--control: RUN_DIR is an untrained control run (`dynlab run EXP --control
untrained`): every claim must declare its kind, at least one must be
`learned`, and every `learned` claim must FAIL (a learned claim that passes
without learning certifies nothing). Structural claims are not judged. --allow-no-learned accepts a system whose
claims are all structural (a benchmark harness with nothing to learn).
"""
import json, os, sys

def main():
    if len(sys.argv) < 2:
        print(__doc__); return 2
    run = sys.argv[1]
    req, allow = [], []
    args = sys.argv[2:]
    control = "--control" in args
    for i, a in enumerate(args):
        if a == "--require": req = args[i + 1].split(",")
        if a == "--allow-fail": allow = args[i + 1].split(",")
    path = os.path.join(run, "summary.json")
    try:
        with open(path) as f:
            s = json.load(f)
    except Exception as e:  # missing or corrupt summary is a failure
        print(f"check_claims: cannot read {path}: {e}"); return 1
    claims = s.get("claims", [])
    ids = {c["id"] for c in claims}
    bad = 0
    for r in req:
        if r not in ids:
            print(f"check_claims: {run}: claim {r} missing"); bad += 1
    if control:
        if s.get("control") != "untrained":
            print(f"check_claims: {run}: not a control run (control={s.get('control')})"); bad += 1
        learned = [c for c in claims if c.get("kind") == "learned"]
        for c in claims:
            if c.get("kind") not in ("learned", "structural"):
                print(f"check_claims: {run}: claim {c['id']} declares no kind"); bad += 1
        if not learned and "--allow-no-learned" not in args:
            print(f"check_claims: {run}: no learned claim to control"); bad += 1
        for c in learned:
            if c.get("pass"):
                print(f"check_claims: {run}: learned claim {c['id']} PASSES untrained: "
                      f"{c['statement']} (threshold {c.get('threshold')}, measured {c.get('measured')})")
                bad += 1
        return 1 if bad else 0
    for c in claims:
        if not c.get("pass") and c["id"] not in allow:
            print(f"check_claims: {run}: FAIL {c['id']}: {c['statement']} "
                  f"(threshold {c.get('threshold')}, measured {c.get('measured')})")
            bad += 1
    if not claims:
        print(f"check_claims: {run}: no claims recorded"); bad += 1
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main())
