//! The binary on custom resources: a Knative-samples-like repository under ALWAYS_DENY.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Knative Services counted from the text: documents or list items whose `apiVersion` is
/// `serving.knative.dev/...` and whose `kind` is `Service` (the samples write them in that
/// order, as the Knative docs do).
fn knative_services_in(dir: &Path) -> usize {
    let mut count = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                pending.push(entry.expect("entry").path());
            }
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        count += lines
            .windows(2)
            .filter(|w| {
                w[0].trim_start_matches("- ")
                    .starts_with("apiVersion: serving.knative.dev/")
                    && w[1] == "kind: Service"
            })
            .count();
    }
    count
}

#[test]
fn every_knative_service_is_denied_under_always_deny() {
    let samples = root().join("testdata/knative-samples");
    let expected = knative_services_in(&samples);
    assert_eq!(expected, 8, "the samples changed");
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env_remove("GITHUB_STEP_SUMMARY")
        .current_dir(&samples)
        .args([
            "scan",
            "--format",
            "json",
            "--policy",
            "../policies/always-deny.yaml",
            ".",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let workloads = report["workloads"].as_array().expect("workloads");
    assert_eq!(workloads.len(), expected);
    for w in workloads {
        assert_eq!(w["kind"], "Service", "{w}");
        assert!(
            w["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("serving.knative.dev/")),
            "{w}"
        );
        assert_eq!(w["route"], "spec.template", "{w}");
        assert_eq!(w["policyDecision"], "deny", "{w}");
        assert_eq!(w["admitted"], false, "{w}");
    }
    assert_eq!(report["summary"]["workloads"], expected);
    assert_eq!(report["summary"]["denied"], expected);
    let images: usize = workloads
        .iter()
        .map(|w| w["images"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(images, 9, "one Service has two containers");
    let findings = report["findings"].as_array().expect("findings");
    let denied = findings
        .iter()
        .filter(|f| f["ruleId"] == "image-denied")
        .count();
    assert_eq!(denied, images);
    // The break-glass label on a Service's own metadata is not honoured, and says so.
    let ineffective: Vec<&Value> = findings
        .iter()
        .filter(|f| f["ruleId"] == "breakglass-ineffective")
        .collect();
    assert_eq!(ineffective.len(), 1);
    assert_eq!(
        ineffective[0]["location"]["file"],
        "traffic-splitting/split.yaml"
    );
}

/// A `workloadRef` Rollout has no pod template of its own: a `workload-ref` note at the key
/// names the referenced Deployment, which is evaluated where it is written.
#[test]
fn a_workload_ref_rollout_is_noted_and_its_deployment_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rollout.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec:\n  replicas: 3\n  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web-deploy\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-deploy}\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    )
    .expect("write");
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json"])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let workloads: Vec<&str> = report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .filter_map(|w| w["kind"].as_str())
        .collect();
    assert_eq!(workloads, ["Deployment"], "{report:#}");
    let note = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["ruleId"] == "workload-ref")
        .expect("a workload-ref note");
    assert_eq!(note["level"], "note");
    assert_eq!(note["location"]["line"], 6);
    assert_eq!(note["location"]["column"], 3);
    assert!(
        note["message"]
            .as_str()
            .is_some_and(|m| m.contains("Deployment `web-deploy`")),
        "{note:#}"
    );
}
