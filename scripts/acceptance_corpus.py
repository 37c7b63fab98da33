#!/usr/bin/env python3
"""Acceptance: scan each folder of ../shared/corpus/manifests with `--fail-on never` and
compare the workloads found per file with an independent count made with PyYAML: objects of
the workload kinds whose pod spec has a `containers` list (List items included).

Skips (exit 0, loud message) when ../shared is absent. Usage: acceptance_corpus.py BINARY
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "manifests")

ROUTES = {
    ("", "Pod"): [],
    ("apps", "Deployment"): ["spec", "template"],
    ("extensions", "Deployment"): ["spec", "template"],
    ("apps", "ReplicaSet"): ["spec", "template"],
    ("extensions", "ReplicaSet"): ["spec", "template"],
    ("apps", "StatefulSet"): ["spec", "template"],
    ("apps", "DaemonSet"): ["spec", "template"],
    ("extensions", "DaemonSet"): ["spec", "template"],
    ("batch", "Job"): ["spec", "template"],
    ("batch", "CronJob"): ["spec", "jobTemplate", "spec", "template"],
    ("", "ReplicationController"): ["spec", "template"],
    ("", "PodTemplate"): ["template"],
    ("argoproj.io", "Rollout"): ["spec", "template"],
    ("apps.openshift.io", "DeploymentConfig"): ["spec", "template"],
    ("", "DeploymentConfig"): ["spec", "template"],
}


def count_workloads(obj, depth=0):
    if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
        return 0
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        return 0
    if kind == "List" or (kind.endswith("List") and "items" in obj):
        items = obj.get("items")
        if depth < 4 and isinstance(items, list):
            return sum(count_workloads(i, depth + 1) for i in items)
        return 0
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    route = ROUTES.get((group, kind))
    if route is None:
        return 0
    node = obj
    for key in route + ["spec"]:
        if not isinstance(node, dict):
            return 0
        node = node.get(key)
    if not isinstance(node, dict):
        return 0
    containers = node.get("containers")
    return 1 if isinstance(containers, list) else 0


def main():
    if not os.path.isdir(CORPUS):
        print("SKIP: ../shared/corpus/manifests is absent; acceptance_corpus not run", file=sys.stderr)
        return 0
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        print("SKIP: PyYAML is not installed (pip install pyyaml); acceptance_corpus not run", file=sys.stderr)
        return 0
    binary = os.path.abspath(sys.argv[1])
    failures = 0
    for folder in sorted(os.listdir(CORPUS)):
        path = os.path.join(CORPUS, folder)
        if not os.path.isdir(path):
            continue
        proc = subprocess.run([binary, "scan", "--format", "json", "--fail-on", "never", "."],
                              cwd=path, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"FAIL {folder}: exit {proc.returncode}: {proc.stderr}")
            failures += 1
            continue
        report = json.loads(proc.stdout)
        ours = {}
        for w in report["workloads"]:
            ours[w["location"]["file"]] = ours.get(w["location"]["file"], 0) + 1
        skipped = {s["file"] for s in report["skipped"]}
        invalid = {f["location"]["file"] for f in report["findings"] if f["ruleId"] == "manifest-invalid"}
        compared = 0
        for entry in sorted(set(ours) | {f for f in _walk_candidates(path)}):
            if entry in skipped:
                continue
            try:
                with open(os.path.join(path, entry), encoding="utf-8") as fh:
                    docs = list(yaml.safe_load_all(fh))
            except Exception:  # noqa: BLE001 - files PyYAML cannot read are not compared
                continue
            if entry in invalid:
                continue
            expected = sum(count_workloads(d) for d in docs)
            got = ours.get(entry, 0)
            compared += 1
            if expected != got:
                print(f"FAIL {folder}/{entry}: independent count {expected}, binauthz-lint {got}")
                failures += 1
        print(f"ok   {folder}: {report['summary']['files']} files, {report['summary']['workloads']} workloads, "
              f"{compared} files compared")
    return 1 if failures else 0


def _walk_candidates(root):
    """Files binauthz-lint should consider: .yaml/.yml/.json, not hidden (no .gitignore in the corpus copy)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith((".yaml", ".yml", ".json")):
                continue
            yield os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")


if __name__ == "__main__":
    sys.exit(main())
