#!/usr/bin/env python3
"""Side-by-side benchmark: the parse floor, an earlier commit and this build, alternating,
median of N runs, all in one run on one machine.

    python3 benches/compare.py [--runs 7] [--files 20000] [--baseline c5c2d10]
                               [--growth 5000,20000,80000] [--phases] [--corpus DIR]

Builds the release binary and the examples, generates the deterministic synthetic corpus
(examples/gen_corpus.rs) if absent, warms the page cache, then alternates
`parse_floor DIR`, `BASELINE scan DIR --format json -o FILE` and `binauthz-lint scan DIR
--format json -o FILE`, and prints a Markdown report: median wall time, ratio to the floor,
throughput, peak RSS (GNU time, median of 3), single-file start-up time and (when `checkov`
is installed and ../shared/corpus exists) the speed-up over checkov.

--baseline REV   also builds commit REV (a git worktree under target/bench-baseline/, its
                 own target folder) and measures it in the same alternation.
--growth LIST    peak RSS and report size of each build on corpora of those file counts
                 (generated once under target/bench-corpus-N).
--phases         instruction counts per phase (callgrind, -j1, a 1-in-66 sample of the
                 corpus) for the floor, the baseline and this build; needs valgrind.
"""
import argparse
import json
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
BASELINES = os.path.join(ROOT, "target", "bench-baseline")
SHARED_CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "manifests")

# Phases of a scan, from callgrind's inclusive cost of the functions that do them; each
# entry lists alternatives (names changed between versions), the first that occurs wins.
# `tree` is the YAML tree builder without the parser events it consumes; `evaluation` is the
# rest of the per-file work (policy, break-glass, findings); `report` is what the main
# thread does around the files (start-up, assembly, fingerprints, the JSON report).
FUNCTIONS = {
    "walk": [r"ignore::walk::Worker::run"],
    "file": [r"binauthz_lint::(evaluate::)?run::process_candidate"],
    "read": [r"binauthz_lint::(evaluate::)?run::read_candidate"],
    "events": [r"saphyr_parser::parser::Parser<T>::next_event"],
    "yaml": [r"binauthz_lint::yaml::kubectl::parse_manifest", r"binauthz_lint::yaml::parse\b"],
    "drop": [r"core::ptr::drop_in_place<binauthz_lint::yaml::Tree>"],
    "extract": [r"binauthz_lint::extract::extract_with", r"binauthz_lint::k8s::extract\b"],
}


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


def median_rss(cmd, n=3):
    return statistics.median(peak_rss_mib(cmd) for _ in range(n))


def corpus_size(path):
    files = total = 0
    for dirpath, _, names in os.walk(path):
        for name in names:
            if name.endswith((".yaml", ".yml", ".json")):
                files += 1
                total += os.path.getsize(os.path.join(dirpath, name))
    return files, total


def warm(path):
    for dirpath, _, names in os.walk(path):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                fh.read()


def build_baseline(rev):
    """The release binary of commit `rev`, built once in its own worktree and target."""
    commit = subprocess.run(["git", "rev-parse", "--verify", rev + "^{commit}"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    tree = os.path.join(BASELINES, commit[:12])
    binary = os.path.join(BASELINES, "target", "release", "binauthz-lint-" + commit[:12])
    if os.path.exists(binary):
        return binary, commit
    if not os.path.isdir(tree):
        subprocess.run(["git", "worktree", "add", "--detach", tree, commit], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    env = {**os.environ, "CARGO_TARGET_DIR": os.path.join(BASELINES, "target")}
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "binauthz-lint"], cwd=tree,
                   env=env, check=True)
    shutil.copy2(os.path.join(BASELINES, "target", "release", "binauthz-lint"), binary)
    return binary, commit


def scan_cmd(binary, corpus, out):
    return [binary, "scan", corpus, "--format", "json", "-o", out, "--fail-on", "never"]


def sample_of(corpus, every=66):
    """Every `every`-th file of the corpus (sorted), copied to a temporary folder."""
    paths = sorted(os.path.join(d, n) for d, _, names in os.walk(corpus) for n in names)
    dest = tempfile.mkdtemp(prefix="bench-sample-")
    for i, path in enumerate(paths, 1):
        if i % every == 0:
            target = os.path.join(dest, os.path.relpath(path, corpus))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(path, target)
    return dest


def callgrind(cmd):
    out = tempfile.NamedTemporaryFile(suffix=".cg", delete=False).name
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                          capture_output=True, text=True, check=False).stdout
    os.unlink(out)
    total = 0
    inclusive = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        count = int(m.group(1).replace(",", ""))
        name = m.group(2)
        if "PROGRAM TOTALS" in name:
            total = count
            continue
        name = re.sub(r"^[^:]*:", "", name, count=1) if name.startswith(("???", "/", ".")) else name
        name = re.sub(r" \[.*\]$", "", name)
        inclusive[name] = max(inclusive.get(name, 0), count)
    return total, inclusive


def find(inclusive, patterns):
    for pattern in patterns:
        hits = [v for k, v in inclusive.items() if re.search(pattern, k)]
        if hits:
            return max(hits)
    return 0


def phases(total, inclusive):
    f = {name: find(inclusive, patterns) for name, patterns in FUNCTIONS.items()}
    rows = [
        ("walk (discovery)", f["walk"]),
        ("read", f["read"]),
        ("parse (saphyr events)", f["events"]),
        ("tree (builder)", f["yaml"] - f["events"]),
        ("extraction", f["extract"]),
        ("evaluation", f["file"] - f["read"] - f["yaml"] - f["drop"] - f["extract"]),
        ("drop tree", f["drop"]),
    ]
    rows.append(("report, start-up, the rest", total - sum(v for _, v in rows)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "target", "bench-corpus"))
    ap.add_argument("--baseline", help="commit to measure in the same run (e.g. c5c2d10)")
    ap.add_argument("--growth", help="file counts for the memory table, e.g. 5000,20000,80000")
    ap.add_argument("--phases", action="store_true")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "binauthz-lint", "--examples"], cwd=ROOT, check=True)
    builds = [("this build", BIN)]
    if args.baseline:
        binary, commit = build_baseline(args.baseline)
        builds.insert(0, (f"{args.baseline} ({commit[:7]})", binary))
    if not os.path.isdir(args.corpus):
        subprocess.run([GEN, args.corpus, str(args.files)], check=True)
    files, total = corpus_size(args.corpus)
    warm(args.corpus)

    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    print(f"## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    if args.runs > 0:
        timing(args, builds, files, total, out)
    if args.growth:
        growth(args, builds, files, out)
    if args.phases:
        phase_table(args, builds, out)
    os.unlink(out)
    return 0


def timing(args, builds, files, total, out):
    floor_cmd = [FLOOR, args.corpus]
    cmds = [("parse floor", floor_cmd)] + [(name, scan_cmd(b, args.corpus, out)) for name, b in builds]
    times = {name: [] for name, _ in cmds}
    for _, cmd in cmds:  # one untimed warm-up each
        wall(cmd)
    for _ in range(args.runs):
        for name, cmd in cmds:
            times[name].append(wall(cmd))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    rss = {name: median_rss(cmd) for name, cmd in cmds}
    floor = medians["parse floor"]

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}; "
          f"corpus: {files} files, {total / 1e6:.1f} MB; {args.runs} alternating runs of each command "
          f"(floor, then each build), median; peak RSS median of 3.\n")
    print("| command | wall (median) | all runs | ratio to floor | throughput | peak RSS |")
    print("|---|---:|---|---:|---:|---:|")
    for name, _ in cmds:
        m = medians[name]
        runs = ", ".join(f"{x:.2f}" for x in times[name])
        print(f"| {name} | {m:.3f} s | {runs} | **{m / floor:.2f}×** | {total / 1e6 / m:.1f} MB/s | {rss[name]:.0f} MiB |")
    pairs = [t / f for t, f in zip(times["this build"], times["parse floor"])]
    print(f"\nPer-run ratio this build / floor (same iteration): median {statistics.median(pairs):.2f}× "
          f"(range {min(pairs):.2f}–{max(pairs):.2f}).")
    small = os.path.join(ROOT, "testdata", "demo", "apps", "web.yaml")
    single = statistics.median(wall([BIN, "scan", small, "--fail-on", "never"]) for _ in range(30))
    print(f"Single small file (process start to exit, median of 30): **{single * 1000:.1f} ms**.\n")
    checkov = shutil.which("checkov")
    if checkov and os.path.isdir(SHARED_CORPUS):
        ours = statistics.median(wall([BIN, "scan", SHARED_CORPUS, "--format", "sarif", "-o", out, "--fail-on", "never"]) for _ in range(3))
        corpus_floor = statistics.median(wall([FLOOR, SHARED_CORPUS]) for _ in range(3))
        theirs = statistics.median(
            wall([checkov, "-d", SHARED_CORPUS, "--framework", "kubernetes", "-o", "sarif", "--skip-download", "--quiet"],
                 env={**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
            for _ in range(3))
        print(f"On ../shared/corpus/manifests (medians of 3): binauthz-lint {ours:.3f} s (SARIF), checkov {theirs:.2f} s: "
              f"**{theirs / ours:.0f}× faster**; the parse floor alone on this corpus takes {corpus_floor:.3f} s.\n")
    else:
        print("checkov comparison skipped: checkov not installed or ../shared/corpus absent "
              "(pip install checkov to include it).\n")


def growth(args, builds, files, out):
    print("### Memory growth\n")
    print("| files | MB | " + " | ".join(f"{name}: peak RSS" for name, _ in builds)
          + " | JSON report | workloads | images |")
    print("|---:|---:|" + "---:|" * len(builds) + "---:|---:|---:|")
    for n in [int(x) for x in args.growth.split(",")]:
        corpus = args.corpus if n == files else os.path.join(ROOT, "target", f"bench-corpus-{n}")
        if not os.path.isdir(corpus):
            subprocess.run([GEN, corpus, str(n)], check=True, stdout=subprocess.DEVNULL)
        nfiles, nbytes = corpus_size(corpus)
        warm(corpus)
        peaks = [median_rss(scan_cmd(b, corpus, out)) for _, b in builds]
        subprocess.run(scan_cmd(BIN, corpus, out), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        with open(out) as fh:
            summary = json.load(fh)["summary"]
        report_mib = os.path.getsize(out) / 1048576
        print(f"| {nfiles:,} | {nbytes / 1e6:.0f} | " + " | ".join(f"{p:.0f} MiB" for p in peaks)
              + f" | {report_mib:.0f} MiB | {summary['workloads']:,} | {summary['images']:,} |")
    print()


def phase_table(args, builds, out):
    if not shutil.which("valgrind"):
        print("phases skipped: valgrind is not installed\n")
    else:
        sample = sample_of(args.corpus)
        sfiles, sbytes = corpus_size(sample)
        results = [("parse floor", callgrind([FLOOR, sample, "1"]))]
        for name, b in builds:
            results.append((name, callgrind(scan_cmd(b, sample, out) + ["-j1"])))
        shutil.rmtree(sample)
        floor_total = results[0][1][0]
        print(f"### Instructions per phase (callgrind, `-j1`, {sfiles} files, {sbytes / 1e6:.1f} MB: every 66th file of the corpus)\n")
        print("| phase | " + " | ".join(name for name, _ in results[1:]) + " |")
        print("|---|" + "---:|" * (len(results) - 1))
        tables = [phases(*r) for _, r in results[1:]]
        for i, (phase, _) in enumerate(tables[0]):
            print(f"| {phase} | " + " | ".join(f"{t[i][1] / 1e6:.1f} M" for t in tables) + " |")
        print("| **total** | " + " | ".join(f"**{r[0] / 1e6:.1f} M**" for _, r in results[1:]) + " |")
        print("| ratio to the floor's " + f"{floor_total / 1e6:.1f} M | "
              + " | ".join(f"{r[0] / floor_total:.3f}×" for _, r in results[1:]) + " |\n")


if __name__ == "__main__":
    sys.exit(main())
