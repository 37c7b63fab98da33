//! PR mode (`scan --since REV`, contract §8): both sides evaluated in full, the base read from
//! git objects, only new findings fail, and a hostile repository runs nothing.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

const DENY_ALL: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";
const ALLOW_ALL: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";

fn pod(name: &str, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: prod}}\nspec: {{containers: [{{name: c, image: \"{image}\"}}]}}\n"
    )
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn git(root: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn commit_all(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", message]);
}

fn scan(root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env_remove("GITHUB_STEP_SUMMARY")
        .current_dir(root)
        .args([
            "scan",
            "apps",
            "--policy",
            "policy.yaml",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn image_states(report: &Value) -> Vec<(String, String)> {
    let mut states: Vec<(String, String)> = report["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|f| f["ruleId"] == "image-denied")
        .map(|f| {
            (
                f["workload"]["name"].as_str().unwrap_or("").to_string(),
                f["baselineState"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    states.sort();
    states
}

fn repo() -> tempfile::TempDir {
    if std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("git is required for the PR-mode tests");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

#[test]
fn only_what_the_change_introduces_fails() {
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", DENY_ALL);
    write(root, "apps/old.yaml", &pod("old", "gcr.io/p/old:1"));
    write(root, "apps/gone.yaml", &pod("gone", "gcr.io/p/gone:1"));
    commit_all(root, "base");
    git(root, &["checkout", "-q", "-b", "feature"]);
    // The change: moves `old` (and bumps its tag), removes `gone`, adds `fresh` (uncommitted).
    fs::remove_file(root.join("apps/old.yaml")).expect("rm");
    write(
        root,
        "apps/moved/old.yaml",
        &format!("# moved\n{}", pod("old", "gcr.io/p/old:2")),
    );
    fs::remove_file(root.join("apps/gone.yaml")).expect("rm");
    commit_all(root, "feature");
    write(root, "apps/fresh.yaml", &pod("fresh", "gcr.io/p/fresh:1"));

    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        image_states(&report),
        [
            ("fresh".into(), "new".into()),
            ("old".into(), "unchanged".into())
        ]
    );
    let absent = report["absent"].as_array().expect("absent");
    assert!(
        absent
            .iter()
            .any(|f| f["workload"]["name"] == "gone" && f["baselineState"] == "absent")
    );
    assert_eq!(report["summary"]["new"], 1);
    let fresh = report["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["ruleId"] == "image-denied" && f["baselineState"] == "new")
        })
        .expect("new image-denied");
    assert_eq!(fresh["baselineCause"], "manifest changed");

    // Without the new file, nothing is new: exit 0 although `old` is still denied.
    fs::remove_file(root.join("apps/fresh.yaml")).expect("rm");
    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["summary"]["new"], 0);
    // Nothing was written into the repository, nothing checked out.
    let status = std::process::Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain"])
        .output()
        .expect("git status");
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
}

#[test]
fn a_policy_in_the_repository_is_read_per_side() {
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", ALLOW_ALL);
    write(root, "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    commit_all(root, "base");
    git(root, &["checkout", "-q", "-b", "tighten"]);
    write(root, "policy.yaml", DENY_ALL);
    commit_all(root, "tighten the policy");
    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(image_states(&report), [("web".into(), "new".into())]);
    let denied = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["ruleId"] == "image-denied"))
        .expect("image-denied");
    assert_eq!(denied["baselineCause"], "policy changed");
}

/// The config file is read per side too: a change that moves a folder to a stricter
/// cluster introduces that cluster's denials; one that adds the config introduces its
/// contexts.
#[test]
fn a_config_in_the_repository_is_read_per_side() {
    const CLUSTER_POLICY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nclusterAdmissionRules:\n  us-central1.prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";
    let config = |cluster: &str| {
        format!(
            "version: 1\ncontexts:\n  - name: apps\n    paths: [\"apps/**\"]\n    cluster: {cluster}\n"
        )
    };
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", CLUSTER_POLICY);
    write(root, "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    write(root, ".binauthz-lint.yaml", &config("us-central1.staging"));
    commit_all(root, "base");
    git(root, &["checkout", "-q", "-b", "to-prod"]);
    write(root, ".binauthz-lint.yaml", &config("us-central1.prod"));
    commit_all(root, "deploy apps to prod");
    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(image_states(&report), [("web".into(), "new".into())]);
    assert_eq!(report["workloads"][0]["cluster"], "us-central1.prod");
    let denied = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["ruleId"] == "image-denied"))
        .expect("image-denied");
    assert_eq!(denied["baselineCause"], "config changed");
    // Unchanged config on both sides: nothing new.
    let (code, report, stderr) = scan(root, &["--since", "HEAD"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(image_states(&report), [("web".into(), "unchanged".into())]);

    // A change that adds the config: the base had no contexts.
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", CLUSTER_POLICY);
    write(root, "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    commit_all(root, "base");
    git(root, &["checkout", "-q", "-b", "add-config"]);
    write(root, ".binauthz-lint.yaml", &config("us-central1.prod"));
    commit_all(root, "add the config");
    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(image_states(&report), [("web".into(), "new".into())]);
}

#[test]
fn a_missing_revision_or_no_repository_is_exit_2_with_the_fetch_command() {
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", DENY_ALL);
    write(root, "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    commit_all(root, "base");
    let (code, _, stderr) = scan(root, &["--since", "origin/nope"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("git fetch --no-tags origin origin/nope"),
        "{stderr}"
    );

    let plain = tempfile::tempdir().expect("tempdir");
    write(plain.path(), "policy.yaml", DENY_ALL);
    write(plain.path(), "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    let (code, _, stderr) = scan(plain.path(), &["--since", "main"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not inside a git work tree"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_hostile_repository_runs_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo();
    let root = dir.path();
    let marker_dir = tempfile::tempdir().expect("tempdir");
    let marker = marker_dir.path().join("ran");
    write(root, "policy.yaml", DENY_ALL);
    write(root, "apps/web.yaml", &pod("web", "gcr.io/p/web:1"));
    commit_all(root, "base");
    let script = marker_dir.path().join("evil.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\necho ran >> '{}'\nexit 0\n", marker.display()),
    )
    .expect("script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let evil = script.display().to_string();
    // Code-running configuration of the repository itself, and hooks.
    for (key, value) in [
        ("core.fsmonitor", evil.as_str()),
        ("core.hooksPath", ".git/hooks"),
        ("core.pager", evil.as_str()),
        ("diff.external", evil.as_str()),
        ("core.sshCommand", evil.as_str()),
        ("filter.evil.smudge", evil.as_str()),
        ("filter.evil.clean", evil.as_str()),
        ("filter.evil.process", evil.as_str()),
    ] {
        git(root, &["config", key, value]);
    }
    write(root, ".gitattributes", "* filter=evil diff=evil\n");
    for hook in [
        "post-checkout",
        "pre-commit",
        "post-index-change",
        "reference-transaction",
        "fsmonitor-watchman",
    ] {
        let path = root.join(".git/hooks").join(hook);
        fs::create_dir_all(path.parent().expect("hooks")).expect("mkdir");
        fs::copy(&script, &path).expect("hook");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    write(root, "apps/new.yaml", &pod("new", "gcr.io/p/new:1"));
    let (code, report, stderr) = scan(root, &["--since", "HEAD"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        image_states(&report),
        [
            ("new".into(), "new".into()),
            ("web".into(), "unchanged".into())
        ]
    );
    assert!(
        !marker.exists(),
        "the scan ran repository code: {:?}",
        fs::read_to_string(&marker)
    );
}

/// An unchanged overlay that adds break-glass, and its patch, give unchanged findings: the
/// base commit's kustomizations are accounted for like the work tree's.
#[test]
fn unchanged_kustomize_overlays_are_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "policy.yaml", DENY_ALL);
    write(
        root,
        "apps/base/kustomization.yaml",
        "resources:\n- pod.yaml\n",
    );
    write(root, "apps/base/pod.yaml", &pod("web", "gcr.io/p/web:1"));
    write(
        root,
        "apps/overlay/kustomization.yaml",
        "resources:\n- ../base\npatches:\n- path: bg.yaml\ncommonLabels:\n  image-policy.k8s.io/break-glass: \"true\"\n",
    );
    write(
        root,
        "apps/overlay/bg.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    image-policy.k8s.io/break-glass: \"true\"\n",
    );
    commit_all(root, "base");
    write(root, "apps/other.yaml", &pod("other", "gcr.io/p/other:1"));
    let (code, report, stderr) = scan(root, &["--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    let states: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap_or("").to_string(),
                f["baselineState"].as_str().unwrap_or("").to_string(),
            )
        })
        .filter(|(rule, _)| rule != "policy-evaluation-mode-missing")
        .collect();
    assert!(
        states.contains(&(
            "breakglass-in-kustomization".to_string(),
            "unchanged".to_string()
        )),
        "{states:?}"
    );
    assert!(
        states.contains(&(
            "kustomize-not-rendered".to_string(),
            "unchanged".to_string()
        )),
        "{states:?}"
    );
    // Only the added Pod is new; the patch was no phantom workload on either side.
    let new: Vec<&(String, String)> = states.iter().filter(|(_, s)| s == "new").collect();
    assert_eq!(
        new,
        [&("image-denied".to_string(), "new".to_string())],
        "{states:?}"
    );
    assert_eq!(
        report["absent"].as_array().map_or(0, Vec::len),
        0,
        "{report:#}"
    );
    // Rendered, both sides: still only the added Pod is new.
    let (code, report, stderr) = scan(root, &["--since", "main", "--render", "kustomize"]);
    assert_eq!(code, 1, "{stderr}");
    let new: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["baselineState"] == "new")
        .filter_map(|f| f["ruleId"].as_str())
        .collect();
    assert_eq!(new, ["image-denied"], "{report:#}");
}

/// PR mode with `--render kustomize`: both sides rendered (the base exported from git
/// objects into a temporary folder outside the repository), so an overlay change that adds
/// break-glass to every pod of a base is new, and the rest is unchanged.
#[test]
fn rendered_pr_mode_compares_rendered_trees() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("SKIPPED rendered_pr_mode_compares_rendered_trees: kubectl is not installed");
        return;
    }
    let dir = repo();
    let root = dir.path();
    write(root, "policy.yaml", DENY_ALL);
    write(
        root,
        "apps/base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: gcr.io/p/web:1\n",
    );
    write(
        root,
        "apps/base/kustomization.yaml",
        "resources: [deploy.yaml]\n",
    );
    write(
        root,
        "apps/prod/kustomization.yaml",
        "resources: [../base]\nnamespace: prod\n",
    );
    commit_all(root, "base");
    git(root, &["checkout", "-q", "-b", "hotfix"]);
    write(
        root,
        "apps/prod/kustomization.yaml",
        "resources: [../base]\nnamespace: prod\nlabels:\n- pairs: {image-policy.k8s.io/break-glass: \"true\"}\n  includeTemplates: true\n",
    );
    commit_all(root, "break glass in prod");
    // A private temporary folder: the export (and kustomize's wrapper) must be gone after.
    let tmp = tempfile::tempdir().expect("tmp");
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("TMPDIR", tmp.path())
        .current_dir(root)
        .args([
            "scan",
            "apps",
            "--policy",
            "policy.yaml",
            "--format",
            "json",
        ])
        .args(["--since", "main", "--render", "kustomize"])
        .output()
        .expect("run");
    let (code, stderr) = (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(code, 1, "{stderr}");
    let states: Vec<(String, String)> = report["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|f| f["workload"]["name"] == "web")
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap_or("").to_string(),
                f["baselineState"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&("breakglass-used".to_string(), "new".to_string())),
        "{states:?}\n{stderr}"
    );
    assert!(
        !states.contains(&("image-denied".to_string(), "new".to_string())),
        "the denial was already there (now overridden): {states:?}"
    );
    assert_eq!(
        report["workloads"][0]["renderedFrom"], "apps/prod",
        "{report:#}"
    );
    // The export is gone and the repository untouched.
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .expect("tmp")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "leftovers: {leftovers:?}");
    let status = std::process::Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain"])
        .output()
        .expect("git status");
    assert!(
        status.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}
