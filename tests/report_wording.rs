//! What the reports say about how a verdict came about (issue 27, points 6, 7, 9 and 13):
//! the built-in allow-all policy is named, a finding far right on a long line is shown,
//! dry-run and break-glass read as parts of "admitted", approved exceptions are marked in
//! concise output, rows of one object's pod templates are told apart, an empty image is
//! named, and a `--policy` that overrides the config's policies says so.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = bin().current_dir(dir).args(args).output().expect("run");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n";
const DENY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nglobalPolicyEvaluationMode: DISABLE\n";

#[test]
fn the_built_in_allow_all_policy_is_named_when_it_decides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "pod.yaml", POD);
    write(root, "policy.yaml", DENY);
    let human = run(root, &["scan", "--no-config", "pod.yaml"]);
    assert!(
        human.contains("Policy: the built-in default policy (ALWAYS_ALLOW: every image is admitted) decided 1 workload"),
        "{human}"
    );
    let json = run(
        root,
        &["scan", "--no-config", "--format", "json", "pod.yaml"],
    );
    assert!(
        // Contract §13: `policy.source` is `{kind, file, address}`.
        json.contains("\"source\": {\n      \"kind\": \"gcloud\",\n      \"file\": \"<built-in default>\",\n      \"address\": null\n    }"),
        "{json}"
    );
    let summary = root.join("summary.md");
    let out = bin()
        .current_dir(root)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "--no-config", "--format", "github", "pod.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let step = fs::read_to_string(&summary).expect("step summary");
    assert!(
        step.contains("Policy: \\<built-in default\\>")
            && step.contains("> the built-in default policy (ALWAYS\\_ALLOW: every image is admitted) decided 1 workload"),
        "{step}"
    );
    // A policy given: no such line, the output as before.
    let human = run(
        root,
        &["scan", "--no-config", "pod.yaml", "--policy", "policy.yaml"],
    );
    assert!(!human.contains("Policy:"), "{human}");
}

#[test]
fn a_finding_far_right_on_a_long_line_is_shown_in_its_snippet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", DENY);
    let padding = "x".repeat(400);
    let manifest = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{{\"name\":\"web\",\"annotations\":{{\"note\":\"{padding}\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"gcr.io/p/minified:1\"}}]}}}}\n"
    );
    write(root, "min.json", &manifest);
    let human = run(
        root,
        &["scan", "--no-config", "min.json", "--policy", "policy.yaml"],
    );
    // The image scalar starts at its opening quote.
    let column = manifest.find("\"gcr.io/p/minified").expect("image") + 1;
    assert!(
        human.contains(&format!("min.json:1:{column}: error[image-denied]")),
        "{human}"
    );
    let snippet: Vec<&str> = human.lines().filter(|l| l.contains(" | ")).collect();
    assert!(
        snippet.iter().any(|l| l.contains("gcr.io/p/minified:1")),
        "the image is on screen: {human}"
    );
}

#[test]
fn dry_run_and_break_glass_read_as_parts_of_admitted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "policy.yaml",
        "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nclusterAdmissionRules:\n  us-east1.dry:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: DRYRUN_AUDIT_LOG_ONLY\nglobalPolicyEvaluationMode: DISABLE\n",
    );
    write(root, "pod.yaml", POD);
    write(
        root,
        "bg.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bg\n  labels: {image-policy.k8s.io/break-glass: \"true\"}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n",
    );
    let human = run(
        root,
        &["scan", "--no-config", ".", "--policy", "policy.yaml"],
    );
    assert!(
        human.contains("2 workloads: 1 admitted (of which 1 break-glass), 1 denied;"),
        "{human}"
    );
    let human = run(
        root,
        &[
            "scan",
            "--no-config",
            "pod.yaml",
            "--policy",
            "policy.yaml",
            "--cluster",
            "us-east1.dry",
        ],
    );
    assert!(
        human.contains("1 workload: 1 admitted (of which 1 dry-run denied), 0 denied;"),
        "{human}"
    );
}

#[test]
fn concise_output_marks_approved_exceptions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        ".binauthz-lint.yaml",
        "version: 1\nexceptions:\n  - id: BG-1\n    rules: [breakglass-used]\n    match: {name: bg}\n    reason: reviewed\n    expires: 2026-12-31\n",
    );
    write(
        root,
        "bg.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bg\n  labels: {image-policy.k8s.io/break-glass: \"true\"}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n",
    );
    let concise = run(
        root,
        &["scan", ".", "--format", "concise", "--today", "2026-12-03"],
    );
    let line = concise
        .lines()
        .find(|l| l.contains("[breakglass-used]"))
        .unwrap_or_else(|| panic!("{concise}"));
    assert!(
        line.starts_with("bg.yaml:")
            && line.contains("note[breakglass-used]")
            && line.ends_with("(approved by exception BG-1 until 2026-12-31)"),
        "{line}"
    );
}

#[test]
fn step_summary_rows_of_one_object_name_their_pod_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", DENY);
    write(
        root,
        "ray.yaml",
        "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: serve}\nspec:\n  rayClusterConfig:\n    headGroupSpec:\n      template:\n        spec: {containers: [{name: head, image: rayproject/ray:2.9.0}]}\n    workerGroupSpecs:\n    - groupName: cpu\n      template:\n        spec: {containers: [{name: w, image: rayproject/ray:2.9.0}]}\n    - groupName: gpu\n      template:\n        spec: {containers: [{name: w, image: rayproject/ray:2.9.0}]}\n",
    );
    write(root, "pod.yaml", POD);
    let summary = root.join("summary.md");
    bin()
        .current_dir(root)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "--no-config", "--format", "github", "."])
        .args(["--policy", "policy.yaml"])
        .output()
        .expect("run");
    let step = fs::read_to_string(&summary).expect("step summary");
    let rows: Vec<&str> = step.lines().filter(|l| l.contains("RayService")).collect();
    assert_eq!(rows.len(), 3, "{step}");
    let distinct: std::collections::BTreeSet<&&str> = rows.iter().collect();
    assert_eq!(distinct.len(), 3, "{step}");
    assert!(
        rows.iter()
            .any(|r| r
                .contains("(spec.rayClusterConfig.workerGroupSpecs\\[groupName=gpu\\].template)")),
        "{step}"
    );
    // A single-template object keeps its plain row.
    assert!(step.contains("| Pod web | default |"), "{step}");
}

#[test]
fn an_empty_image_is_named_in_the_denial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", DENY);
    write(
        root,
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: \"\"}]}\n",
    );
    let concise = run(
        root,
        &[
            "scan",
            "--no-config",
            "pod.yaml",
            "--policy",
            "policy.yaml",
            "--format",
            "concise",
        ],
    );
    assert!(!concise.contains("Image  ("), "{concise}");
    assert!(
        concise.contains("Image \"\" (empty) (container `c` of Pod `web`)"),
        "{concise}"
    );
}

#[test]
fn a_policy_flag_that_overrides_the_config_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", DENY);
    write(root, "prod.yaml", DENY);
    write(root, "other.yaml", DENY);
    write(
        root,
        ".binauthz-lint.yaml",
        "version: 1\npolicy: policy.yaml\ncontexts:\n  - name: prod\n    paths: [\"prod/**\"]\n    policy: prod.yaml\n",
    );
    write(root, "prod/pod.yaml", POD);
    let human = run(root, &["scan", "prod", "--policy", "other.yaml"]);
    assert!(
        human.contains("Policy: --policy other.yaml replaces the policy that .binauthz-lint.yaml (the top level, `prod`) names"),
        "{human}"
    );
    // Without the flag, the config decides and nothing is said.
    let human = run(root, &["scan", "prod"]);
    assert!(!human.contains("Policy:"), "{human}");
}
