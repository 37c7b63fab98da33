//! Hostile and broken repositories: the committed `testdata/hostile/` files plus ones made at
//! test time (too big to commit, or not files at all: a FIFO, symlink loops). Every case must
//! finish quickly with exit 0/1, every candidate must be accounted for, and a valid manifest
//! next to them must still be reported.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::time::Duration;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// Files that are generated rather than committed.
fn add_generated(root: &Path, outside: &Path) {
    // 60 MB: over the default 32 MiB limit, skipped without being parsed.
    let big_line = "# ".to_string() + &"x".repeat(1023) + "\n";
    fs::write(root.join("sixty-mb.yaml"), big_line.repeat(60 * 1024)).expect("write");
    // A 20 MB single line inside a valid ConfigMap: parsed, not a workload.
    let line = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: huge}}\ndata: {{blob: \"{}\"}}\n",
        "y".repeat(20 * 1024 * 1024)
    );
    fs::write(root.join("twenty-mb-line.yaml"), line).expect("write");
    // 3,000-deep block mappings.
    let mut deep = String::new();
    for level in 0..3000 {
        deep.push_str(&" ".repeat(level));
        deep.push_str("a:\n");
    }
    fs::write(root.join("deep-mappings.yaml"), deep).expect("write");
    // A folder whose name looks like a manifest.
    fs::create_dir_all(root.join("x.yaml")).expect("mkdir");
    fs::write(root.join("x.yaml/inside.yaml"), "kind: Note\n").expect("write");
    // A FIFO: must never be opened (opening it would block forever).
    let status = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.yaml"))
        .status();
    assert!(status.is_ok_and(|s| s.success()), "mkfifo");
    // Symlinks: a loop, one leading out of the root, one dangling, one fine.
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(root.join("loop-b.yaml"), root.join("loop-a.yaml")).expect("symlink");
        symlink(root.join("loop-a.yaml"), root.join("loop-b.yaml")).expect("symlink");
        fs::write(outside.join("secret.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: outside}\nspec: {containers: [{name: c, image: x}]}\n").expect("write");
        symlink(outside.join("secret.yaml"), root.join("escape.yaml")).expect("symlink");
        symlink(root.join("nowhere.yaml"), root.join("dangling.yaml")).expect("symlink");
        symlink(root.join("valid.yaml"), root.join("alias-of-valid.yaml")).expect("symlink");
    }
}

#[test]
fn hostile_repository_is_scanned_completely_and_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    copy_dir(&common::fixture("testdata/hostile"), &root);
    add_generated(&root, outside.path());

    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .current_dir(&root)
        .args(["scan", "--format", "json", "."])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");

    // Every candidate the walk can see is accounted for: committed files, generated files,
    // the FIFO and the symlinks (x.yaml/inside.yaml included; the x.yaml folder is not a file).
    let committed = fs::read_dir(common::fixture("testdata/hostile"))
        .expect("dir")
        .count();
    let generated = [
        "sixty-mb.yaml",
        "twenty-mb-line.yaml",
        "deep-mappings.yaml",
        "x.yaml/inside.yaml",
        "pipe.yaml",
        "loop-a.yaml",
        "loop-b.yaml",
        "escape.yaml",
        "dangling.yaml",
        "alias-of-valid.yaml",
    ];
    let summary = &report["summary"];
    assert_eq!(summary["files"], committed + generated.len(), "{summary}");
    let skipped = report["skipped"].as_array().expect("skipped");
    assert_eq!(summary["skippedFiles"], skipped.len());
    let reason = |file: &str| {
        skipped
            .iter()
            .find(|s| s["file"] == file)
            .map(|s| s["reason"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(reason("sixty-mb.yaml"), "too-large");
    assert_eq!(reason("pipe.yaml"), "not-a-regular-file");
    assert_eq!(reason("loop-a.yaml"), "symlink-loop");
    assert_eq!(reason("loop-b.yaml"), "symlink-loop");
    assert_eq!(reason("escape.yaml"), "symlink-outside-root");
    assert_eq!(reason("dangling.yaml"), "broken-symlink");
    assert_eq!(reason("random.yaml"), "binary");
    assert_eq!(reason("latin1.yaml"), "not-utf8");
    assert_eq!(reason("empty.yaml"), "empty");
    assert_eq!(reason("separators.yaml"), "empty");
    assert_eq!(
        reason("twenty-mb-line.yaml"),
        "",
        "the 20 MB line is parsed"
    );

    let names: Vec<&str> = report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| w["name"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"still-reported"), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| **n == "still-reported").count(),
        2,
        "the in-root symlink is read too"
    );
    assert!(names.contains(&"unicode-name"));
    assert!(
        !names.contains(&"outside"),
        "never follow a symlink out of the root"
    );

    let findings = report["findings"].as_array().expect("findings");
    let invalid_in = |file: &str| {
        findings
            .iter()
            .any(|f| f["ruleId"] == "manifest-invalid" && f["location"]["file"] == file)
    };
    for file in [
        "billion-laughs.yaml",
        "deep-block-sequence.yaml",
        "deep-flow.yaml",
        "deep-mappings.yaml",
        "tabs.yaml",
        "non-string-image.yaml",
        "non-string-kind.yaml",
        "containers-not-a-list.yaml",
    ] {
        assert!(
            invalid_in(file),
            "{file} should have a manifest-invalid finding"
        );
    }
    // `{a: {a: …` starts with `{`: kubectl reads it as strict JSON and refuses it at the
    // first unquoted key, before any depth limit. With no `apiVersion` or `kind` anywhere it
    // is not a manifest (issue 27, point 11), like a `tsconfig.json` with comments.
    assert!(!invalid_in("deep-flow-mapping.yaml"));
    assert!(
        report["skipped"]
            .as_array()
            .expect("skipped")
            .iter()
            .any(|s| s["file"] == "deep-flow-mapping.yaml" && s["reason"] == "not-a-manifest"),
        "{report:#}"
    );
    assert!(findings.iter().any(|f| f["ruleId"] == "duplicate-key"));
    assert!(
        findings.iter().all(|f| f["ruleId"] != "internal-error"),
        "no panics"
    );
}

#[test]
fn limits_can_be_raised() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Block nesting (saphyr-parser caps *flow* nesting at 255 levels on its own).
    let mut manifest =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n");
    for level in 0..300 {
        manifest.push_str(&" ".repeat(level + 2));
        manifest.push_str("a:\n");
    }
    fs::write(dir.path().join("deep.yaml"), manifest).expect("write");
    let run = |extra: &[&str]| {
        Command::cargo_bin("binauthz-lint")
            .expect("binary")
            .current_dir(dir.path())
            .args(["scan", "deep.yaml"])
            .args(extra)
            .output()
            .expect("run")
            .status
            .code()
    };
    assert_eq!(run(&[]), Some(1));
    assert_eq!(run(&["--max-depth", "400"]), Some(0));
    assert_eq!(
        run(&["--max-file-size", "10"]),
        Some(1),
        "too large: skipped with a warning (a workload may hide in it)"
    );
    assert_eq!(
        run(&["--max-file-size", "10", "--fail-on", "error"]),
        Some(0),
        "a warning, not an error"
    );
}
