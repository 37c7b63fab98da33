//! Rendered policy diagnostics (no colour), as `policy validate` prints them: the message,
//! `file:line:column`, the offending line with the text underlined, and the help line.

use binauthz_lint::policy::{self, render_diagnostics};

fn render(file: &str, text: &str) -> String {
    match policy::load_policy_str(text, file) {
        Ok(loaded) => render_diagnostics(&loaded.diagnostics, text, false),
        Err(err) => err.render(false),
    }
}

#[test]
fn unknown_top_level_key() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "admissionAllowlistPatterns:\n- namePattern: gcr.io/acme-prod/*\ndefaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: ALWAYS_DENY\nglobalPolicyEvaluationMode: ENABLE\n"
    ));
}

#[test]
fn misspelled_enum() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "defaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: REQUIRE_ATTESTATIONS\nglobalPolicyEvaluationMode: ENABLE\n"
    ));
}

#[test]
fn require_attestation_without_attestors() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "defaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: REQUIRE_ATTESTATION\nglobalPolicyEvaluationMode: ENABLE\n"
    ));
}

#[test]
fn wildcard_in_the_middle_underlines_the_star() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "admissionWhitelistPatterns:\n- namePattern: 'gcr.io/my-project/n*x'\ndefaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: ALWAYS_DENY\nglobalPolicyEvaluationMode: ENABLE\n"
    ));
}

#[test]
fn misindented_cluster_rule() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "clusterAdmissionRules:\n  # Staging cluster\n    staging-cluster:\n    evaluationMode: REQUIRE_ATTESTATION\ndefaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: ALWAYS_DENY\nglobalPolicyEvaluationMode: ENABLE\n"
    ));
}

#[test]
fn two_rule_maps() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "clusterAdmissionRules:\n  us-central1-a.prod: {enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG, evaluationMode: ALWAYS_DENY}\ndefaultAdmissionRule: {enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG, evaluationMode: ALWAYS_ALLOW}\nglobalPolicyEvaluationMode: ENABLE\nkubernetesNamespaceAdmissionRules:\n  dev: {enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG, evaluationMode: ALWAYS_ALLOW}\n"
    ));
}

#[test]
fn json_unknown_field() {
    insta::assert_snapshot!(render(
        "policy.json",
        "{\n  \"defaultAdmissionRule\": {\n    \"enforcementMode\": \"ENFORCED_BLOCK_AND_AUDIT_LOG\",\n    \"evaluationMode\": \"ALWAYS_DENY\",\n    \"requireAttestationBy\": []\n  },\n  \"globalPolicyEvaluationMode\": \"ENABLE\"\n}\n"
    ));
}

#[test]
fn platform_policy() {
    insta::assert_snapshot!(render(
        "check-policy.yaml",
        "gkePolicy:\n  checkSets:\n  - checks:\n    - alwaysDeny: true\n"
    ));
}

#[test]
fn warnings_on_a_valid_policy() {
    insta::assert_snapshot!(render(
        "policy.yaml",
        "admissionWhitelistPatterns:\n  namePattern: us-docker.pkg.dev/${PROJECT_ID}/repo/*\ndefaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: REQUIRE_ATTESTATION\n  requireAttestationsBy: projects/acme-sec/attestors/built-by-ci\n"
    ));
}

#[test]
fn validate_output_for_an_invalid_file() {
    let (code, out) = policy::validate_str(
        "defaultAdmissionRule:\n  evaluationMode: always_deny\n",
        "policy.yaml",
        false,
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(out);
}
