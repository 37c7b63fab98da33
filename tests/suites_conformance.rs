//! Table-driven tests of `binauthz-lint test` (contract §16):
//! `testdata/conformance/suites.yaml`, each case run by the binary in its own folder.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn write_files(root: &Path, case: &Value) {
    for (rel, text) in case["files"].as_object().into_iter().flatten() {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text.as_str().expect("file text")).expect("write");
    }
    for (rel, source) in case
        .get("copy")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let from = common::fixture(source.as_str().expect("copy source"));
        std::fs::copy(&from, root.join(rel)).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

#[test]
fn suite_table() {
    let cases = common::load_table("testdata/conformance/suites.yaml");
    assert!(cases.len() >= 25, "the table shrank: {}", cases.len());
    let mut failures: Vec<String> = Vec::new();
    for case in &cases {
        if let Err(e) = std::panic::catch_unwind(|| run_case(case)) {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "panic".to_string()),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn run_case(case: &Value) {
    {
        let name = case["name"].as_str().expect("case name");
        let dir = tempfile::tempdir().expect("tempdir");
        write_files(dir.path(), case);
        let args: Vec<String> = case
            .get("args")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().expect("arg").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let out = Command::cargo_bin("binauthz-lint")
            .expect("binary")
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["test", "--format", "json"])
            .args(&args)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = case["exit"].as_i64().expect("exit");
        assert_eq!(
            i64::from(out.status.code().unwrap_or(-1)),
            want,
            "case {name:?}: exit code\nstdout: {stdout}\nstderr: {stderr}"
        );
        if want == 2 {
            assert!(
                stdout.is_empty(),
                "case {name:?}: exit 2 prints nothing on stdout: {stdout}"
            );
            for text in case["stderr"].as_array().expect("stderr texts") {
                let text = text.as_str().expect("text");
                assert!(
                    stderr.contains(text),
                    "case {name:?}: stderr lacks {text:?}:\n{stderr}"
                );
            }
            return;
        }
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("case {name:?}: not JSON ({e}): {stdout}\n{stderr}"));
        let outcome =
            std::panic::catch_unwind(|| common::assert_subset(&case["expect"], &report, "report"));
        if let Err(e) = outcome {
            panic!(
                "case {name:?} failed: {:?}\nactual: {report:#}",
                e.downcast_ref::<String>()
            );
        }
    }
}
