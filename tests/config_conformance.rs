//! The config file (contract §5) and approved exceptions (§7) through the CLI:
//! `testdata/conformance/config.yaml` and `exceptions.yaml` (their headers say the format).

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn strings(case: &Value, key: &str) -> Vec<String> {
    case.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn run_table(relative: &str, minimum: usize) {
    let cases = common::load_table(relative);
    let mut ran = 0;
    for case in &cases {
        if case.get("skip").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        let dir = tempfile::tempdir().expect("tempdir");
        if case.get("git").and_then(Value::as_bool) == Some(true) {
            std::fs::create_dir(dir.path().join(".git")).expect(".git");
        }
        let write_files = |key: &str| {
            for (path, content) in case
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let file = dir.path().join(path);
                std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
                std::fs::write(&file, content.as_str().expect("file content")).expect("write");
            }
        };
        write_files("files");
        // `commit: true`: `files` become the first commit of a real repository, and
        // `edits` are then written over the work tree (uncommitted).
        if case.get("commit").and_then(Value::as_bool) == Some(true) {
            for args in [
                &["init", "-q", "-b", "main"][..],
                &["add", "-A"],
                &["commit", "-q", "--no-verify", "-m", "base"],
            ] {
                let status = std::process::Command::new("git")
                    .current_dir(dir.path())
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                    .args(args)
                    .status()
                    .expect("git");
                assert!(status.success(), "git {args:?}");
            }
        }
        write_files("edits");
        let cwd = match case.get("cwd").and_then(Value::as_str) {
            Some(sub) => dir.path().join(sub),
            None => dir.path().to_path_buf(),
        };
        let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
        cmd.current_dir(&cwd).args(strings(case, "args"));
        let output = cmd.output().expect("run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let context = format!("case `{name}`\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        assert_eq!(
            output.status.code(),
            case["exit"].as_i64().map(|c| c as i32),
            "{context}"
        );
        if let Some(expected) = case.get("json") {
            let actual: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{context}\nnot JSON: {e}"));
            common::assert_subset(expected, &actual, name);
        }
        for text in strings(case, "stdout") {
            assert!(
                stdout.contains(&text),
                "{context}\nmissing in stdout: {text}"
            );
        }
        for text in strings(case, "stderr") {
            assert!(
                stderr.contains(&text),
                "{context}\nmissing in stderr: {text}"
            );
        }
        for text in strings(case, "absent") {
            assert!(
                !stdout.contains(&text),
                "{context}\nunexpected in stdout: {text}"
            );
        }
        ran += 1;
    }
    assert!(ran >= minimum, "{relative}: only {ran} cases ran");
}

#[test]
fn config_table() {
    run_table("testdata/conformance/config.yaml", 40);
}

/// The monorepo fixture (two production clusters under one policy, staging under another
/// project's policy): one run, each workload with its own cluster's verdict.
#[test]
fn monorepo_fixture_gives_each_cluster_its_verdict() {
    let dir = common::fixture("testdata/monorepo");
    let output = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .current_dir(&dir)
        .args(["scan", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let expected: Value = serde_json::json!({
        "summary": {"config": ".binauthz-lint.yaml", "workloads": 3, "denied": 1, "dryrunDenied": 1},
        "workloads": [
            {"name": "web", "namespace": "web", "context": "prod-eu", "cluster": "europe-west1.prod-eu",
             "policy": "policy/prod.yaml", "policyDecision": "dryrun-deny", "admitted": true},
            {"name": "payments", "context": "prod-us", "cluster": "us-central1.prod-us",
             "policy": "policy/prod.yaml", "policyDecision": "deny", "admitted": false,
             "images": [{"decision": "allow", "reason": "allowlist"}, {"decision": "deny", "rule": "cluster:us-central1.prod-us"}]},
            {"name": "web", "namespace": "staging", "context": "staging", "cluster": "us-central1.staging",
             "policy": "policy/staging.yaml", "policyDecision": "allow"},
        ],
    });
    common::assert_subset(&expected, &report, "monorepo");
}

#[test]
fn exceptions_table() {
    run_table("testdata/conformance/exceptions.yaml", 35);
}

/// Issue 27: runs that must not be green without a verdict.
#[test]
fn silent_passes_table() {
    run_table("testdata/conformance/silent-passes.yaml", 14);
}

#[test]
fn policy_diff_table() {
    run_table("testdata/conformance/policy-diff.yaml", 14);
}

/// `policy diff` with `--render kustomize`: the rendered images decide (an `images:`
/// rewrite into an allowlisted registry), not the raw files.
#[test]
fn policy_diff_evaluates_rendered_objects() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("SKIPPED policy_diff_evaluates_rendered_objects: kubectl is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    );
    write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
    write(
        "prod/kustomization.yaml",
        "resources: [../base]\nimages:\n- name: nginx\n  newName: gcr.io/acme/nginx\n",
    );
    write(
        "old.yaml",
        "globalPolicyEvaluationMode: DISABLE\nadmissionWhitelistPatterns: [{namePattern: \"gcr.io/acme/*\"}]\ndefaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    );
    write(
        "new.yaml",
        "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    );
    let diff = |extra: &[&str]| -> Value {
        let out = Command::cargo_bin("binauthz-lint")
            .expect("binary")
            .current_dir(dir.path())
            .args([
                "policy", "diff", "old.yaml", "new.yaml", "prod", "base", "--format", "json",
            ])
            .args(extra)
            .output()
            .expect("run");
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    };
    let rendered = diff(&["--render", "kustomize"]);
    let expected = serde_json::json!({
        "changes": [{"change": "newly-denied", "images": [{"image": "gcr.io/acme/nginx:1.27"}]}]
    });
    common::assert_subset(&expected, &rendered, "rendered");
    // Raw, `nginx:1.27` is denied by both policies: no change.
    let raw = diff(&["--render", "none"]);
    common::assert_subset(&serde_json::json!({"changes": []}), &raw, "raw");
}
