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

/// Every `uri` in a SARIF run except the root's own `originalUriBaseIds` entry, with its
/// JSON path: what GitHub code scanning resolves against the checkout.
fn result_uris(node: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "originalUriBaseIds" {
                    continue;
                }
                match (key.as_str(), value) {
                    ("uri", Value::String(uri)) => out.push((path.to_string(), uri.clone())),
                    _ => result_uris(value, &format!("{path}.{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                result_uris(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// GitHub rejects a whole upload with an absolute `file://` result URI (multitool GH1006),
/// and a `stdin` URI with a line number names no file of the checkout.
fn assert_all_uris_repository_relative(log: &Value) {
    let mut uris = Vec::new();
    result_uris(&log["runs"][0], "runs[0]", &mut uris);
    assert!(!uris.is_empty() || log["runs"][0]["results"] == Value::Array(Vec::new()));
    for (path, uri) in &uris {
        assert!(
            !uri.contains("://") && !uri.starts_with('/') && uri != "stdin",
            "{path}: {uri} is not repository-relative"
        );
    }
    for result in log["runs"][0]["results"].as_array().unwrap() {
        for loc in result["locations"].as_array().unwrap() {
            assert_eq!(
                loc["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%",
                "{result:#}"
            );
        }
    }
}

#[test]
fn standard_input_findings_are_notifications_without_a_uri() {
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
    assert_all_uris_repository_relative(&log);
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes[0]["associatedRule"]["id"], "manifest-invalid");
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("<stdin>:9:12: "),
        "{notes:?}"
    );
    assert!(!out.stdout.windows(8).any(|w| w == b"\"stdin\""));

    let out = bin()
        .current_dir(repo_root())
        .args(["scan", "--format", "github", "-"])
        .write_stdin("apiVersion: v1\nkind: Pod\nmetadata: [\n")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("::error title=manifest-invalid (binauthz-lint)::<stdin>:"),
        "{text}"
    );
}

#[test]
fn a_policy_outside_the_repository_never_yields_an_absolute_uri() {
    // The layouts of issue 20: `--policy ../policy.yaml` from a checkout, and a policy an
    // earlier CI step exported to a temporary file.
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("checkout");
    copy_dir(&repo_root().join("testdata/report-fixture"), &repo);
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let policy = tmp.path().join("policy.yaml");
    std::fs::copy(
        repo_root().join("testdata/policies/report-fixture.yaml"),
        &policy,
    )
    .unwrap();
    let exported = tempfile::tempdir().unwrap();
    let exported_policy = exported.path().join("exported.yaml");
    std::fs::copy(&policy, &exported_policy).unwrap();
    for policy_arg in [
        "../policy.yaml".to_string(),
        exported_policy.display().to_string(),
    ] {
        let out = scan(&repo, &["--format", "sarif", "--policy", &policy_arg, "."]);
        assert_eq!(out.status.code(), Some(1), "{policy_arg}");
        let log: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_all_uris_repository_relative(&log);
        let run = &log["runs"][0];
        // The manifests' findings stay results; the rule that decided, outside the root,
        // is named in the message instead of a related location.
        let denied: Vec<&Value> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] == "image-denied")
            .collect();
        assert_eq!(denied.len(), 4, "{policy_arg}");
        let policy_name = Path::new(&policy_arg)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        // Outside the root, paths are shown absolute (normalised: no `..`).
        let policy_arg_shown = if policy_arg.starts_with("..") {
            policy.display().to_string()
        } else {
            policy_arg.clone()
        };
        for r in &denied {
            let text = r["message"]["text"].as_str().unwrap();
            assert!(
                text.contains(&format!("default admission rule ({policy_arg_shown}:")),
                "{policy_arg}: {text}"
            );
        }
        // The finding located in the policy itself is a notification.
        let notes = run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        assert_eq!(notes.len(), 1, "{policy_arg}: {notes:?}");
        assert_eq!(notes[0]["associatedRule"]["id"], "policy-unused-pattern");
        assert!(notes[0].get("locations").is_none());
        let text = notes[0]["message"]["text"].as_str().unwrap();
        assert!(text.contains(&format!("{policy_name}:7:16: ")), "{text}");

        // Annotations: no `file=` for the policy's finding, nor an absolute path anywhere in
        // a `file=` property; the message names the place. The step summary lists it.
        let summary = tmp.path().join("summary.md");
        std::fs::write(&summary, "").unwrap();
        let out = bin()
            .current_dir(&repo)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["scan", "--format", "github", "--policy", &policy_arg, "."])
            .output()
            .unwrap();
        let markdown = std::fs::read_to_string(&summary).unwrap();
        let section = markdown
            .split("### Findings outside the repository")
            .nth(1)
            .unwrap_or_else(|| panic!("no outside-the-repository section: {markdown}"));
        assert!(
            section.contains(&format!(
                "{policy_name}:7:16 | policy-unused-pattern | note |"
            )),
            "{section}"
        );
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            let props = line.split("::").nth(1).unwrap_or("");
            assert!(
                !props.contains("file=/") && !props.contains("file=.."),
                "absolute file= in {line}"
            );
        }
        let note = text
            .lines()
            .find(|l| l.contains("title=policy-unused-pattern"))
            .expect("policy annotation");
        assert!(note.starts_with("::notice title="), "{note}");
        assert!(note.contains(&format!("{policy_name}:7:16: ")), "{note}");
    }
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
