//! Table-driven break-glass tests: `testdata/conformance/breakglass.yaml`.

mod common;

use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use serde_json::json;

fn policy_for(case: &serde_json::Value) -> Policy {
    match case.get("policy").and_then(|p| p.as_str()) {
        None => Policy::builtin_default(),
        Some(text) => common::load_policy_text(text),
    }
}

#[test]
fn breakglass_table() {
    let cases = common::load_table("testdata/conformance/breakglass.yaml");
    assert!(cases.len() >= 20, "the table shrank: {}", cases.len());
    for case in &cases {
        let name = case["name"].as_str().expect("case name");
        let manifest = case["manifest"].as_str().expect("manifest");
        let policy = policy_for(case);
        let result = scan_text("case.yaml", manifest, &ScanSettings::default(), &policy);
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
