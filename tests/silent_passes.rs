//! Runs that used to pass silently: each is now a finding, with the exit code the default
//! `--fail-on warning` and `--fail-on error` give.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n";

/// Run `scan --format json ARGS` in `dir` with `stdin`; exit codes for the default
/// `--fail-on` and for `--fail-on error`, and the default run's report.
fn scan(dir: &Path, args: &[&str], stdin: &str) -> (i32, i32, Value) {
    let run = |extra: &[&str]| {
        bin()
            .current_dir(dir)
            .args(["scan", "--format", "json"])
            .args(args)
            .args(extra)
            .write_stdin(stdin)
            .output()
            .expect("run")
    };
    let default = run(&[]);
    let on_error = run(&["--fail-on", "error"]);
    let report: Value = serde_json::from_slice(&default.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&default.stderr)));
    (
        default.status.code().unwrap_or(-1),
        on_error.status.code().unwrap_or(-1),
        report,
    )
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == rule)
        .collect()
}

fn message(finding: &Value) -> &str {
    finding["message"].as_str().unwrap_or("")
}

#[test]
fn empty_standard_input_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, on_error, report) = scan(dir.path(), &["-"], "");
    assert_eq!((code, on_error), (1, 0));
    let found = findings(&report, "no-manifests");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "<stdin>");
    let text = message(found[0]);
    assert!(text.contains("in standard input: it is empty"), "{text}");
    assert!(text.contains("pipefail"), "{text}");
}

#[test]
fn standard_input_without_objects_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, report) = scan(dir.path(), &["-"], "replicas: 3\n");
    assert_eq!(code, 1);
    let found = findings(&report, "no-manifests");
    assert!(
        message(found[0])
            .contains("1 file read, none holding a Kubernetes object (1 not-a-manifest)"),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_folder_without_candidates_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("k8s")).expect("mkdir");
    fs::write(dir.path().join("k8s/readme.txt"), "kind: Pod\n").expect("write");
    let (code, on_error, report) = scan(dir.path(), &["k8s"], "");
    assert_eq!((code, on_error), (1, 0));
    let found = findings(&report, "no-manifests");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["location"]["file"], "k8s");
    let text = message(found[0]);
    assert!(
        text.contains("`k8s`") && text.contains("no candidate file"),
        "{text}"
    );
}

/// pre-commit passes the changed files: a commit of a values file or a workflow alone has
/// nothing to check, and passes.
#[test]
fn files_named_explicitly_are_not_a_silent_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("values.yaml"), "replicas: 3\n").expect("write");
    let (code, _, report) = scan(dir.path(), &["values.yaml"], "");
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report, "no-manifests").is_empty());
    // The folder that holds it, scanned whole, has no manifest.
    let (code, _, report) = scan(dir.path(), &["."], "");
    assert_eq!(code, 1);
    assert!(
        message(findings(&report, "no-manifests")[0])
            .contains("1 file read, none holding a Kubernetes object (1 not-a-manifest)")
    );
}

#[test]
fn a_folder_with_a_workload_has_no_such_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    let (code, _, report) = scan(dir.path(), &["."], "");
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report, "no-manifests").is_empty());
    // Standard input with a manifest neither.
    let (code, _, report) = scan(dir.path(), &["-"], POD);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn an_unquoted_breakglass_value_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n      labels:\n        image-policy.k8s.io/break-glass: true\n    spec:\n      containers: [{name: c, image: \"gcr.io/p/web:1\"}]\n",
    )
    .expect("write");
    let (code, on_error, report) = scan(dir.path(), &["deploy.yaml"], "");
    assert_eq!((code, on_error), (1, 1), "{report:#}");
    let found = findings(&report, "breakglass-ineffective");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["level"], "error");
    assert!(
        message(found[0]).contains("rejects"),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_quoted_but_wrong_breakglass_value_stays_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {image-policy.k8s.io/break-glass: \"yes\"}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n",
    )
    .expect("write");
    let (code, on_error, report) = scan(dir.path(), &["pod.yaml"], "");
    assert_eq!((code, on_error), (1, 0));
    assert_eq!(
        findings(&report, "breakglass-ineffective")[0]["level"],
        "warning"
    );
}

#[test]
fn an_unquoted_breakglass_value_on_the_wrong_object_is_an_error_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {image-policy.k8s.io/break-glass: true}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: \"gcr.io/p/web:1\"}]\n",
    )
    .expect("write");
    let (_, on_error, report) = scan(dir.path(), &["deploy.yaml"], "");
    assert_eq!(on_error, 1);
    let found = findings(&report, "breakglass-ineffective");
    assert_eq!(found[0]["level"], "error");
    assert!(
        message(found[0]).contains("the API server refuses the object"),
        "{}",
        message(found[0])
    );
}

const CLUSTER_POLICY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nclusterAdmissionRules:\n  europe-west1.ks-test:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  us-east1.prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";

#[test]
fn a_cluster_matching_no_key_is_a_warning_with_the_closest_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("policy.yaml"), CLUSTER_POLICY).expect("write");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    let args = [
        "pod.yaml",
        "--policy",
        "policy.yaml",
        "--cluster",
        "europe-west1.ks-tst",
    ];
    let (code, on_error, report) = scan(dir.path(), &args, "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    let found = findings(&report, "policy-cluster-unmatched");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "policy.yaml");
    assert_eq!(found[0]["location"]["line"], 5);
    let text = message(found[0]);
    assert!(
        text.contains("`europe-west1.ks-tst`")
            && text.contains("did you mean `europe-west1.ks-test`?"),
        "{text}"
    );
    // The right key: the cluster rule denies, and no mismatch warning.
    let (code, _, report) = scan(
        dir.path(),
        &[
            "pod.yaml",
            "--policy",
            "policy.yaml",
            "--cluster",
            "europe-west1.ks-test",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(findings(&report, "policy-cluster-unmatched").is_empty());
    assert_eq!(findings(&report, "image-denied").len(), 1);
}

#[test]
fn unused_pattern_does_not_claim_zero_images_when_files_were_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("policy.yaml"),
        "admissionWhitelistPatterns:\n- namePattern: gcr.io/p/*\ndefaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n",
    )
    .expect("write");
    fs::write(dir.path().join("big.yaml"), POD.repeat(20)).expect("write");
    let (_, _, report) = scan(
        dir.path(),
        &[
            "big.yaml",
            "--policy",
            "policy.yaml",
            "--max-file-size",
            "100",
        ],
        "",
    );
    assert!(
        findings(&report, "policy-unused-pattern").is_empty(),
        "no images were read, so no pattern is unused: {report:#}"
    );
    fs::write(
        dir.path().join("other.yaml"),
        POD.replace("gcr.io/p/", "docker.io/x/"),
    )
    .expect("write");
    let (_, _, report) = scan(
        dir.path(),
        &[
            "big.yaml",
            "other.yaml",
            "--policy",
            "policy.yaml",
            "--max-file-size",
            "200",
        ],
        "",
    );
    let found = findings(&report, "policy-unused-pattern");
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(
        message(found[0]).contains(
            "matches none of the 1 distinct images scanned (1 skipped file was not checked)"
        ),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_file_over_the_size_limit_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    fs::write(dir.path().join("big.yaml"), POD.repeat(20)).expect("write");
    let (code, on_error, report) = scan(dir.path(), &[".", "--max-file-size", "1000"], "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    let found = findings(&report, "file-skipped");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "big.yaml");
    assert!(message(found[0]).contains("--max-file-size"));
    assert!(
        findings(&report, "no-manifests").is_empty(),
        "pod.yaml was read"
    );
}
