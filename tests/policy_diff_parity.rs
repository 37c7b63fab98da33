//! `policy diff` sees exactly the workloads `scan` sees (issue 27, points 3 and 8): one code
//! path decides what is evaluated, and `policy diff --help` lists only what it honours.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

const ALLOW: &str = "testdata/policy-diff/always-allow.yaml";
const DENY: &str = "testdata/policy-diff/always-deny.yaml";

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Workloads `scan` evaluates under ALWAYS_DENY in `dir`, and how many of them have an
/// image (only those change decision between ALWAYS_ALLOW and ALWAYS_DENY).
fn scan_workloads(cwd: &Path, dir: &Path) -> (u64, u64) {
    let out = bin()
        .current_dir(cwd)
        .args(["scan", "--no-config", "--format", "json", "--policy"])
        .arg(manifest_dir().join(DENY))
        .arg(dir)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let with_images = report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .filter(|w| w["images"].as_array().is_some_and(|i| !i.is_empty()))
        .count() as u64;
    (
        report["summary"]["workloads"].as_u64().expect("count"),
        with_images,
    )
}

/// Workloads `policy diff ALWAYS_ALLOW ALWAYS_DENY` evaluates in `dir` (its summary line
/// "… of N workloads evaluated under both policies"), and the JSON changes (every
/// workload with an image becomes denied).
fn diff_workloads(cwd: &Path, dir: &Path) -> (u64, u64) {
    let run = |format: &str| {
        bin()
            .current_dir(cwd)
            .args(["policy", "diff", "--no-config", "--format", format])
            .arg(manifest_dir().join(ALLOW))
            .arg(manifest_dir().join(DENY))
            .arg(dir)
            .output()
            .expect("run")
    };
    let human = run("human");
    let text = String::from_utf8_lossy(&human.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("Policy diff:"))
        .unwrap_or_else(|| panic!("no summary line: {text}"));
    let evaluated: u64 = line
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line:?}"));
    let json = run("json");
    let document: Value = serde_json::from_slice(&json.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json.stderr)));
    let changes = document["changes"].as_array().map_or(0, Vec::len) as u64;
    (evaluated, changes)
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// The newcomer's Kubeflow case: a kustomize patch file is not a workload for `scan`, so
/// `policy diff` must not report it "newly-denied … will be refused" either.
#[test]
fn policy_diff_sees_the_workloads_scan_sees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "app/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        root,
        "app/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: gcr.io/p/web:1}]\n",
    );
    write(
        root,
        "app/overlay/kustomization.yaml",
        "resources: [../base]\npatches:\n- path: patch.yaml\n",
    );
    write(
        root,
        "app/overlay/patch.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: gcr.io/p/web:2}]\n",
    );
    write(
        root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        root,
        "chart/templates/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\n",
    );
    let scanned = scan_workloads(root, Path::new("."));
    assert_eq!(scanned, (1, 1), "the patch is not a workload");
    assert_eq!(diff_workloads(root, Path::new(".")), scanned);
}

/// Acceptance 2 of issue 27: on every folder of the real corpus, `scan` and `policy diff`
/// (ALWAYS_ALLOW → ALWAYS_DENY) see the same number of workloads.
#[test]
fn policy_diff_and_scan_count_the_same_workloads_on_the_corpus() {
    let corpus = manifest_dir().join("../shared/corpus/manifests");
    let Ok(entries) = fs::read_dir(&corpus) else {
        eprintln!(
            "SKIPPED policy_diff_and_scan_count_the_same_workloads_on_the_corpus: {} is absent",
            corpus.display()
        );
        return;
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert!(!folders.is_empty(), "an empty corpus checks nothing");
    for folder in folders {
        let scanned = scan_workloads(&folder, Path::new("."));
        assert_eq!(
            diff_workloads(&folder, Path::new(".")),
            scanned,
            "{}: (workloads, with an image) as scan saw them",
            folder.display()
        );
    }
}

/// Every option `policy diff --help` lists works; the scan's reporting options that a
/// comparison ignores are not offered (and are refused as unknown).
#[test]
fn policy_diff_help_lists_only_options_it_honours() {
    let out = bin()
        .args(["policy", "diff", "--help"])
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for absent in [
        "--policy ",
        "--since",
        "--baseline",
        "--sarif",
        "--json ",
        "--audit-log",
        "--fail-on",
        "--today",
        "--verbose",
        "concise",
    ] {
        assert!(!help.contains(absent), "{absent} listed:\n{help}");
    }
    for present in [
        "--format",
        "--config",
        "--cluster",
        "--render",
        "--render-remote",
        "--output",
    ] {
        assert!(help.contains(present), "{present} missing:\n{help}");
    }
    for refused in [["--fail-on", "never"], ["--audit-log", "a.jsonl"]] {
        let out = bin()
            .args(["policy", "diff", ALLOW, DENY])
            .args(refused)
            .current_dir(manifest_dir())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{refused:?}");
    }
}
