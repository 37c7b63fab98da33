#!/usr/bin/env python3
"""PR-mode cost next to one plain scan (issue: at most 2.2x), alternating, median of N runs.

    python3 benches/prmode.py [--runs 5] [--files 20000] [--corpus DIR]

Copies the synthetic corpus (examples/gen_corpus.rs; generated if absent) into a temporary
git repository, commits it (the base), edits one manifest (the change, uncommitted: the
head side is the work tree), then alternates `scan . --format json -o FILE` and
`scan . --since HEAD --format json -o FILE` in it and prints a Markdown table.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import BIN, GEN, ROOT, wall  # noqa: E402
GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=cwd, env=GIT_ENV, check=True, stdout=subprocess.DEVNULL,
    )



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
        repo = os.path.join(tmp, "repo")
        shutil.copytree(args.corpus, repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", "base")
        edited = None
        for dirpath, _, names in sorted(os.walk(repo)):
            if ".git" in dirpath:
                continue
            for name in sorted(names):
                if name.endswith(".yaml"):
                    edited = os.path.join(dirpath, name)
                    break
            if edited:
                break
        with open(edited, "a") as f:
            f.write("\n# edited by the change\n")
        out = os.path.join(tmp, "out.json")
        plain = [BIN, "scan", ".", "--format", "json", "-o", out]
        pr = [BIN, "scan", ".", "--since", "HEAD", "--format", "json", "-o", out]
        wall(plain, cwd=repo)
        plains, prs = [], []
        for _ in range(args.runs):
            plains.append(wall(plain, cwd=repo))
            prs.append(wall(pr, cwd=repo))
    p, q = statistics.median(plains), statistics.median(prs)
    print(f"| command ({args.files} files in a git repository, median of {args.runs}) | wall |")
    print("|---|---:|")
    print(f"| `scan .` | {p:.2f} s |")
    print(f"| `scan . --since HEAD` (base read from git objects) | {q:.2f} s |")
    print(f"| ratio PR mode / plain scan | {q / p:.2f}x |")


if __name__ == "__main__":
    main()
