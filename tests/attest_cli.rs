//! REQUIRE_ATTESTATION end to end: `testdata/conformance/attestation-cli.yaml` through the
//! CLI and the JSON report, with the generated vectors of `testdata/attest/`.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The digest generate.sh derives for a case name.
fn digest(name: &str) -> String {
    let hash = Sha256::digest(format!("binauthz-lint test {name}").as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn expand(image: &str) -> String {
    match (image.find('{'), image.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!(
                "{}{}{}",
                &image[..open],
                digest(&image[open + 1..close]),
                &image[close + 1..]
            )
        }
        _ => image.to_string(),
    }
}

#[test]
fn attestation_table_through_the_cli() {
    let cases = common::load_table("testdata/conformance/attestation-cli.yaml");
    assert!(cases.len() >= 18);
    let root = common::repo_root();
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let dir = tempfile::tempdir().expect("tempdir");
        let image = expand(case["image"].as_str().expect("image"));
        let require: Vec<String> = case["require"]
            .as_array()
            .expect("require")
            .iter()
            .map(|a| format!("projects/sec/attestors/{}", a.as_str().expect("attestor")))
            .collect();
        let mode = if case["dryrun"].as_bool() == Some(true) {
            "DRYRUN_AUDIT_LOG_ONLY"
        } else {
            "ENFORCED_BLOCK_AND_AUDIT_LOG"
        };
        // The attestation rule, indented under `indent`; with `cluster` it is that cluster's
        // rule and the default rule denies everything.
        let rule = |indent: &str| {
            let attestors: String = require.iter().map(|a| format!("{indent}- {a}\n")).collect();
            format!(
                "{indent}evaluationMode: REQUIRE_ATTESTATION\n{indent}enforcementMode: {mode}\n{indent}requireAttestationsBy:\n{attestors}"
            )
        };
        let cluster = case.get("cluster").and_then(Value::as_str);
        let policy = match cluster {
            None => format!(
                "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule:\n{}",
                rule("  ")
            ),
            Some(key) => format!(
                "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {{evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}}\nclusterAdmissionRules:\n  {key}:\n{}",
                rule("    ")
            ),
        };
        std::fs::write(dir.path().join("policy.yaml"), policy).expect("policy");
        std::fs::write(
            dir.path().join("pod.yaml"),
            format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: \"{image}\"\n"),
        )
        .expect("pod");
        let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
        cmd.current_dir(dir.path()).args([
            "scan",
            "pod.yaml",
            "--policy",
            "policy.yaml",
            "--format",
            "json",
        ]);
        if let Some(key) = case.get("run-cluster").and_then(Value::as_str).or(cluster) {
            cmd.args(["--cluster", key]);
        }
        if case["inputs"].as_str() != Some("none") {
            cmd.arg("--attestors")
                .arg(root.join("testdata/attest/attestors"));
            cmd.arg("--attestations")
                .arg(root.join("testdata/attest/attestations"));
        }
        let out = cmd.output().expect("run");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let actual = &report["workloads"][0]["images"][0];
        let check =
            std::panic::catch_unwind(|| common::assert_subset(&case["expect"], actual, "image"));
        if let Err(e) = check {
            panic!(
                "case {name:?}: {:?}\nactual: {actual:#}",
                e.downcast_ref::<String>()
            );
        }
        if let Some(expected) = case.get("findings").and_then(Value::as_array) {
            let rules: Vec<&str> = report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| !f["ruleId"].as_str().unwrap_or("").starts_with("policy-"))
                .map(|f| f["ruleId"].as_str().unwrap_or(""))
                .collect();
            let expected: Vec<&str> = expected.iter().map(|r| r.as_str().unwrap_or("")).collect();
            assert_eq!(rules, expected, "case {name:?}");
        }
        if let Some(message) = case.get("message").and_then(Value::as_str) {
            let text = report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .find(|f| f["ruleId"] == "image-denied");
            let text = text.and_then(|f| f["message"].as_str()).unwrap_or("");
            assert!(text.contains(message), "case {name:?}: {text}");
        }
        if let Some(admitted) = case.get("admitted").and_then(Value::as_bool) {
            assert_eq!(
                report["workloads"][0]["admitted"], admitted,
                "case {name:?}"
            );
        }
        if let Some(code) = case.get("exit").and_then(Value::as_i64) {
            assert_eq!(out.status.code(), Some(code as i32), "case {name:?}");
        }
    }
}

#[test]
fn malformed_attestation_inputs_exit_2_with_a_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n").expect("pod");
    std::fs::write(
        dir.path().join("bad-attestors.json"),
        "{\"name\": \"projects/p/attestors/a\",\n \"userOwnedGrafeasNote\": [}\n",
    )
    .expect("bad");
    std::fs::write(dir.path().join("bad-occurrences.yaml"), "- kind: ATTESTATION\n  resourceUri: gcr.io/p/a@sha256:00\n  attestation:\n    serializedPayload: \"!!!not base64\"\n").expect("bad");
    for (flag, file) in [
        ("--attestors", "bad-attestors.json"),
        ("--attestations", "bad-occurrences.yaml"),
        ("--attestors", "missing.json"),
    ] {
        let out = Command::cargo_bin("binauthz-lint")
            .expect("binary")
            .current_dir(dir.path())
            .args(["scan", "pod.yaml", flag, file])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{flag} {file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(file), "{flag} {file}: {stderr}");
        if file != "missing.json" {
            assert!(
                stderr.contains(&format!("{file}:")) && stderr.matches(':').count() >= 3,
                "located: {stderr}"
            );
        }
    }
}
