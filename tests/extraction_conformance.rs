//! Table-driven extraction tests: `testdata/conformance/extraction.yaml`.

mod common;

use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use serde_json::{Value, json};

#[test]
fn extraction_table() {
    let cases = common::load_table("testdata/conformance/extraction.yaml");
    assert!(cases.len() >= 25, "the table shrank: {}", cases.len());
    let policy = Policy::builtin_default();
    for case in &cases {
        let name = case["name"].as_str().expect("case name");
        let manifest = case["manifest"].as_str().expect("manifest");
        let mut settings = ScanSettings::default();
        if let Some(ns) = case.get("namespace").and_then(Value::as_str) {
            settings.namespace = ns.to_string();
        }
        let file = if case.get("json").and_then(Value::as_bool) == Some(true) {
            "case.json"
        } else {
            "case.yaml"
        };
        let result = scan_text(file, manifest, &settings, &policy);
        let actual = json!({
            "skipped": result.skipped,
            "documents": result.documents,
            "workloads": serde_json::to_value(&result.workloads).expect("json"),
            "findings": serde_json::to_value(&result.findings).expect("json"),
        });
        let expected = &case["expect"];
        let outcome =
            std::panic::catch_unwind(|| common::assert_subset(expected, &actual, "result"));
        if let Err(e) = outcome {
            panic!(
                "case {name:?} failed: {:?}\nactual: {actual:#}",
                e.downcast_ref::<String>()
            );
        }
    }
}
