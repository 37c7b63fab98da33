//! Table-driven: manifests are read as `kubectl apply -f` reads them.
//!
//! `testdata/conformance/kubectl-yaml.json` was recorded from the real kubectl (v1.32.4) over
//! the fixture files of `testdata/conformance/kubectl-yaml/`: whether kubectl accepts each
//! file, and every object it decodes, with its values. `scripts/acceptance-kubectl-yaml.sh`
//! re-checks the verdicts against the kubectl on the machine.

mod common;

use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use binauthz_lint::yaml::{self, Limits, Tree};
use serde_json::Value;

fn table() -> Vec<Value> {
    let path = common::repo_root().join("testdata/conformance/kubectl-yaml.json");
    let text = std::fs::read_to_string(&path).expect("table");
    let table: Value = serde_json::from_str(&text).expect("table is JSON");
    table["cases"].as_array().expect("cases").clone()
}

/// The objects of a tree as JSON, in document order (empty documents skipped, as kubectl
/// skips them).
fn objects(tree: &Tree) -> Vec<Value> {
    tree.documents
        .iter()
        .filter_map(|d| d.root)
        .filter(|root| !tree.is_null(*root))
        .filter_map(|root| yaml::to_json(tree, root, 1_000_000))
        .collect()
}

#[test]
fn kubectl_yaml_table() {
    let cases = table();
    assert!(cases.len() >= 25, "the table shrank: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let file = case["file"].as_str().expect("file");
        let text = std::fs::read_to_string(
            common::repo_root()
                .join("testdata/conformance/kubectl-yaml")
                .join(file),
        )
        .expect("fixture");
        let accepted = case["kubectl"] == "accepted";
        let tree = yaml::parse_manifest(&text, &Limits::default());
        if accepted != tree.error.is_none() {
            failures.push(format!(
                "{file}: kubectl {} it, we got error {:?}",
                case["kubectl"], tree.error
            ));
            continue;
        }
        // Same objects with the same values; for a refused file, those decoded before the
        // error (kubectl decodes them too).
        let expected = case["objects"].as_array().expect("objects");
        let actual = objects(&tree);
        if &actual != expected {
            failures.push(format!(
                "{file}: objects differ\n  kubectl: {}\n  ours:    {}",
                Value::Array(expected.clone()),
                Value::Array(actual)
            ));
        }
        if let (Some(line), Some(err)) = (case.get("errorLine"), &tree.error)
            && line.as_u64() != Some(u64::from(err.pos.line))
        {
            failures.push(format!("{file}: error at {err:?}, expected line {line}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Through the whole scan: a file kubectl accepts has no `invalid YAML` finding and loses no
/// workload; a refused file has one, at the recorded line.
#[test]
fn kubectl_yaml_table_through_scan() {
    let policy = Policy::builtin_default();
    for case in table() {
        let file = case["file"].as_str().expect("file");
        let text = std::fs::read_to_string(
            common::repo_root()
                .join("testdata/conformance/kubectl-yaml")
                .join(file),
        )
        .expect("fixture");
        let result = scan_text(file, &text, &ScanSettings::default(), &policy);
        let invalid: Vec<_> = result
            .findings
            .iter()
            .filter(|f| f.rule_id == "manifest-invalid")
            .filter(|f| {
                ["invalid YAML", "invalid JSON", "invalid document separator"]
                    .iter()
                    .any(|prefix| f.message.starts_with(prefix))
            })
            .collect();
        let workload_kinds = [
            "Pod",
            "Deployment",
            "DaemonSet",
            "StatefulSet",
            "Job",
            "CronJob",
        ];
        let expected_workloads: Vec<String> = case["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter(|o| workload_kinds.contains(&o["kind"].as_str().unwrap_or("")))
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        let workloads: Vec<String> = result
            .workloads
            .iter()
            .map(|w| format!("{}/{}", w.kind, w.name))
            .collect();
        assert_eq!(workloads, expected_workloads, "{file}: workloads");
        if case["kubectl"] == "accepted" {
            assert!(invalid.is_empty(), "{file}: {invalid:?}");
        } else {
            assert_eq!(invalid.len(), 1, "{file}: {:?}", result.findings);
            if let Some(line) = case.get("errorLine").and_then(Value::as_u64) {
                assert_eq!(u64::from(invalid[0].location.line), line, "{file}");
            }
        }
    }
}

/// Where the result depends on the route, the message says which: `yes`/`on` are booleans
/// to `kubectl apply -f` (YAML 1.1) and strings after kustomize (`kubectl apply -k`).
#[test]
fn yaml_1_1_booleans_name_the_route() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {enabled: yes, ok: true}\nspec:\n  containers: [{name: c, image: on}]\n";
    let result = scan_text(
        "p.yaml",
        text,
        &ScanSettings::default(),
        &Policy::builtin_default(),
    );
    let messages: Vec<&str> = result
        .findings
        .iter()
        .filter(|f| f.rule_id == "manifest-invalid")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    let routed = messages
        .iter()
        .filter(|m| m.contains("`kubectl apply -k` renders it with kustomize"))
        .count();
    // `yes` and `on` depend on the route; `true` is a boolean on both.
    assert_eq!(routed, 2, "{messages:?}");
}

/// Positions are the file's, in every document of the kubectl reader.
#[test]
fn positions_are_those_of_the_file() {
    let policy = Policy::builtin_default();
    for (file, line, column, document) in [
        ("accepted/multi-doc-daemonset.yaml", 27, 18, 1),
        ("accepted/json-pretty.json", 9, 56, 0),
        ("accepted/flow-mapping-multiline-job.yaml", 12, 27, 0),
    ] {
        let text = std::fs::read_to_string(
            common::repo_root()
                .join("testdata/conformance/kubectl-yaml")
                .join(file),
        )
        .expect("fixture");
        let result = scan_text(file, &text, &ScanSettings::default(), &policy);
        let image = &result.workloads[0].images[0].location;
        assert_eq!(
            (image.line, image.column, image.document),
            (line, column, document),
            "{file}"
        );
    }
}
