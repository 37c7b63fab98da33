//! Table-driven tests of the custom-resource pod-template routes:
//! `testdata/conformance/crds.yaml`, every case under an ALWAYS_DENY policy.

mod common;

use binauthz_lint::scan::{ScanSettings, scan_text};
use serde_json::{Value, json};

const ALWAYS_DENY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nglobalPolicyEvaluationMode: DISABLE\n";

#[test]
fn crd_route_table() {
    let cases = common::load_table("testdata/conformance/crds.yaml");
    assert!(cases.len() >= 30, "the table shrank: {}", cases.len());
    let policy = common::load_policy_text(ALWAYS_DENY);
    for case in &cases {
        let name = case["name"].as_str().expect("case name");
        let manifest = case["manifest"].as_str().expect("manifest");
        let mut settings = ScanSettings::default();
        if let Some(ns) = case.get("namespace").and_then(Value::as_str) {
            settings.namespace = ns.to_string();
        }
        let result = scan_text("case.yaml", manifest, &settings, &policy);
        let actual = json!({
            "workloads": serde_json::to_value(&result.workloads).expect("json"),
            "findings": serde_json::to_value(&result.findings).expect("json"),
        });
        let outcome =
            std::panic::catch_unwind(|| common::assert_subset(&case["expect"], &actual, "result"));
        if let Err(e) = outcome {
            panic!(
                "case {name:?} failed: {:?}\nactual: {actual:#}",
                e.downcast_ref::<String>()
            );
        }
    }
}
