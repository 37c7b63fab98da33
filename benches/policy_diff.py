#!/usr/bin/env python3
"""`policy diff` cost next to one scan (issue: at most 1.3x), alternating, median of N runs.

    python3 benches/policy_diff.py [--runs 5] [--files 20000] [--corpus DIR]

Builds the release binary and the corpus generator (examples/gen_corpus.rs), generates the
deterministic synthetic corpus if absent, warms the page cache, then alternates
`binauthz-lint scan DIR --policy OLD --format json -o FILE` and
`binauthz-lint policy diff OLD NEW DIR --format json -o FILE` and prints a Markdown table.
OLD allows everything; NEW denies everything, so every workload changes (the worst case
for the diff's output).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, GEN, ROOT, wall  # noqa: E402

OLD = """globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
"""
NEW = """globalPolicyEvaluationMode: ENABLE
defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}
"""



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "target", "bench-corpus"))
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "binauthz-lint", "--examples"], cwd=ROOT, check=True)
    if not os.path.isdir(args.corpus):
        subprocess.run([GEN, args.corpus, str(args.files)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        old, new, out = (os.path.join(tmp, n) for n in ("old.yaml", "new.yaml", "out.json"))
        with open(old, "w") as f:
            f.write(OLD)
        with open(new, "w") as f:
            f.write(NEW)
        scan = [BIN, "scan", args.corpus, "--policy", old, "--format", "json", "-o", out]
        diff = [BIN, "policy", "diff", old, new, args.corpus, "--format", "json", "-o", out]
        wall(scan)  # warm the page cache
        scans, diffs = [], []
        for _ in range(args.runs):
            scans.append(wall(scan))
            diffs.append(wall(diff))
    s, d = statistics.median(scans), statistics.median(diffs)
    print(f"| command ({args.files} files, median of {args.runs}) | wall |")
    print("|---|---:|")
    print(f"| `scan DIR --policy OLD --format json` | {s:.2f} s |")
    print(f"| `policy diff OLD NEW DIR --format json` | {d:.2f} s |")
    print(f"| ratio diff / scan | {d / s:.2f}x |")


if __name__ == "__main__":
    main()
