#!/usr/bin/env python3
"""Acceptance: scan each folder of ../shared/corpus/manifests with `--fail-on never` and
compare the workloads found per file with an independent count made with PyYAML: every pod
template of the workload kinds, custom resources included (docs/crds.md), whose pod spec has
containers (List items included), and the pod specs detected in kinds not in the table.

Skips (exit 0, loud message) when ../shared is absent. Usage:
acceptance_corpus.py BINARY [FOLDER...] (extra folders are compared too, e.g.
testdata/knative-samples).
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "manifests")

# Pod-template routes, written independently of src/k8s/routes.rs from the CRDs' published
# schemas (docs/crds.md): (group, kind) -> [(steps, shape)]. A step "[]" is every list item,
# "*" every mapping value. Shapes: "template" (a PodTemplateSpec whose spec needs a
# `containers` list), "podspec" (the node is a PodSpec with a `containers` list), or a list
# of container fields of which one must be written (Argo, Tekton, KServe, Spark).
T = "template"
ST = ["spec", "template"]
KSERVE = ["containers", "initContainers", "model", "sklearn", "xgboost", "tensorflow", "pytorch",
          "triton", "onnx", "pmml", "lightgbm", "paddle", "huggingface", "alibi", "art"]
ARGO = ["container", "script", "containerSet", "initContainers", "sidecars"]
TEKTON = ["steps", "sidecars"]
SPARK = ["image", "initContainers", "sidecars", "@spec.image"]
SCHEDULED_SPARK = ["image", "initContainers", "sidecars", "@spec.template.image"]
ROUTES = {
    ("", "Pod"): [([], T)],
    ("apps", "Deployment"): [(ST, T)],
    ("extensions", "Deployment"): [(ST, T)],
    ("apps", "ReplicaSet"): [(ST, T)],
    ("extensions", "ReplicaSet"): [(ST, T)],
    ("apps", "StatefulSet"): [(ST, T)],
    ("apps", "DaemonSet"): [(ST, T)],
    ("extensions", "DaemonSet"): [(ST, T)],
    ("batch", "Job"): [(ST, T)],
    ("batch", "CronJob"): [(["spec", "jobTemplate", "spec", "template"], T)],
    ("", "ReplicationController"): [(ST, T)],
    ("", "PodTemplate"): [(["template"], T)],
    ("argoproj.io", "Rollout"): [(ST, T)],
    ("apps.openshift.io", "DeploymentConfig"): [(ST, T)],
    ("", "DeploymentConfig"): [(ST, T)],
    ("argoproj.io", "Experiment"): [(["spec", "templates", "[]", "template"], T)],
    **{("argoproj.io", k): [(["spec", "metrics", "[]", "provider", "job", "spec", "template"], T)]
       for k in ("AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun")},
    # Cloud Run (contract §12): a `gcloud run jobs replace` Job and Config Connector's kinds.
    ("run.googleapis.com", "Job"): [(["spec", "template", "spec", "template"], T)],
    ("run.cnrm.cloud.google.com", "RunService"): [(["spec", "template"], ["containers"])],
    ("run.cnrm.cloud.google.com", "RunJob"): [(["spec", "template", "template"], ["containers"])],
    ("serving.knative.dev", "Service"): [(ST, T)],
    ("serving.knative.dev", "Configuration"): [(ST, T)],
    ("serving.knative.dev", "Revision"): [(["spec"], "podspec")],
    ("serving.kserve.io", "InferenceService"): [(["spec", c], KSERVE) for c in ("predictor", "transformer", "explainer")]
    + [(["spec", "predictor", "workerSpec"], ["containers", "initContainers"])],
    ("serving.kserve.io", "ServingRuntime"): [(["spec"], ["containers", "initContainers"])],
    ("serving.kserve.io", "ClusterServingRuntime"): [(["spec"], ["containers", "initContainers"])],
    ("ray.io", "RayCluster"): [(["spec", "headGroupSpec", "template"], T),
                               (["spec", "workerGroupSpecs", "[]", "template"], T)],
    ("ray.io", "RayJob"): [(["spec", "rayClusterSpec", "headGroupSpec", "template"], T),
                           (["spec", "rayClusterSpec", "workerGroupSpecs", "[]", "template"], T),
                           (["spec", "submitterPodTemplate"], T)],
    ("ray.io", "RayService"): [(["spec", "rayClusterConfig", "headGroupSpec", "template"], T),
                               (["spec", "rayClusterConfig", "workerGroupSpecs", "[]", "template"], T)],
    ("jobset.x-k8s.io", "JobSet"): [(["spec", "replicatedJobs", "[]", "template", "spec", "template"], T)],
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"): [
        (["spec", "leaderWorkerTemplate", "leaderTemplate"], T),
        (["spec", "leaderWorkerTemplate", "workerTemplate"], T)],
    **{("kubeflow.org", k): [(["spec", f, "*", "template"], T)] for k, f in (
        ("PyTorchJob", "pytorchReplicaSpecs"), ("TFJob", "tfReplicaSpecs"), ("MPIJob", "mpiReplicaSpecs"),
        ("XGBoostJob", "xgbReplicaSpecs"), ("PaddleJob", "paddleReplicaSpecs"), ("MXJob", "mxReplicaSpecs"),
        ("JAXJob", "jaxReplicaSpecs"))},
    ("kubeflow.org", "Notebook"): [(ST, T)],
    ("sparkoperator.k8s.io", "SparkApplication"): [(["spec", "driver"], SPARK), (["spec", "executor"], SPARK)],
    ("sparkoperator.k8s.io", "ScheduledSparkApplication"): [
        (["spec", "template", "driver"], SCHEDULED_SPARK), (["spec", "template", "executor"], SCHEDULED_SPARK)],
    **{("argoproj.io", k): [(["spec", "templates", "[]"], ARGO)]
       for k in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate")},
    ("argoproj.io", "CronWorkflow"): [(["spec", "workflowSpec", "templates", "[]"], ARGO)],
    ("tekton.dev", "Task"): [(["spec"], TEKTON)],
    ("tekton.dev", "ClusterTask"): [(["spec"], TEKTON)],
    ("tekton.dev", "TaskRun"): [(["spec", "taskSpec"], TEKTON)],
    ("tekton.dev", "Pipeline"): [(["spec", part, "[]", "taskSpec"], TEKTON) for part in ("tasks", "finally")],
    ("tekton.dev", "PipelineRun"): [(["spec", "pipelineSpec", part, "[]", "taskSpec"], TEKTON)
                                    for part in ("tasks", "finally")],
}


def _follow(node, steps):
    nodes = [node]
    for step in steps:
        following = []
        for n in nodes:
            if step == "[]":
                following.extend(n if isinstance(n, list) else [])
            elif step == "*":
                following.extend(n.values() if isinstance(n, dict) else [])
            elif isinstance(n, dict) and step in n:
                following.append(n[step])
        nodes = following
    return nodes


def _is_pod(obj, node, shape):
    if not isinstance(node, dict):
        return False
    if shape == T:
        node = node.get("spec")
        shape = "podspec"
    if not isinstance(node, dict):
        return False
    if shape == "podspec":
        return isinstance(node.get("containers"), list)
    for field in shape:
        if field.startswith("@"):
            value = _follow(obj, field[1:].split("."))
            if value and value[0] is not None:
                return True
        elif node.get(field) is not None:
            return True
    return False


def _detected(node, top=True):
    """Pod specs of a kind the table does not know: mappings with a `containers` list that
    holds a container with an image string."""
    count = 0
    if isinstance(node, list):
        return sum(_detected(i, False) for i in node)
    if not isinstance(node, dict):
        return 0
    containers = node.get("containers")
    if not top and isinstance(containers, list) and any(
            isinstance(c, dict) and isinstance(c.get("image"), str) for c in containers):
        count += 1
    for key, value in node.items():
        if top and key in ("metadata", "status", "apiVersion", "kind"):
            continue
        if key in ("containers", "initContainers", "ephemeralContainers"):
            continue
        count += _detected(value, False)
    return count


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
    routes = ROUTES.get((group, kind))
    if routes is None:
        return _detected(obj)
    return sum(1 for steps, shape in routes for node in _follow(obj, steps) if _is_pod(obj, node, shape))


def main():
    # Extra folders (e.g. testdata/knative-samples) are compared the same way, corpus or not.
    extra = [os.path.abspath(f) for f in sys.argv[2:]]
    if not os.path.isdir(CORPUS) and not extra:
        print("SKIP: ../shared/corpus/manifests is absent; acceptance_corpus not run", file=sys.stderr)
        return 0
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        print("SKIP: PyYAML is not installed (pip install pyyaml); acceptance_corpus not run", file=sys.stderr)
        return 0
    binary = os.path.abspath(sys.argv[1])
    failures = 0
    folders = [os.path.join(CORPUS, f) for f in sorted(os.listdir(CORPUS))] if os.path.isdir(CORPUS) else []
    for path in folders + extra:
        folder = os.path.basename(path)
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
        kinds = {}
        for w in report["workloads"]:
            key = w["kind"] + (" (detected)" if w["route"] == "detected" else "")
            kinds[key] = kinds.get(key, 0) + 1
        print(f"ok   {folder}: {report['summary']['files']} files, {report['summary']['workloads']} workloads, "
              f"{compared} files compared; by kind: {', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}")
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
