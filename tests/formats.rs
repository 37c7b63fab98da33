//! `--format concise` and `BINAUTHZ_LINT_FORMAT`, `--verbose`, and the small command-line
//! errors: two reports to one file, a missing policy, a manifest given as the policy,
//! `explain` with a near rule id.

use assert_cmd::Command;
use std::fs;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n";
const DENY: &str = "globalPolicyEvaluationMode: ENABLE\ndefaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    fs::write(dir.path().join("policy.yaml"), DENY).expect("write");
    fs::write(dir.path().join("values.yaml"), "replicas: 3\n").expect("write");
    dir
}

fn stdout(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONCISE: &str = "pod.yaml:4:38: error[image-denied] Image gcr.io/p/web:1 (container `c` of Pod `web`) denied by Binary Authorization default admission rule. Denied by always_deny admission rule. Fix: allowlist the image with an `admissionWhitelistPatterns` entry, or change the rule's `evaluationMode`\n\
Summary: 2 files (1 scanned, 1 skipped); 1 workload: 0 admitted, 1 denied; 1 image; 1 error, 0 warnings, 0 notes\n\
By rule: image-denied 1 (error)\n";

#[test]
fn concise_by_option_and_by_environment() {
    let dir = repo();
    let args = ["scan", "pod.yaml", "values.yaml", "--policy", "policy.yaml"];
    let (code, text, _) = stdout(
        bin()
            .current_dir(dir.path())
            .args(args)
            .args(["--format", "concise"]),
    );
    assert_eq!(code, 1);
    assert_eq!(text, CONCISE);
    let (code, text, _) = stdout(
        bin()
            .current_dir(dir.path())
            .env("BINAUTHZ_LINT_FORMAT", "concise")
            .args(args),
    );
    assert_eq!((code, text.as_str()), (1, CONCISE));
    // The option wins over the environment.
    let (_, text, _) = stdout(
        bin()
            .current_dir(dir.path())
            .env("BINAUTHZ_LINT_FORMAT", "concise")
            .args(args)
            .args(["--format", "json"]),
    );
    assert!(text.starts_with('{'), "{text}");
    // A wrong value is a usage error naming the variable.
    let (code, _, err) = stdout(
        bin()
            .current_dir(dir.path())
            .env("BINAUTHZ_LINT_FORMAT", "fancy")
            .args(args),
    );
    assert_eq!(code, 2);
    assert!(err.contains("fancy"), "{err}");
}

#[test]
fn verbose_lists_the_skipped_files() {
    let dir = repo();
    let (_, text, _) = stdout(bin().current_dir(dir.path()).args([
        "scan",
        ".",
        "--verbose",
        "--fail-on",
        "never",
    ]));
    assert!(
        text.contains("Skipped files:\n  policy.yaml: not-a-manifest\n  values.yaml: not-a-manifest\n\nPolicy: the built-in default policy (ALWAYS_ALLOW: every image is admitted) decided 1 workload"),
        "{text}"
    );
    let (_, text, _) =
        stdout(
            bin()
                .current_dir(dir.path())
                .args(["scan", ".", "--fail-on", "never"]),
        );
    assert!(!text.contains("Skipped files:"), "{text}");
}

#[test]
fn two_reports_to_one_file_is_an_error() {
    let dir = repo();
    let (code, _, err) = stdout(bin().current_dir(dir.path()).args([
        "scan",
        "pod.yaml",
        "-o",
        "out.json",
        "--json",
        "./out.json",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("-o/--output and --json both name out.json"),
        "{err}"
    );
    assert!(!dir.path().join("out.json").exists(), "nothing written");
    let (code, _, _) = stdout(bin().current_dir(dir.path()).args([
        "scan",
        "pod.yaml",
        "--sarif",
        "a.sarif",
        "--json",
        "a.json",
        "--fail-on",
        "never",
    ]));
    assert_eq!(code, 0);
}

#[test]
fn a_missing_policy_is_not_found() {
    let dir = repo();
    let (code, _, err) = stdout(bin().current_dir(dir.path()).args([
        "scan",
        "pod.yaml",
        "--policy",
        "missing.yaml",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("missing.yaml: policy file not found"), "{err}");
    assert!(!err.contains("invalid policy"), "{err}");
    let (code, text, _) =
        stdout(
            bin()
                .current_dir(dir.path())
                .args(["policy", "validate", "missing.yaml"]),
        );
    assert_eq!(code, 2);
    assert!(
        text.contains("missing.yaml: policy file not found"),
        "{text}"
    );
}

#[test]
fn a_manifest_given_as_the_policy_gets_a_hint() {
    let dir = repo();
    let (code, _, err) =
        stdout(
            bin()
                .current_dir(dir.path())
                .args(["scan", "policy.yaml", "--policy", "pod.yaml"]),
        );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "pod.yaml: invalid policy; this looks like a Kubernetes manifest (`kind: Pod`)"
        ),
        "{err}"
    );
    // A real policy error has no such hint.
    fs::write(dir.path().join("bad.yaml"), "defaultAdmissionRule: 3\n").expect("write");
    let (_, _, err) = stdout(
        bin()
            .current_dir(dir.path())
            .args(["scan", "pod.yaml", "--policy", "bad.yaml"]),
    );
    assert!(err.contains("bad.yaml: invalid policy\n"), "{err}");
}

#[test]
fn explain_ignores_case_and_suggests_near_ids() {
    let (code, text, _) = stdout(bin().args(["explain", "Image-Denied"]));
    assert_eq!(code, 0);
    assert!(text.starts_with("# image-denied\n"), "{text}");
    let (code, _, err) = stdout(bin().args(["explain", "breakglass-use"]));
    assert_eq!(code, 2);
    assert!(err.contains("(did you mean `breakglass-used`?)"), "{err}");
    let (code, _, err) = stdout(bin().args(["explain", "zzzz"]));
    assert_eq!(code, 2);
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn audit_log_takes_the_project_from_the_policy_name() {
    let dir = repo();
    fs::write(
        dir.path().join("named.yaml"),
        format!("name: projects/acme-prod/policy\n{DENY}"),
    )
    .expect("write");
    fs::write(
        dir.path().join("hotfix.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hotfix\n  labels: {image-policy.k8s.io/break-glass: \"true\"}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n",
    )
    .expect("write");
    let event = |policy: &str| -> serde_json::Value {
        let (code, _, err) = stdout(bin().current_dir(dir.path()).args([
            "scan",
            "hotfix.yaml",
            "--policy",
            policy,
            "--fail-on",
            "never",
            "--audit-log",
            "audit.jsonl",
        ]));
        assert_eq!(code, 0, "{err}");
        let text = fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
        serde_json::from_str(text.lines().next().expect("one event")).expect("JSON")
    };
    let named = event("named.yaml");
    assert_eq!(named["resource"]["labels"]["project_id"], "acme-prod");
    assert_eq!(
        named["logName"],
        "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity"
    );
    let unnamed = event("policy.yaml");
    assert_eq!(unnamed["resource"]["labels"]["project_id"], "PROJECT_ID");
}
