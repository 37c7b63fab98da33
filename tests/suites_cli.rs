//! `binauthz-lint test` end to end: the demo suite, the human table, JUnit (well-formed,
//! one testcase per case with unique names, valid against the Jenkins JUnit schema), JSON,
//! report files, and the cases that need Cloud Run or continuous validation.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env("NO_COLOR", "1").env_remove("BINAUTHZ_LINT_FORMAT");
    cmd
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = bin()
        .current_dir(dir)
        .arg("test")
        .args(args)
        .output()
        .expect("run");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf8 stdout"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const DENY_POLICY: &str = "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\nglobalPolicyEvaluationMode: DISABLE\nkubernetesNamespaceAdmissionRules:\n  batch: {evaluationMode: ALWAYS_DENY, enforcementMode: DRYRUN_AUDIT_LOG_ONLY}\n";

/// Two suites with passing and failing cases, names that need escaping in XML.
fn mixed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", DENY_POLICY);
    write(
        root,
        "a/first.binauthz-test.yaml",
        "version: 1\npolicy: ../policy.yaml\ncases:\n  - {name: denied, image: \"x:1\", expect: deny, rule: default}\n  - {name: \"<wrong> & \\\"quoted\\\" 'name'\", image: \"x:1\", expect: allow}\n  - {name: dry-run, image: \"x:1\", namespace: batch, expect: dryrun}\n",
    );
    write(
        root,
        "b/second.binauthz-test.yaml",
        "version: 1\npolicy: ../policy.yaml\ncases:\n  - {name: denied, image: \"x:1\", expect: deny}\n  - {name: break-glass, image: \"x:1\", breakglass: true, expect: breakglass, rule: namespace:x}\n",
    );
    dir
}

#[test]
fn the_demo_suite_passes() {
    let out = run(&common::fixture("testdata/demo"), &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("policy.binauthz-test.yaml (policy policy.yaml)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("Test result: ok. 1 suite, 9 cases: 9 passed, 0 failed"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn human_table_shows_expected_and_actual_and_why() {
    let dir = mixed();
    let out = run(dir.path(), &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = &out.stdout;
    for want in [
        "a/first.binauthz-test.yaml (policy policy.yaml)",
        "RESULT  CASE",
        "EXPECTED",
        "ACTUAL",
        "pass    denied",
        "FAIL    <wrong> & \"quoted\" 'name'",
        "a/first.binauthz-test.yaml:5: expected allow, got deny (rule default)",
        "b/second.binauthz-test.yaml:5: expected rule namespace:x, got default",
        "breakglass (rule namespace:x)",
        "Test result: FAILED. 2 suites, 5 cases: 3 passed, 2 failed",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("\x1b["), "no colour off a terminal");
}

#[test]
fn junit_is_only_xml_well_formed_with_one_unique_testcase_per_case() {
    let dir = mixed();
    let out = run(dir.path(), &["--format", "junit"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
    );
    assert!(out.stdout.ends_with("</testsuites>\n"));
    assert!(
        out.stderr.is_empty(),
        "nothing but errors on stderr: {}",
        out.stderr
    );

    // Parse it whole with a real XML reader: well-formed, and count what it holds.
    let mut reader = quick_xml::Reader::from_str(&out.stdout);
    let mut suites: Vec<(String, String, String)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut in_failure = false;
    loop {
        match reader.read_event() {
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{}",
                reader.buffer_position(),
                out.stdout
            ),
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .expect("attribute")
                        .map(|a| a.unescape_value().expect("unescape").into_owned())
                        .unwrap_or_default()
                };
                match e.name().as_ref() {
                    b"testsuite" => suites.push((attr("name"), attr("tests"), attr("failures"))),
                    b"testcase" => names.push(attr("name")),
                    b"failure" => {
                        failures.push((attr("message"), String::new()));
                        in_failure = true;
                    }
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::Text(t)) if in_failure => {
                if let Some(last) = failures.last_mut() {
                    last.1.push_str(&t.unescape().expect("text"));
                }
            }
            Ok(quick_xml::events::Event::End(e)) if e.name().as_ref() == b"failure" => {
                in_failure = false;
            }
            Ok(_) => {}
        }
    }
    assert_eq!(
        suites,
        vec![
            (
                "a/first.binauthz-test.yaml".to_string(),
                "3".to_string(),
                "1".to_string()
            ),
            (
                "b/second.binauthz-test.yaml".to_string(),
                "2".to_string(),
                "1".to_string()
            ),
        ]
    );
    assert_eq!(
        names,
        vec![
            "a/first.binauthz-test.yaml::denied",
            "a/first.binauthz-test.yaml::<wrong> & \"quoted\" 'name'",
            "a/first.binauthz-test.yaml::dry-run",
            "b/second.binauthz-test.yaml::denied",
            "b/second.binauthz-test.yaml::break-glass",
        ]
    );
    let unique: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "testcase names are unique");
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].0, "expected allow, got deny (rule default)");
    assert!(
        failures[0]
            .1
            .starts_with("expected: allow\nactual:   deny (rule default)\n"),
        "{:?}",
        failures[0].1
    );
    assert!(
        failures[1]
            .1
            .contains("expected: breakglass (rule namespace:x)")
    );

    // Stable: the same bytes on every run (no times, no host names).
    let again = run(dir.path(), &["--format", "junit"]);
    assert_eq!(again.stdout, out.stdout);
}

/// Validates JUnit output against the Jenkins xUnit plugin's JUnit schema (junit-10.xsd,
/// vendored in testdata/schemas) with `xmllint --schema` (Debian package libxml2-utils,
/// installed by .ci/run). Skips loudly without xmllint.
#[test]
fn junit_validates_against_the_jenkins_junit_schema() {
    let available = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!(
            "\n*** SKIPPED: `xmllint` is not installed (apt-get install libxml2-utils): the JUnit output was NOT validated against testdata/schemas/junit-10.xsd ***\n"
        );
        return;
    }
    let schema = common::fixture("testdata/schemas/junit-10.xsd");
    let dir = mixed();
    let all_pass = tempfile::tempdir().expect("tempdir");
    write(all_pass.path(), "policy.yaml", DENY_POLICY);
    write(
        all_pass.path(),
        "ok.binauthz-test.yaml",
        "version: 1\npolicy: policy.yaml\ncases:\n  - {name: denied, image: \"x:1\", expect: deny}\n",
    );
    for (root, code) in [(dir.path(), 1), (all_pass.path(), 0)] {
        let xml = root.join("out.xml");
        let out = run(
            root,
            &["--format", "junit", "-o", xml.to_str().expect("path")],
        );
        assert_eq!(out.code, code, "{}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "-o writes the report to the file only"
        );
        let check = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&xml)
            .output()
            .expect("xmllint");
        assert!(
            check.status.success(),
            "xmllint rejects the JUnit output:\n{}\n{}",
            String::from_utf8_lossy(&check.stderr),
            fs::read_to_string(&xml).unwrap_or_default()
        );
    }
}

#[test]
fn json_report_follows_the_contract() {
    let dir = mixed();
    let out = run(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(
        report["summary"],
        serde_json::json!({"suites": 2, "cases": 5, "passed": 3, "failed": 2})
    );
    let case = &report["suites"][0]["cases"][1];
    assert_eq!(case["passed"], false);
    assert_eq!(case["expect"], "allow");
    assert_eq!(
        case["actual"],
        serde_json::json!({"decision": "deny", "rule": "default", "cv": null})
    );
    assert_eq!(case["message"], "expected allow, got deny (rule default)");
    assert_eq!(report["suites"][0]["cases"][0]["message"], Value::Null);
}

#[test]
fn report_files_beside_the_human_table() {
    let dir = mixed();
    let out = run(
        dir.path(),
        &["--junit", "results.xml", "--json", "results.json"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("Test result: FAILED."),
        "{}",
        out.stdout
    );
    let xml = fs::read_to_string(dir.path().join("results.xml")).expect("junit file");
    assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
    let json: Value = serde_json::from_str(
        &fs::read_to_string(dir.path().join("results.json")).expect("json file"),
    )
    .expect("json");
    assert_eq!(json["summary"]["cases"], 5);
}

#[test]
fn two_reports_in_one_file_are_refused() {
    let dir = mixed();
    let out = run(dir.path(), &["-o", "r.xml", "--junit", "./r.xml"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--junit and --output name the same file"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("r.xml").exists(), "nothing was run");
}

#[test]
fn policy_option_replaces_every_suites_policy() {
    let dir = mixed();
    write(
        dir.path(),
        "allow.yaml",
        "defaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    );
    let out = run(dir.path(), &["--policy", "allow.yaml", "--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["suites"][0]["policy"], "allow.yaml");
    assert_eq!(
        report["suites"][0]["cases"][1]["passed"], true,
        "{report:#}"
    );
    assert_eq!(report["suites"][0]["cases"][0]["passed"], false);
}

#[test]
fn a_suite_given_as_a_file_runs_whatever_its_name_and_once() {
    let dir = mixed();
    let out = run(
        dir.path(),
        &["a/first.binauthz-test.yaml", ".", "a", "--format", "json"],
    );
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["summary"]["suites"], 2, "{report:#}");
    write(
        dir.path(),
        "custom-name.yaml",
        "version: 1\ncases: [{name: a, image: \"x:1\", expect: allow}]\n",
    );
    let out = run(dir.path(), &["custom-name.yaml"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// Whether this build evaluates Cloud Run (contract §12): a scan of a Cloud Run service
/// says `platform: cloudrun`.
fn cloud_run_supported(dir: &Path) -> bool {
    write(
        dir,
        "probe/run.yaml",
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: probe\n  annotations: {run.googleapis.com/binary-authorization: default}\nspec:\n  template:\n    spec:\n      containers: [{image: \"x:1\"}]\n",
    );
    let out = bin()
        .current_dir(dir)
        .args(["scan", "--format", "json", "probe/run.yaml"])
        .output()
        .expect("scan");
    let report: Value = serde_json::from_slice(&out.stdout).expect("scan json");
    report["workloads"][0]["platform"] == "cloudrun"
}

#[test]
fn cloud_run_cases_run_when_supported_and_fail_when_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "policy.yaml",
        "defaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy: [projects/p/attestors/a]\nclusterAdmissionRules:\n  us-central1.prod: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\nglobalPolicyEvaluationMode: DISABLE\n",
    );
    write(
        root,
        "run.binauthz-test.yaml",
        "version: 1\npolicy: policy.yaml\ncases:\n  - name: Cloud Run ignores the cluster rule\n    image: gcr.io/p/app@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    platform: cloudrun\n    cluster: us-central1.prod\n    expect: deny\n    rule: default\n  - name: a tag is resolved at deploy\n    image: gcr.io/p/app:1\n    platform: cloudrun\n    expect: unresolved\n  - name: a justification admits it\n    image: gcr.io/p/app:1\n    platform: cloudrun\n    breakglass: true\n    expect: breakglass\n",
    );
    let supported = cloud_run_supported(root);
    let out = run(root, &["--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    let cases = report["suites"][0]["cases"].as_array().expect("cases");
    if supported {
        assert_eq!(out.code, 0, "{report:#}");
    } else {
        eprintln!("this build has no Cloud Run support: checking that its cases fail");
        assert_eq!(out.code, 1, "{report:#}");
        for case in cases {
            assert_eq!(case["passed"], false, "never green untested: {case}");
            assert_eq!(case["actual"], Value::Null);
            assert!(
                case["message"].as_str().is_some_and(
                    |m| m.starts_with("platform cloudrun is not supported by this build")
                ),
                "{case}"
            );
        }
    }
}

#[test]
fn cv_cases_check_continuous_validation_under_the_suites_platform_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "cv.yaml",
        "gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: true\n",
    );
    write(
        root,
        "cv.binauthz-test.yaml",
        "version: 1\nplatformPolicy: cv.yaml\ncases:\n  - {name: non-conformant, image: \"x:1\", expect: allow, cv: non-conformant}\n  - {name: admission only, image: \"x:1\", expect: allow}\n  - {name: wrong verdict, image: \"x:1\", expect: allow, cv: conformant}\n",
    );
    let out = run(root, &["--format", "json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    let cases = &report["suites"][0]["cases"];
    assert_eq!(cases[0]["passed"], true, "{report:#}");
    assert_eq!(cases[0]["actual"]["cv"], "non-conformant");
    assert_eq!(cases[1]["passed"], true, "{report:#}");
    assert_eq!(cases[2]["passed"], false, "{report:#}");
    assert_eq!(
        cases[2]["message"],
        "expected cv conformant, got non-conformant"
    );
}
