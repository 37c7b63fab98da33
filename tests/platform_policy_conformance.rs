//! Table-driven tests of check-based platform policies (continuous validation):
//! `testdata/conformance/platform-policy.yaml` (format described at its top).

mod common;

use binauthz_lint::attest::AttestationStore;
use binauthz_lint::policy::platform::{EvalInputs, load_platform_policy_str};
use binauthz_lint::policy::{PolicyDiagnostic, Refuser, Severity, render_diagnostics};
use serde_json::{Value, json};

fn diag_json(d: &PolicyDiagnostic) -> Value {
    json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Note => "note" },
        "ruleId": d.rule_id,
        "line": d.line,
        "column": d.column,
        "endLine": d.end_line,
        "endColumn": d.end_column,
        "refuser": d.refuser.map(|r| match r { Refuser::Gcloud => "gcloud", Refuser::Server => "server", Refuser::Linter => "linter" }),
    })
}

fn matches(want: &Value, d: &PolicyDiagnostic) -> bool {
    let actual = diag_json(d);
    want.as_object()
        .expect("diagnostic expectation")
        .iter()
        .all(|(k, v)| {
            if k == "message" {
                d.message.contains(v.as_str().expect("message"))
            } else {
                actual.get(k) == Some(v)
            }
        })
}

#[test]
fn platform_policy_table() {
    let cases = common::load_table("testdata/conformance/platform-policy.yaml");
    assert!(cases.len() >= 50, "the table shrank: {}", cases.len());
    let mut pods_checked = 0;
    for case in &cases {
        let name = case["name"].as_str().expect("case name");
        let text = case["policy"].as_str().expect("policy");
        let file = case["file"].as_str().unwrap_or("platform.yaml");
        let (loaded, diags, rendered) = match load_platform_policy_str(text, file) {
            Ok(loaded) => {
                let r = render_diagnostics(&loaded.diagnostics, text, false);
                let d = loaded.diagnostics.clone();
                (Some(loaded), d, r)
            }
            Err(err) => {
                let r = err.render(false);
                (None, err.diagnostics, r)
            }
        };
        let valid = case["valid"].as_bool().unwrap_or(true);
        assert_eq!(
            loaded.is_some(),
            valid,
            "case {name:?}: validity\n{rendered}"
        );
        let expected = case["diagnostics"].as_array().cloned().unwrap_or_default();
        for want in &expected {
            assert!(
                diags.iter().any(|d| matches(want, d)),
                "case {name:?}: no diagnostic matches {want}\n{rendered}\n{:#?}",
                diags.iter().map(diag_json).collect::<Vec<_>>()
            );
        }
        if case["exactly"].as_bool() == Some(true) {
            for d in diags.iter().filter(|d| d.severity != Severity::Note) {
                assert!(
                    expected.iter().any(|w| matches(w, d)),
                    "case {name:?}: unexpected diagnostic {}\n{rendered}",
                    diag_json(d)
                );
            }
        }
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            let phrase = d
                .refuser
                .map(Refuser::phrase)
                .expect("error without refuser");
            assert!(d.message.contains(phrase), "case {name:?}: {}", d.message);
        }
        let Some(loaded) = loaded else {
            assert!(
                case.get("pods").is_none(),
                "case {name:?}: pods on an invalid policy"
            );
            continue;
        };
        for pod in case["pods"].as_array().cloned().unwrap_or_default() {
            let namespace = pod["namespace"].as_str().unwrap_or("default");
            let account = pod["serviceAccount"].as_str().unwrap_or("default");
            let images: Vec<&str> = pod["images"]
                .as_array()
                .expect("images")
                .iter()
                .map(|i| i.as_str().expect("image"))
                .collect();
            let store = pod["attestations"].as_str().map(|p| {
                AttestationStore::load(&common::fixture(p)).expect("attestations fixture")
            });
            let inputs = EvalInputs {
                attestations: store.as_ref(),
                ..EvalInputs::default()
            };
            let verdict = loaded
                .policy
                .evaluate_pod(namespace, account, &images, &inputs);
            let actual = serde_json::to_value(&verdict).expect("json");
            let outcome =
                std::panic::catch_unwind(|| common::assert_subset(&pod["expect"], &actual, "pod"));
            if let Err(e) = outcome {
                panic!(
                    "case {name:?} pod {namespace}/{account}: {:?}\nactual: {actual:#}",
                    e.downcast_ref::<String>()
                );
            }
            pods_checked += 1;
        }
    }
    assert!(pods_checked >= 30, "too few pods evaluated: {pods_checked}");
}

mod properties {
    use binauthz_lint::policy::platform::{EvalInputs, load_platform_policy_str};
    use proptest::prelude::*;

    const REAL: &str = "gkePolicy:\n  imageAllowlist:\n    allowPattern: [gke.gcr.io/**]\n  checkSets:\n  - displayName: prod\n    scope: {kubernetesServiceAccount: \"prod:api\"}\n    imageAllowlist: {allowPattern: \"gcr.io/p/*\"}\n    checks:\n    - trustedDirectoryCheck: {trustedDirPatterns: [\"*-docker.pkg.dev/p/**\"]}\n    - imageFreshnessCheck: {maxUploadAgeDays: 30}\n    - vulnerabilityCheck: {maximumFixableSeverity: LOW, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: projects/v}\n  - checks:\n    - alwaysDeny: true\n";

    proptest! {
        /// The loader never panics, whatever the text; errors are data with a position.
        #[test]
        fn loader_never_panics(text in "(\\PC|\n| |:|-|\\{|\\}|\\[|\\]|\\*){0,200}") {
            let _ = load_platform_policy_str(&text, "p.yaml");
        }

        /// Cutting or inserting text anywhere in a real policy: it loads (and evaluates
        /// without panicking), or every error is located in the file.
        #[test]
        fn mutated_policies_are_reported(cut in 0usize..700, insert in "(\\PC|\n| |\\*|/){0,12}") {
            let at = REAL.char_indices().map(|(i, _)| i).nth(cut % REAL.chars().count()).unwrap_or(0);
            let text = format!("{}{insert}{}", &REAL[..at], &REAL[at..]);
            match load_platform_policy_str(&text, "p.yaml") {
                Ok(loaded) => {
                    let images = ["gcr.io/p/app:1", "us-docker.pkg.dev/p/r/app@sha256:00", "nginx"];
                    for (ns, sa) in [("prod", "api"), ("dev", "default")] {
                        let _ = loaded.policy.evaluate_pod(ns, sa, &images, &EvalInputs::default());
                    }
                }
                Err(err) => {
                    prop_assert!(!err.diagnostics.is_empty());
                    let _ = err.render(false);
                }
            }
        }
    }
}
