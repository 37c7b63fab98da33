#!/usr/bin/env bash
# Acceptance: binauthz-lint reads manifests as kubectl does. For every file of the fixture
# folder testdata/conformance/kubectl-yaml/ and of ../shared/corpus/manifests/, compare with
# the real kubectl on this machine:
#   - the verdict: kubectl refuses the file to parse ("error parsing FILE") exactly when
#     binauthz-lint reports it `manifest-invalid` as invalid YAML/JSON;
#   - the workloads: kind and name of every workload object kubectl decodes equal those in
#     binauthz-lint's report (no lost and no invented workloads).
# kubectl runs offline: `kubectl label --local -f FILE probe=x -o json` decodes every
# document exactly as `kubectl apply -f` does (same resource builder and decoder) and prints
# the objects without contacting a server. A workload is an object of a workload kind whose
# pod spec has a `containers` list (what binauthz-lint evaluates; a Rollout with a
# workloadRef or a `$patch: delete` stub is not one).
#
# Usage: scripts/acceptance-kubectl-yaml.sh BINARY   (skips loudly without kubectl/python3)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/binauthz-lint}
if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl is not installed; acceptance-kubectl-yaml not run" >&2; exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 is not installed; acceptance-kubectl-yaml not run" >&2; exit 0
fi
ROOTS=(testdata/conformance/kubectl-yaml)
if [ -d ../shared/corpus/manifests ]; then
  ROOTS+=(../shared/corpus/manifests)
else
  echo "SKIP (partly): ../shared/corpus/manifests is absent; only the fixtures are compared" >&2
fi
echo "kubectl: $(kubectl version --client 2>/dev/null | head -1)"
exec python3 - "$BIN" "${ROOTS[@]}" <<'PY'
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

binary = os.path.abspath(sys.argv[1])
roots = sys.argv[2:]

# Which decoded objects are workloads, and how many pod templates each holds: the
# independent route table of scripts/acceptance_corpus.py (written from the CRDs' published
# schemas, not from src/k8s/routes.rs), so that every kind binauthz-lint evaluates is
# compared.
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
from acceptance_corpus import count_workloads  # noqa: E402


def group_of(api):
    return api.rsplit("/", 1)[0] if "/" in api else ""


def workload_names(obj):
    """`kind.group/name` (as `kubectl -o name` spells it), once per pod template."""
    if not isinstance(obj, dict):
        return []
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return []
    count = count_workloads(obj)
    group = group_of(api)
    metadata = obj.get("metadata") or {}
    # binauthz-lint names a `generateName` object by its prefix.
    name = metadata.get("name") or metadata.get("generateName")
    return [f"{kind.lower()}{'.' + group if group else ''}/{name}"] * count


def decoded_objects(stdout):
    decoder, text, at, out = json.JSONDecoder(), stdout.strip(), 0, []
    while at < len(text):
        try:
            obj, at = decoder.raw_decode(text, at)
        except ValueError:
            break
        while at < len(text) and text[at].isspace():
            at += 1
        items = obj.get("items") if obj.get("kind") == "List" else None
        out.extend(items if isinstance(items, list) else [obj])
    return out
# Our refusals of a whole file (the rest of manifest-invalid is about objects).
REFUSAL_PREFIXES = ("invalid YAML", "invalid JSON", "invalid document separator")


def kubectl(path):
    proc = subprocess.run(
        ["kubectl", "label", "--local", "-f", path, "probe=x", "-o", "json",
         "-s", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120)
    stderr = "\n".join(l for l in proc.stderr.splitlines() if "memcache" not in l)
    if proc.returncode == 0:
        verdict = "parses"
    elif "error parsing" in stderr:
        verdict = "refused"
    else:
        verdict = "object-error"  # decoded, but kubectl refuses an object (no kind, no name...)
    workloads = sorted(n for obj in decoded_objects(proc.stdout) for n in workload_names(obj))
    return verdict, workloads, stderr.strip()


def ours(root):
    proc = subprocess.run([binary, "scan", "--format", "json", "--fail-on", "never", "."],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"FAIL: binauthz-lint exited {proc.returncode} on {root}: {proc.stderr}")
    report = json.loads(proc.stdout)
    files = {}
    for f in report["findings"]:
        if f["ruleId"] == "manifest-invalid" and f["message"].startswith(REFUSAL_PREFIXES):
            files.setdefault(f["location"]["file"], {})["refused"] = f["message"]
    for w in report["workloads"]:
        group = group_of(w["apiVersion"])
        kind = w["kind"].lower() + (f".{group}" if group else "")
        files.setdefault(w["location"]["file"], {}).setdefault("workloads", []).append(
            f"{kind}/{w['name']}")
    skipped = {s["file"]: s["reason"] for s in report.get("skipped", [])}
    return files, skipped


failures = 0
compared = 0
not_compared = []
for root in roots:
    files, skipped = ours(root)
    paths = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(names):
            if name.endswith((".yaml", ".yml", ".json")):
                paths.append(os.path.relpath(os.path.join(dirpath, name), root))
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(pool.map(lambda p: kubectl(os.path.join(root, p)), paths))
    for rel, (verdict, kube_workloads, stderr) in zip(paths, verdicts):
        display = rel.replace(os.sep, "/")
        if display in skipped:
            # Helm templates, binary or oversized files: not manifests to binauthz-lint.
            not_compared.append(f"{root}/{display} ({skipped[display]}; kubectl: {verdict})")
            continue
        mine = files.get(display, {})
        our_verdict = "refused" if "refused" in mine else "parses"
        our_workloads = sorted(mine.get("workloads", []))
        compared += 1
        problems = []
        kube_parse = "refused" if verdict == "refused" else "parses"
        if kube_parse != our_verdict:
            problems.append(f"verdict: kubectl {kube_parse}, binauthz-lint {our_verdict}"
                            f" ({mine.get('refused') or stderr})")
        # Workloads decoded before a parse error count on both sides; an object kubectl
        # refuses for another reason still lists the objects decoded with it.
        if verdict != "object-error" and kube_workloads != our_workloads:
            lost = sorted(set(kube_workloads) - set(our_workloads))
            extra = sorted(set(our_workloads) - set(kube_workloads))
            problems.append(f"workloads: lost {lost}, not in kubectl {extra}")
        if problems:
            failures += 1
            print(f"DIFF {root}/{display}: " + "; ".join(problems))
print(f"compared {compared} files with kubectl; {failures} differ; "
      f"{len(not_compared)} not compared (skipped by binauthz-lint)")
for line in not_compared:
    print(f"  not compared: {line}")
sys.exit(1 if failures else 0)
PY
