//! End-to-end tests of the report outputs through the binary: `--format sarif|github|human`,
//! `--sarif FILE`, `GITHUB_STEP_SUMMARY`, the repository root of URIs, standard input.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").unwrap();
    cmd.env_remove("GITHUB_STEP_SUMMARY").env_remove("NO_COLOR");
    cmd
}

fn scan(dir: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn uris(log: &Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn sarif_is_identical_for_one_and_many_jobs() {
    let root = repo_root();
    let one = scan(
        &root,
        &["--format", "sarif", "-j1", "testdata/report-fixture"],
    );
    let many = scan(
        &root,
        &["--format", "sarif", "-j4", "testdata/report-fixture"],
    );
    assert_eq!(one.status.code(), Some(1));
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, many.stdout);
    for format in ["github", "human", "json"] {
        let one = scan(
            &root,
            &["--format", format, "-j1", "testdata/report-fixture"],
        );
        let many = scan(
            &root,
            &["--format", format, "-j3", "testdata/report-fixture"],
        );
        assert_eq!(one.stdout, many.stdout, "--format {format}");
    }
}

#[test]
fn uris_are_relative_to_the_git_root_or_else_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(
        &repo_root().join("testdata/report-fixture"),
        &repo.join("deploy/fixture"),
    );
    // Without a `.git`, the current directory is the root.
    let out = scan(&repo.join("deploy"), &["--format", "sarif", "fixture"]);
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        uris(&log).iter().all(|u| u.starts_with("fixture/")),
        "{:?}",
        uris(&log)
    );
    // With one, URIs are relative to it, wherever the scan runs.
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    for (cwd, arg) in [
        (repo.join("deploy"), "fixture"),
        (repo.join("deploy/fixture/apps"), ".."),
        (tmp.path().to_path_buf(), "repo/deploy/fixture"),
    ] {
        let out = scan(&cwd, &["--format", "sarif", arg]);
        let log: Value = serde_json::from_slice(&out.stdout).unwrap();
        let uris = uris(&log);
        assert!(
            uris.iter().all(|u| u.starts_with("deploy/fixture/")),
            "{cwd:?} {arg}: {uris:?}"
        );
        assert!(uris.contains(&"deploy/fixture/apps/breakglass.yaml".to_string()));
        let base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap();
        assert!(base.ends_with("/repo/"), "{base}");
    }
}

#[test]
fn sarif_file_alongside_another_format() {
    let tmp = tempfile::tempdir().unwrap();
    let sarif = tmp.path().join("out.sarif");
    let out = bin()
        .current_dir(repo_root())
        .args(["scan", "--format", "json", "--sarif"])
        .arg(&sarif)
        .arg("testdata/report-fixture")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(
        log["runs"][0]["results"].as_array().unwrap().len(),
        json["findings"].as_array().unwrap().len()
    );
    assert_eq!(log["version"], "2.1.0");
}

#[test]
fn standard_input_gets_a_placeholder_uri() {
    let text =
        std::fs::read_to_string(repo_root().join("testdata/report-fixture/apps/invalid.yaml"))
            .unwrap();
    let out = bin()
        .current_dir(repo_root())
        .args(["scan", "--format", "sarif", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let art = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(art["uri"], "stdin");
    assert!(art.get("uriBaseId").is_none());

    let out = bin()
        .current_dir(repo_root())
        .args(["scan", "--format", "github", "-"])
        .write_stdin("apiVersion: v1\nkind: Pod\nmetadata: [\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("::error title=manifest-invalid"), "{text}");
}

#[test]
fn github_step_summary_is_appended() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let out = bin()
        .current_dir(repo_root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "--format", "github", "testdata/report-fixture"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().all(|l| l.starts_with("::")), "{stdout}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("previous step\n## binauthz-lint\n"),
        "{text}"
    );
    assert!(text.contains("### Break-glass used"));
    assert!(text.contains("### Findings by rule"));

    // Other formats leave the summary alone.
    std::fs::write(&summary, "").unwrap();
    bin()
        .current_dir(repo_root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "--format", "sarif", "testdata/report-fixture"])
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), "");
}

#[test]
fn human_output_has_no_colour_when_piped_or_with_no_color() {
    let out = scan(&repo_root(), &["testdata/report-fixture"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'));
    assert!(text.contains("breakglass.yaml:15:9"));
    assert!(text.contains("Summary: 5 files (5 scanned, 0 skipped);"));
    let coloured = scan(
        &repo_root(),
        &["--color", "always", "testdata/report-fixture"],
    );
    assert!(String::from_utf8(coloured.stdout).unwrap().contains('\x1b'));
}
