//! `--baseline FILE` and fingerprint v1 end to end (contract §6, §8): findings compared by
//! a line- and path-free fingerprint, only `new` findings fail the run.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

const POLICY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";

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

fn states(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "image-denied")
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap_or("").to_string(),
                f["baselineState"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn baseline_marks_unchanged_new_and_absent_and_gates_on_new_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", POLICY);
    write(root, "apps/a.yaml", &pod("a", "gcr.io/p/a:1.0"));
    let (code, base, stderr) = scan(root, &[]);
    assert_eq!(code, 1, "{stderr}");
    let finding = base["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["ruleId"] == "image-denied"))
        .expect("image-denied");
    assert_eq!(finding["ruleId"], "image-denied");
    let print = finding["fingerprint"].as_str().expect("fingerprint");
    assert!(print.len() >= 16 && print.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(
        base["summary"].get("new").is_none(),
        "no baseline counts without --baseline"
    );
    fs::write(
        root.join("base.json"),
        serde_json::to_vec(&base).expect("json"),
    )
    .expect("write");

    // Same tree: everything unchanged, exit 0 although the finding is an error.
    let (code, report, stderr) = scan(root, &["--baseline", "base.json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        states(&report),
        [("image-denied".into(), "unchanged".into())]
    );
    assert_eq!(report["summary"]["new"], 0);
    assert!(report["summary"]["unchanged"].as_u64() >= Some(1));
    assert_eq!(report["summary"]["absent"], 0);
    assert_eq!(report["absent"], Value::Array(Vec::new()));

    // Moved to another file, lines shifted, tag bumped: still the same finding.
    fs::remove_file(root.join("apps/a.yaml")).expect("rm");
    write(
        root,
        "apps/moved/a.yaml",
        &format!("# moved\n\n{}", pod("a", "gcr.io/p/a@sha256:0123")),
    );
    let (code, report, stderr) = scan(root, &["--baseline", "base.json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        states(&report),
        [("image-denied".into(), "unchanged".into())]
    );

    // A new workload is new (and fails); the old one removed is absent.
    fs::remove_file(root.join("apps/moved/a.yaml")).expect("rm");
    write(root, "apps/b.yaml", &pod("b", "gcr.io/p/b:1.0"));
    let (code, report, stderr) = scan(root, &["--baseline", "base.json"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(states(&report), [("image-denied".into(), "new".into())]);
    let absent = report["absent"].as_array().expect("absent");
    assert_eq!(absent.len(), 1);
    assert_eq!(absent[0]["baselineState"], "absent");
    assert_eq!(absent[0]["workload"]["name"], "a");
    assert_eq!(report["summary"]["absent"], 1);

    // Another namespace is another object: new.
    write(
        root,
        "apps/b.yaml",
        &pod("a", "gcr.io/p/a:1.0").replace("prod", "staging"),
    );
    let (code, report, _) = scan(root, &["--baseline", "base.json"]);
    assert_eq!(code, 1);
    assert_eq!(states(&report), [("image-denied".into(), "new".into())]);

    // Multisets: two identical findings against a baseline with one = one new.
    write(root, "apps/b.yaml", &pod("a", "gcr.io/p/a:1.0"));
    write(root, "apps/c.yaml", &pod("a", "gcr.io/p/a:2.0"));
    let (code, report, _) = scan(root, &["--baseline", "base.json"]);
    assert_eq!(code, 1);
    let mut got: Vec<String> = states(&report).into_iter().map(|(_, s)| s).collect();
    got.sort();
    assert_eq!(got, ["new", "unchanged"]);
}

#[test]
fn sarif_carries_fingerprint_v1_and_baseline_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", POLICY);
    write(root, "apps/a.yaml", &pod("a", "gcr.io/p/a:1.0"));
    let (_, base, _) = scan(root, &[]);
    fs::write(
        root.join("base.json"),
        serde_json::to_vec(&base).expect("json"),
    )
    .expect("write");
    let (_, _, stderr) = scan(root, &["--baseline", "base.json", "--sarif", "out.sarif"]);
    let sarif: Value = serde_json::from_slice(&fs::read(root.join("out.sarif")).expect("sarif"))
        .unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let denied = results
        .iter()
        .find(|r| r["ruleId"] == "image-denied")
        .expect("image-denied result");
    let base_denied = base["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["ruleId"] == "image-denied"))
        .expect("image-denied");
    assert_eq!(
        denied["partialFingerprints"]["binauthz/v1"],
        base_denied["fingerprint"]
    );
    assert_eq!(denied["baselineState"], "unchanged");
}

#[test]
fn a_baseline_that_is_not_a_report_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", POLICY);
    write(root, "apps/a.yaml", &pod("a", "gcr.io/p/a:1.0"));
    for (name, text) in [
        ("broken.json", "{\"findings\": ["),
        (
            "old.json",
            "{\"findings\": [{\"ruleId\": \"image-denied\"}]}",
        ),
        ("other.json", "[1, 2]"),
    ] {
        write(root, name, text);
        let (code, _, stderr) = scan(root, &["--baseline", name]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    let (code, _, stderr) = scan(root, &["--baseline", "missing.json"]);
    assert_eq!(code, 2, "{stderr}");
}
