#!/usr/bin/env python3
"""Side-by-side benchmark: the parse floor vs the full scan, alternating, median of N runs.

    python3 benches/compare.py [--runs 5] [--files 20000] [--corpus DIR]

Builds the release binary and the examples, generates the deterministic synthetic corpus
(examples/gen_corpus.rs) if absent, warms the page cache, then alternates
`parse_floor DIR` and `binauthz-lint scan DIR --format json -o FILE`, and prints a Markdown
report: median wall time, ratio scan/floor, MB/s, files/s, peak RSS (GNU time), single-file
start-up time, and (when `checkov` is installed and ../shared/corpus exists) the speed-up
over `checkov -d DIR --framework kubernetes -o sarif --skip-download`.
"""
import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "binauthz-lint")
FLOOR = os.path.join(ROOT, "target", "release", "examples", "parse_floor")
GEN = os.path.join(ROOT, "target", "release", "examples", "gen_corpus")
SHARED_CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "manifests")


def wall(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def peak_rss_mib(cmd):
    if not os.path.exists("/usr/bin/time"):
        return float("nan")
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, check=False)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return int(match.group(1)) / 1024 if match else float("nan")


def corpus_size(path):
    files = total = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            if name.endswith((".yaml", ".yml", ".json")):
                files += 1
                total += os.path.getsize(os.path.join(dirpath, name))
    return files, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "target", "bench-corpus"))
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "binauthz-lint", "--examples"], cwd=ROOT, check=True)
    if not os.path.isdir(args.corpus):
        subprocess.run([GEN, args.corpus, str(args.files)], check=True)
    files, total = corpus_size(args.corpus)
    for dirpath, _, names in os.walk(args.corpus):  # warm the page cache
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                fh.read()

    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    floor_cmd = [FLOOR, args.corpus]
    scan_cmd = [BIN, "scan", args.corpus, "--format", "json", "-o", out, "--fail-on", "never"]
    floors, scans = [], []
    wall(floor_cmd), wall(scan_cmd)  # one untimed warm-up each
    for _ in range(args.runs):
        floors.append(wall(floor_cmd))
        scans.append(wall(scan_cmd))
    floor, scan = statistics.median(floors), statistics.median(scans)
    floor_rss, scan_rss = peak_rss_mib(floor_cmd), peak_rss_mib(scan_cmd)

    small = os.path.join(ROOT, "testdata", "demo", "apps", "web.yaml")
    single = statistics.median(wall([BIN, "scan", small, "--fail-on", "never"]) for _ in range(30))

    print(f"## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}; "
          f"corpus: {files} files, {total / 1e6:.1f} MB; {args.runs} alternating runs, median.\n")
    print("| measure | parse floor | full scan (JSON written) |")
    print("|---|---|---|")
    print(f"| wall time (median) | {floor:.3f} s | {scan:.3f} s |")
    print(f"| all runs | {', '.join(f'{x:.2f}' for x in floors)} | {', '.join(f'{x:.2f}' for x in scans)} |")
    print(f"| throughput | {total / 1e6 / floor:.1f} MB/s, {files / floor:,.0f} files/s | {total / 1e6 / scan:.1f} MB/s, {files / scan:,.0f} files/s |")
    print(f"| peak RSS | {floor_rss:.0f} MiB | {scan_rss:.0f} MiB |")
    print(f"\n**Ratio scan / floor: {scan / floor:.2f}×** (target ≤ 1.5×). "
          f"Single small file (process start to exit, median of 30): **{single * 1000:.1f} ms** (target < 20 ms).\n")

    checkov = shutil.which("checkov")
    if checkov and os.path.isdir(SHARED_CORPUS):
        ours = statistics.median(wall([BIN, "scan", SHARED_CORPUS, "--format", "sarif", "-o", out, "--fail-on", "never"]) for _ in range(3))
        corpus_floor = statistics.median(wall([FLOOR, SHARED_CORPUS]) for _ in range(3))
        theirs = statistics.median(
            wall([checkov, "-d", SHARED_CORPUS, "--framework", "kubernetes", "-o", "sarif", "--skip-download", "--quiet"],
                 env={**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
            for _ in range(3))
        print(f"On ../shared/corpus/manifests (medians: ours of 3, checkov of 3): binauthz-lint {ours:.3f} s (SARIF), checkov {theirs:.2f} s: "
              f"**{theirs / ours:.0f}× faster** (target ≥ 100×); the parse floor alone on this corpus takes {corpus_floor:.3f} s "
              f"(checkov / floor = {theirs / corpus_floor:.0f}×).\n")
    else:
        print("checkov comparison skipped: checkov not installed or ../shared/corpus absent "
              "(pip install checkov to include it).\n")
    os.unlink(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
