//! End-to-end tests of the binary: discovery, formats, exit codes, determinism.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY").env("NO_COLOR", "1");
    cmd
}

fn json_scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = bin()
        .current_dir(dir)
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec: {containers: [{name: c, image: \"gcr.io/p/NAME:1\"}]}\n";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// A small repository: git-ignored and hidden folders, a Helm chart, JSON, a non-manifest,
/// invalid YAML next to valid files, and files that are not candidates.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir_all(root.join(".git")).expect("git dir");
    write(root, ".gitignore", "ignored/\n");
    write(root, "apps/a.yaml", &POD.replace("NAME", "a"));
    write(root, "apps/b.yml", &POD.replace("NAME", "b"));
    write(
        root,
        "apps/c.json",
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"}, "spec": {"containers": [{"name": "c", "image": "c:1"}]}}"#,
    );
    write(
        root,
        "apps/broken.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
    );
    write(root, "apps/values.yaml", "replicas: 3\n");
    write(root, "apps/readme.txt", "kind: Pod\n");
    write(root, "ignored/x.yaml", &POD.replace("NAME", "ignored"));
    write(root, ".hidden/x.yaml", &POD.replace("NAME", "hidden"));
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    );
    write(
        root,
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    dir
}

#[test]
fn discovery_counts_every_candidate_and_honours_gitignore_and_hidden() {
    let dir = repo();
    let (code, report) = json_scan(dir.path(), &["--fail-on", "never"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| w["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    let s = &report["summary"];
    // a, b, c, broken, values, Chart.yaml, the template: 7 candidates.
    assert_eq!(s["files"], 7, "{report:#}");
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap_or("").to_string(),
                s["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("apps/values.yaml".to_string(), "not-a-manifest".to_string()),
            ("chart/Chart.yaml".to_string(), "not-a-manifest".to_string()),
            (
                "chart/templates/deploy.yaml".to_string(),
                "helm-template".to_string()
            ),
        ]
    );
    assert_eq!(s["skippedFiles"], 3);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["ruleId"].as_str().expect("rule"))
        .collect();
    assert_eq!(rules, ["manifest-invalid", "helm-template-skipped"]);
    let invalid = &report["findings"][0]["location"];
    assert_eq!(invalid["file"], "apps/broken.yaml");
    assert_eq!(invalid["line"], 4, "{invalid}");
}

#[test]
fn invalid_yaml_fails_the_scan_but_valid_files_are_still_reported() {
    let dir = repo();
    let (code, report) = json_scan(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["workloads"], 3);
}

#[test]
fn explicit_files_are_always_read() {
    let dir = repo();
    let (_, report) = json_scan(
        dir.path(),
        &["ignored/x.yaml", "apps/readme.txt", "--fail-on", "never"],
    );
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["workloads"][0]["name"], "ignored");
    assert_eq!(report["skipped"][0]["file"], "apps/readme.txt");
}

#[test]
fn stdin_is_scanned_as_stdin() {
    let out = bin()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(POD.replace("NAME", "piped"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["workloads"][0]["location"]["file"], "<stdin>");
    assert_eq!(report["workloads"][0]["name"], "piped");
}

#[test]
fn jobs_do_not_change_the_output() {
    let demo = common::fixture("testdata");
    let run = |jobs: &str| {
        bin()
            .current_dir(&demo)
            .args([
                "scan",
                "--format",
                "json",
                "--fail-on",
                "never",
                "-j",
                jobs,
                ".",
            ])
            .output()
            .expect("run")
            .stdout
    };
    let one = run("1");
    assert!(one.len() > 1000);
    assert_eq!(one, run("4"));
    assert_eq!(one, run("2"));
}

#[test]
fn exit_codes() {
    let dir = repo();
    bin()
        .current_dir(dir.path())
        .args(["scan", "apps/a.yaml"])
        .assert()
        .code(0);
    bin()
        .current_dir(dir.path())
        .args(["scan", "apps/broken.yaml"])
        .assert()
        .code(1);
    bin()
        .current_dir(dir.path())
        .args(["scan", "--fail-on", "never", "apps/broken.yaml"])
        .assert()
        .code(0);
    bin()
        .current_dir(dir.path())
        .args(["scan", "does-not-exist.yaml"])
        .assert()
        .code(2);
    bin().args(["scan", "--no-such-flag"]).assert().code(2);
    bin().args(["explain", "no-such-rule"]).assert().code(2);
    bin()
        .current_dir(dir.path())
        .args(["scan", "apps", "-o", "/nonexistent-dir/out.json"])
        .assert()
        .code(2);
}

#[test]
fn breakglass_fails_by_default_and_passes_with_fail_on_error() {
    let demo = common::fixture("testdata/demo/apps/hotfix.yaml");
    bin().arg("scan").arg(&demo).assert().code(1);
    bin()
        .arg("scan")
        .arg(&demo)
        .args(["--fail-on", "error"])
        .assert()
        .code(0);
}

#[test]
fn human_output_shows_the_marker_line_and_what_it_overrides() {
    let demo = common::fixture("testdata/demo");
    let out = bin()
        .current_dir(&demo)
        .args(["scan", "apps/hotfix.yaml"])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("apps/hotfix.yaml:14:9: warning[breakglass-used]"),
        "{text}"
    );
    assert!(
        text.contains("14 |         image-policy.k8s.io/break-glass: \"true\""),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
    assert!(
        text.contains("Summary: 1 file (1 scanned, 0 skipped)"),
        "{text}"
    );
}

#[test]
fn audit_log_is_json_lines_selected_by_the_documented_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("audit.jsonl");
    let demo = common::fixture("testdata/demo/apps/hotfix.yaml");
    bin()
        .arg("scan")
        .arg(&demo)
        .args([
            "--cluster",
            "us-central1-a.prod",
            "--fail-on",
            "never",
            "--audit-log",
        ])
        .arg(&log)
        .assert()
        .code(0);
    let text = fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1);
    for line in lines {
        let event: Value = serde_json::from_str(line).expect("one JSON object per line");
        // The log query of the Binary Authorization docs (viewing-audit-logs).
        assert_eq!(event["resource"]["type"], "k8s_cluster");
        assert!(
            event["logName"]
                .as_str()
                .expect("logName")
                .ends_with("/logs/cloudaudit.googleapis.com%2Factivity")
        );
        assert_eq!(
            event["protoPayload"]["methodName"],
            "io.k8s.core.v1.pods.create"
        );
        assert!(line.contains("image-policy.k8s.io/break-glass"));
        assert_eq!(
            event["labels"]["imagepolicywebhook.image-policy.k8s.io/break-glass"],
            "true"
        );
        assert_eq!(event["resource"]["labels"]["cluster_name"], "prod");
        assert_eq!(event["resource"]["labels"]["location"], "us-central1-a");
        assert_eq!(
            event["protoPayload"]["resourceName"],
            "core/v1/namespaces/prod/pods/hotfix"
        );
        assert_eq!(
            event["protoPayload"]["request"]["metadata"]["labels"]["image-policy.k8s.io/break-glass"],
            "true"
        );
    }
}

#[test]
fn rules_and_explain() {
    let out = bin().arg("rules").output().expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    for rule in binauthz_lint::rules::RULES {
        assert!(text.contains(rule.id));
        let page = bin().args(["explain", rule.id]).output().expect("run");
        assert!(String::from_utf8_lossy(&page.stdout).starts_with(&format!("# {}", rule.id)));
    }
}

#[test]
fn version_names_the_commit() {
    let out = bin().arg("--version").output().expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.starts_with("binauthz-lint 0.1.0 (commit "), "{text}");
}

#[test]
fn audit_events_for_breakglass_and_dry_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "policy.yaml",
        "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: DRYRUN_AUDIT_LOG_ONLY}\nglobalPolicyEvaluationMode: DISABLE\n",
    );
    write(
        root,
        "both.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: both, namespace: ops, labels: {image-policy.k8s.io/break-glass: \"true\"}}\nspec: {containers: [{name: c, image: \"nginx:latest\"}]}\n",
    );
    write(root, "dry.yaml", &POD.replace("NAME", "dry"));
    let (code, report) = json_scan(root, &["--policy", "policy.yaml", "both.yaml", "dry.yaml"]);
    assert_eq!(code, 1, "break-glass and dry-run findings are warnings");
    let events = report["auditEvents"].as_array().expect("auditEvents");
    assert_eq!(events.len(), 2);
    let labels = &events[0]["labels"];
    assert_eq!(
        labels["imagepolicywebhook.image-policy.k8s.io/break-glass"],
        "true"
    );
    assert_eq!(
        labels["imagepolicywebhook.image-policy.k8s.io/dry-run"],
        "true"
    );
    let overridden =
        labels["imagepolicywebhook.image-policy.k8s.io/overridden-verification-result"]
            .as_str()
            .expect("overridden result");
    assert!(overridden.starts_with("'nginx:latest' : Image nginx:latest denied by Binary Authorization default admission rule"), "{overridden}");
    assert!(overridden.ends_with('\n'));
    assert_eq!(
        events[0]["protoPayload"]["resourceName"],
        "core/v1/namespaces/ops/pods/both"
    );
    assert!(
        events[0]["resource"]["labels"]
            .get("cluster_name")
            .is_none(),
        "no --cluster, no cluster labels"
    );
    let dry = &events[1]["labels"];
    assert_eq!(
        dry["imagepolicywebhook.image-policy.k8s.io/dry-run"],
        "true"
    );
    assert!(
        dry.get("imagepolicywebhook.image-policy.k8s.io/break-glass")
            .is_none()
    );
    assert_eq!(report["summary"]["dryrunDenied"], 2);
    assert_eq!(report["summary"]["breakglass"], 1);
    assert_eq!(report["summary"]["denied"], 0);
}

#[test]
fn human_breakglass_finding_names_what_it_overrides() {
    let demo = common::fixture("testdata/demo");
    let out = bin()
        .current_dir(&demo)
        .args(["scan", "--policy", "policy.yaml", "apps/hotfix.yaml"])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.contains("apps/hotfix.yaml:14:9: warning[breakglass-used]: break-glass label `image-policy.k8s.io/break-glass: \"true\"` on Deployment hotfix admits its pods whatever the policy says and writes a break-glass audit event; it overrides 1 denial: docker.io/acme/hotfix:latest (container hotfix: not-by-digest by the default rule)"),
        "{text}"
    );
    assert!(
        !text.contains("image-denied"),
        "break-glass admits: no image-denied finding\n{text}"
    );
}

#[test]
fn cluster_must_be_location_dot_name() {
    let demo = common::fixture("testdata/demo/apps/web.yaml");
    bin()
        .arg("scan")
        .arg(&demo)
        .args(["--cluster", "prod"])
        .assert()
        .code(2);
    bin()
        .arg("scan")
        .arg(&demo)
        .args(["--cluster", "us-central1-a.prod"])
        .assert()
        .code(0);
}
