#!/usr/bin/env python3
"""`--render kustomize` against its floor: the same roots rendered by `kubectl kustomize`
alone, with the same parallelism, alternating, median of N runs.

    python3 benches/render.py [--runs 7] [--jobs 2] [--apps 16] [TREE ...]

Each TREE (default: a generated tree of `--apps` applications, each a base and two
overlays, under target/bench-kustomize, plus ../shared/corpus/manifests when present) is
scanned once with `--render kustomize --format json` to learn which roots the tool
hands to kubectl (`workloads[].renderedFrom`, and the roots of `render-failed` findings
that kubectl refused). Then, alternating, the floor runs `kubectl kustomize
ROOT` for every one of those roots, `--jobs` at a time, and the tool runs
`binauthz-lint scan TREE --render kustomize -jJOBS --format json -o FILE`. The overhead is
the tool's median over the floor's median, minus one.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "binauthz-lint")
SHARED = os.path.join(ROOT, "..", "shared", "corpus", "manifests")

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  labels: {{app: app-{i}}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
      - name: app
        image: gcr.io/acme-prod/app-{i}:1.0.{i}
        ports: [{{containerPort: 8080}}]
      - name: proxy
        image: docker.io/envoyproxy/envoy:v1.31.{i}
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: app-{i}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def generate(tree, apps):
    """`apps` applications: base (Deployment, Service, ConfigMap generator) and overlays
    dev (namePrefix, images) and prod (namespace, patch, labels)."""
    if os.path.isdir(tree):
        return
    for i in range(apps):
        app = os.path.join(tree, f"app-{i:02}")
        base = os.path.join(app, "base")
        os.makedirs(base)
        with open(os.path.join(base, "deployment.yaml"), "w") as fh:
            fh.write(DEPLOYMENT.format(i=i))
        with open(os.path.join(base, "service.yaml"), "w") as fh:
            fh.write(SERVICE.format(i=i))
        with open(os.path.join(base, "kustomization.yaml"), "w") as fh:
            fh.write("resources:\n- deployment.yaml\n- service.yaml\n"
                     f"configMapGenerator:\n- name: app-{i}-config\n  literals: [MODE=base]\n")
        for overlay, body in (
            ("dev", f"namePrefix: dev-\nimages:\n- name: gcr.io/acme-prod/app-{i}\n  newTag: dev-{i}\n"),
            ("prod", "namespace: prod\nlabels:\n- pairs: {tier: prod}\n"
                     "patches:\n- target: {kind: Deployment}\n"
                     "  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n"),
        ):
            path = os.path.join(app, "overlays", overlay)
            os.makedirs(path)
            with open(os.path.join(path, "kustomization.yaml"), "w") as fh:
                fh.write("resources:\n- ../../base\n" + body)


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def floor(roots, jobs):
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda root: subprocess.run(["kubectl", "kustomize", root], check=False,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                      roots))
    return time.perf_counter() - start


def wrappers(roots):
    """For each root, a temporary folder with the wrapper kustomization the tool renders
    (`resources: [ROOT]` and `buildMetadata: [originAnnotations]`, which locates every
    rendered object in its source file): the floor of rendering with source locations."""
    made = []
    for root in roots:
        folder = tempfile.mkdtemp(prefix="bench-wrapper-")
        with open(os.path.join(folder, "kustomization.yaml"), "w") as fh:
            fh.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                     f"resources:\n- {json.dumps(os.path.relpath(root, folder))}\n"
                     "buildMetadata:\n- originAnnotations\n")
        made.append(folder)
    return made


def rendered_roots(tree, jobs, out):
    subprocess.run([BIN, "scan", tree, "--render", "kustomize", f"-j{jobs}", "--no-config", "--format", "json",
                    "-o", out, "--fail-on", "never"], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=ROOT)
    with open(out) as fh:
        report = json.load(fh)
    roots = {w["renderedFrom"] for w in report["workloads"] if w.get("renderedFrom")}
    # Roots handed to kubectl that failed cost the tool a run too (refused remote roots do not).
    roots |= {os.path.dirname(f["location"]["file"]) for f in report["findings"]
              if f["ruleId"] == "render-failed" and "failed to render with" in f["message"]}
    return [os.path.join(ROOT, r) for r in sorted(roots)], report["summary"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--apps", type=int, default=16)
    ap.add_argument("trees", nargs="*")
    args = ap.parse_args()
    if not shutil.which("kubectl"):
        print("render benchmark skipped: kubectl is not installed")
        return 0
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "binauthz-lint"], cwd=ROOT, check=True)
    trees = args.trees
    if not trees:
        generated = os.path.join(ROOT, "target", "bench-kustomize")
        generate(generated, args.apps)
        trees = [generated]
        trees.append(os.path.join(ROOT, "testdata", "kustomize", "repo"))
        if os.path.isdir(SHARED):
            trees += sorted(os.path.join(SHARED, d) for d in os.listdir(SHARED))
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    kubectl = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True).stdout.split("\n")
    print(f"## `--render kustomize` vs `kubectl kustomize` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    print(f"{os.cpu_count()} cores; {'; '.join(l.strip() for l in kubectl if l.strip())}; -j{args.jobs} and "
          f"{args.jobs} roots at a time for the floor; {args.runs} alternating runs, median.\n")
    print("| tree | roots run | workloads | floor: `kubectl kustomize ROOT` | `kubectl kustomize` of the tool's wrappers (origin annotations) | `binauthz-lint scan --render kustomize` | overhead over the floor | over the wrappers |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for tree in trees:
        roots, summary = rendered_roots(tree, args.jobs, out)
        if not roots:
            print(f"| {os.path.relpath(tree, ROOT)} | 0 | {summary['workloads']} | – | – | no root renders |")
            continue
        scan = [BIN, "scan", tree, "--render", "kustomize", f"-j{args.jobs}", "--no-config", "--format", "json",
                "-o", out, "--fail-on", "never"]
        wrapped = wrappers(roots)
        floors, withorigins, ours = [], [], []
        floor(roots, args.jobs), floor(wrapped, args.jobs), wall(scan)  # warm-up
        for _ in range(args.runs):
            floors.append(floor(roots, args.jobs))
            withorigins.append(floor(wrapped, args.jobs))
            ours.append(wall(scan))
        for folder in wrapped:
            shutil.rmtree(folder)
        f, w, o = statistics.median(floors), statistics.median(withorigins), statistics.median(ours)
        print(f"| {os.path.relpath(tree, ROOT)} | {len(roots)} | {summary['workloads']} | {f:.3f} s | {w:.3f} s | {o:.3f} s | "
              f"**{(o / f - 1) * 100:+.1f} %** | **{(o / w - 1) * 100:+.1f} %** |")
    os.unlink(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
