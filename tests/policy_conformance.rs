//! Table-driven policy tests: `testdata/conformance/policy/{evaluation,validation}.yaml`
//! (spec §11.1–11.5 plus our own cases). Every mismatch fails with the case name.

mod common;

use binauthz_lint::decision::{Decision, Enforcement, ImageDecision, PodContext};
use binauthz_lint::policy::{
    self, LoadedPolicy, Policy, PolicyDiagnostic, Refuser, Severity, load_policy_str,
};
use binauthz_lint::yaml::{self, Limits};
use serde_json::{Value, json};

fn load_json(relative: &str) -> Value {
    let path = common::repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tree = yaml::parse(&text, &Limits::default());
    assert!(tree.error.is_none(), "{}: {:?}", path.display(), tree.error);
    let root = tree.documents[0].root.expect("table root");
    yaml::to_json(&tree, root, 10_000_000).expect("table to json")
}

fn decision_json(d: &ImageDecision) -> Value {
    json!({
        "decision": d.decision,
        "reason": d.reason,
        "rule": d.rule,
        "enforcement": d.enforcement,
        "pattern": d.pattern,
        "attestors": d.attestors,
        "source": d.source.as_ref().map(|s| json!({
            "file": s.file, "line": s.line, "column": s.column,
            "endLine": s.end_line, "endColumn": s.end_column,
        })),
    })
}

/// The pod's verdict by the policy alone: one enforced denial denies the pod (spec §2.4).
fn pod_verdict(decisions: &[ImageDecision]) -> &'static str {
    let denied = |e| {
        decisions
            .iter()
            .any(|d| d.decision == Decision::Deny && d.enforcement == Some(e))
    };
    if denied(Enforcement::Enforced) {
        "deny"
    } else if denied(Enforcement::Dryrun) {
        "dryrun-deny"
    } else {
        "allow"
    }
}

fn load(text: &str, file: &str) -> LoadedPolicy {
    match load_policy_str(text, file) {
        Ok(loaded) => loaded,
        Err(err) => panic!("policy does not load:\n{}", err.render(false)),
    }
}

#[test]
fn evaluation_table() {
    let table = load_json("testdata/conformance/policy/evaluation.yaml");
    let named = table["policies"].as_object().expect("policies");
    let cases = table["cases"].as_array().expect("cases");
    assert!(cases.len() >= 50, "the table shrank: {}", cases.len());
    for case in cases {
        let name = case["name"].as_str().expect("case name");
        let policy_text = case["policy"].as_str().expect("policy");
        let policy_text = named
            .get(policy_text)
            .and_then(Value::as_str)
            .unwrap_or(policy_text);
        let mut policy: Policy = load(policy_text, "policy.yaml").policy;
        if let Some(sp) = case.get("systemPolicy").and_then(Value::as_str) {
            let sp = policy::load_system_policy_str(sp, "system.yaml")
                .unwrap_or_else(|e| panic!("{name}: system policy:\n{}", e.render(false)));
            policy = policy.with_system_policy(sp);
        }
        let ctx_json = case.get("context").cloned().unwrap_or(json!({}));
        let cluster = match ctx_json.get("cluster") {
            Some(Value::Null) => None,
            Some(v) => Some(v.as_str().expect("cluster").to_string()),
            None => Some("us-central1-a.c1".to_string()),
        };
        let namespace = ctx_json["namespace"].as_str().unwrap_or("default");
        let service_account = ctx_json["serviceAccount"].as_str().unwrap_or("default");
        let ctx = PodContext {
            cluster: cluster.as_deref(),
            namespace,
            service_account,
        };
        let images: Vec<&str> = case["images"]
            .as_array()
            .expect("images")
            .iter()
            .map(|i| i.as_str().expect("image"))
            .collect();
        let expected = case["expect"].as_array().expect("expect");
        assert_eq!(
            expected.len(),
            images.len(),
            "{name}: one expectation per image"
        );
        let decisions: Vec<ImageDecision> =
            images.iter().map(|i| policy.evaluate(&ctx, i)).collect();
        for ((image, decision), want) in images.iter().zip(&decisions).zip(expected) {
            let actual = decision_json(decision);
            let mut subset = want.clone();
            let obj = subset.as_object_mut().expect("expectation object");
            let message = obj.remove("message");
            let not_message = obj.remove("notMessage");
            let outcome =
                std::panic::catch_unwind(|| common::assert_subset(&subset, &actual, "decision"));
            if let Err(e) = outcome {
                panic!(
                    "case {name:?}, image {image}: {:?}\nactual: {actual:#}",
                    e.downcast_ref::<String>()
                );
            }
            match message.as_ref().and_then(Value::as_str) {
                Some("") => assert!(
                    decision.message.is_empty(),
                    "case {name:?}, image {image}: message should be empty: {}",
                    decision.message
                ),
                Some(part) => assert!(
                    decision.message.contains(part),
                    "case {name:?}, image {image}: message {:?} lacks {part:?}",
                    decision.message
                ),
                None => {}
            }
            if let Some(part) = not_message.as_ref().and_then(Value::as_str) {
                assert!(
                    !decision.message.contains(part),
                    "case {name:?}, image {image}: message {:?} should not contain {part:?}",
                    decision.message
                );
            }
            // Every denial explains itself; every allowed image has no message.
            assert_eq!(
                decision.decision == Decision::Deny,
                !decision.message.is_empty(),
                "case {name:?}, image {image}: {decision:?}"
            );
        }
        if let Some(pod) = case.get("pod").and_then(Value::as_str) {
            assert_eq!(pod_verdict(&decisions), pod, "case {name:?}: pod verdict");
        }
    }
}

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
    let want_obj = want.as_object().expect("diagnostic expectation");
    for (k, v) in want_obj {
        if k == "message" {
            if !d.message.contains(v.as_str().expect("message")) {
                return false;
            }
        } else if actual.get(k) != Some(v) {
            return false;
        }
    }
    true
}

#[test]
fn validation_table() {
    let cases = load_json("testdata/conformance/policy/validation.yaml");
    let cases = cases.as_array().expect("cases");
    assert!(cases.len() >= 30, "the table shrank: {}", cases.len());
    for case in cases {
        let name = case["name"].as_str().expect("case name");
        let text = case["policy"].as_str().expect("policy");
        let file = case["file"].as_str().unwrap_or("policy.yaml");
        let (valid, diags, rendered) = match load_policy_str(text, file) {
            Ok(loaded) => {
                let r = policy::render_diagnostics(&loaded.diagnostics, text, false);
                (true, loaded.diagnostics, r)
            }
            Err(err) => {
                let r = err.render(false);
                (false, err.diagnostics, r)
            }
        };
        assert_eq!(
            Some(valid),
            case["valid"].as_bool(),
            "case {name:?}: validity\n{rendered}"
        );
        let expected = case["diagnostics"].as_array().expect("diagnostics");
        for want in expected {
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
        for d in &diags {
            assert_eq!(d.file, file, "case {name:?}");
            if d.severity == Severity::Error {
                assert!(d.refuser.is_some(), "case {name:?}: error without refuser");
                let phrase = d.refuser.map(Refuser::phrase).unwrap_or_default();
                assert!(d.message.contains(phrase), "case {name:?}: {}", d.message);
            }
        }
        // `policy validate` agrees with the loader.
        let (code, out) = policy::validate_str(text, file, false);
        assert_eq!(
            code,
            if valid { 0 } else { 2 },
            "case {name:?}: exit code\n{out}"
        );
    }
}

mod properties {
    use binauthz_lint::policy::{Pattern, load_policy_str};
    use proptest::prelude::*;

    proptest! {
        /// The loader never panics, whatever the text; errors are data.
        #[test]
        fn loader_never_panics(text in "(\\PC|\n| |:|-|\\{|\\}|\\[|\\]){0,200}") {
            let _ = load_policy_str(&text, "fuzz.yaml");
        }

        /// Mutations of a valid policy: still no panic, and every error is located and says
        /// who refuses the file.
        #[test]
        fn mutated_policies_are_reported(cut in 0usize..400, insert in "(\\PC|\n| ){0,12}") {
            let base = "globalPolicyEvaluationMode: ENABLE\nadmissionWhitelistPatterns:\n- namePattern: gcr.io/p/*\ndefaultAdmissionRule:\n  evaluationMode: REQUIRE_ATTESTATION\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  requireAttestationsBy:\n  - projects/p/attestors/a\nclusterAdmissionRules:\n  us-east1-b.prod: {evaluationMode: ALWAYS_DENY, enforcementMode: DRYRUN_AUDIT_LOG_ONLY}\n";
            let at = base.char_indices().map(|(i, _)| i).nth(cut % base.chars().count()).unwrap_or(0);
            let text = format!("{}{insert}{}", &base[..at], &base[at..]);
            if let Err(err) = load_policy_str(&text, "p.yaml") {
                for d in &err.diagnostics {
                    prop_assert!(d.refuser.is_some() || d.severity != binauthz_lint::policy::Severity::Error);
                }
                let _ = err.render(false);
            }
        }

        /// `prefix**` is a prefix match; `prefix*` adds "no `/` after the prefix"; a pattern
        /// without wildcard is string equality.
        #[test]
        fn wildcard_semantics(prefix in "gcr\\.io/[a-z]{1,6}/[a-z:.@-]{0,6}", rest in "[a-z/:.@-]{0,10}") {
            let image = format!("{prefix}{rest}");
            let any = Pattern::compile(&format!("{prefix}**")).expect("valid");
            prop_assert!(any.matches(&image));
            let seg = Pattern::compile(&format!("{prefix}*")).expect("valid");
            prop_assert_eq!(seg.matches(&image), !rest.contains('/'));
            let exact = Pattern::compile(&prefix).expect("valid");
            prop_assert_eq!(exact.matches(&image), rest.is_empty());
        }
    }
}
