//! Table-driven Cloud Run tests (contract §12): `testdata/conformance/cloudrun.yaml`. Each
//! case is scanned and assembled into a report, so the summary counts and the audit events
//! are checked with the workloads and findings.

mod common;

use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use binauthz_lint::settings::platform::PlatformSetting;
use serde_json::{Value, json};

fn settings_for(case: &Value) -> ScanSettings {
    let mut settings = ScanSettings::default();
    let Some(given) = case.get("settings") else {
        return settings;
    };
    if let Some(cluster) = given.get("cluster").and_then(Value::as_str) {
        settings.cluster = Some(cluster.to_string());
    }
    if let Some(ns) = given.get("namespace").and_then(Value::as_str) {
        settings.namespace = ns.to_string();
    }
    if let Some(platform) = given.get("platform").and_then(Value::as_str) {
        settings.platform = PlatformSetting::parse(platform).expect("platform setting");
    }
    settings
}

fn policy_for(case: &Value) -> Policy {
    match case.get("policy").and_then(Value::as_str) {
        None => Policy::builtin_default(),
        Some(text) => common::load_policy_text(text),
    }
}

#[test]
fn cloudrun_table() {
    let cases = common::load_table("testdata/conformance/cloudrun.yaml");
    assert!(cases.len() >= 40, "the table shrank: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("case name");
        let manifest = case["manifest"].as_str().expect("manifest");
        let policy = policy_for(case);
        // Terraform cases name their file (`main.tf`), or are a plan (`plan: true`).
        let file = case
            .get("file")
            .and_then(Value::as_str)
            .unwrap_or("case.yaml");
        let mut settings = settings_for(case);
        if case.get("plan").and_then(Value::as_bool) == Some(true) {
            settings.terraform_plans.push(file.to_string());
        }
        let result = scan_text(file, manifest, &settings, &policy);
        let report = binauthz_lint::run::assemble(vec![result], &policy);
        let actual = json!({
            "summary": serde_json::to_value(&report.summary).expect("json"),
            "workloads": serde_json::to_value(&report.workloads).expect("json"),
            "findings": serde_json::to_value(&report.findings).expect("json"),
            "auditEvents": report.audit_events,
        });
        let outcome =
            std::panic::catch_unwind(|| common::assert_subset(&case["expect"], &actual, "result"));
        if let Err(e) = outcome {
            failures.push(format!(
                "case {name:?} failed: {:?}\nactual: {actual:#}",
                e.downcast_ref::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
