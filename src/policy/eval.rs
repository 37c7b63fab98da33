//! One image of one pod → [`ImageDecision`] (spec §2.2–2.5).
//!
//! Pure: no file system, no global state. The only allocations are the strings of the
//! returned decision (rule label, message, pattern, source), all precomputed at load time
//! except the message, which names the image.

use crate::decision::{AttestorResult, Decision, ImageDecision, PodContext, Reason};

use super::{AdmissionRule, AllowPattern, EvaluationMode, GlobalMode, Policy};

/// Binary Authorization's wording for an ALWAYS_DENY rule (spec §9, S27/S28).
pub const ALWAYS_DENY_DETAIL: &str = "Denied by always_deny admission rule";
/// Wording for an image without a valid attestation (spec §9, S27).
pub const NO_ATTESTATION_DETAIL: &str =
    "No attestations found that were valid and signed by a key trusted by the attestor";
/// Wording for an image deployed by tag (spec §9, S27; A11, A12).
pub const NOT_BY_DIGEST_DETAIL: &str =
    "Expected digest with sha256 scheme, but got tag or malformed digest";

/// Does the reference end in `@sha256:` and 64 lower-case hex digits? A tag before the digest
/// is allowed (A11); other digest algorithms are not (A12).
pub fn has_sha256_digest(image: &str) -> bool {
    let Some((_, digest)) = image.rsplit_once('@') else {
        return false;
    };
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return false;
    };
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn exempt(reason: Reason, pattern: &AllowPattern) -> ImageDecision {
    ImageDecision {
        decision: Decision::Allow,
        reason,
        rule: None,
        enforcement: None,
        pattern: Some(pattern.pattern.text.clone()),
        attestors: Vec::new(),
        message: String::new(),
        source: pattern.source.clone(),
    }
}

impl Policy {
    /// Decide one image of one pod, by the policy alone (break-glass is applied by the
    /// caller). Order: system policy (when enabled), allowlist, then exactly one rule.
    pub fn evaluate(&self, ctx: &PodContext<'_>, image: &str) -> ImageDecision {
        if self.global_mode == GlobalMode::Enable
            && let Some(pattern) = self.system.find(image)
        {
            return exempt(Reason::SystemPolicy, pattern);
        }
        if let Some(pattern) = self.allowlist.iter().find(|p| p.pattern.matches(image)) {
            return exempt(Reason::Allowlist, pattern);
        }
        self.apply(self.select_rule(ctx), image)
    }

    /// The one rule that decides for this context (spec §2.3): the matching specific rule,
    /// else the default rule. A valid policy has at most one non-empty specific map, so the
    /// order of the lookups below never matters. Istio identity rules are not applied by GKE
    /// pod admission (A16).
    pub fn select_rule(&self, ctx: &PodContext<'_>) -> &AdmissionRule {
        let index = ctx
            .cluster
            .and_then(|c| self.by_cluster.get(c))
            .or_else(|| self.by_namespace.get(ctx.namespace))
            .or_else(|| {
                self.by_service_account
                    .get(ctx.namespace)
                    .and_then(|m| m.get(ctx.service_account))
            });
        index
            .and_then(|i| self.specific.get(*i))
            .unwrap_or(&self.default_rule)
    }

    fn apply(&self, rule: &AdmissionRule, image: &str) -> ImageDecision {
        let (decision, reason, attestors, message) = match rule.evaluation {
            EvaluationMode::AlwaysAllow => (
                Decision::Allow,
                Reason::AlwaysAllow,
                Vec::new(),
                String::new(),
            ),
            EvaluationMode::AlwaysDeny => (
                Decision::Deny,
                Reason::AlwaysDeny,
                Vec::new(),
                format!(
                    "Image {image} denied by {}. {ALWAYS_DENY_DETAIL}",
                    rule.description
                ),
            ),
            EvaluationMode::RequireAttestation => {
                let (reason, results) = self.require_attestation(image, &rule.attestors);
                if results.iter().all(|r| r.verified) {
                    (Decision::Allow, reason, results, String::new())
                } else {
                    let mut message = format!("Image {image} denied by {}.", rule.description);
                    // One clause per failing attestor, joined with ". " as GKE does (S29).
                    for failed in results.iter().filter(|r| !r.verified) {
                        message.push_str(&format!(
                            " Image {image} denied by attestor {}: {}.",
                            failed.attestor, failed.detail
                        ));
                    }
                    message.pop();
                    (Decision::Deny, reason, results, message)
                }
            }
        };
        ImageDecision {
            decision,
            reason,
            rule: Some(rule.label.clone()),
            enforcement: Some(rule.enforcement),
            pattern: None,
            attestors,
            message,
            source: rule.source.clone(),
        }
    }

    /// REQUIRE_ATTESTATION for one image: the seam for `attest::evaluate_image`.
    ///
    /// Until attestation verification is wired in, no attestation is ever found, so every
    /// image is denied — never allowed by accident: `not-by-digest` without a valid sha256
    /// digest, `attestation-missing` otherwise. Each required attestor gets its own result
    /// because GKE reports one clause per attestor.
    fn require_attestation(
        &self,
        image: &str,
        attestors: &[String],
    ) -> (Reason, Vec<AttestorResult>) {
        let (reason, detail) = if has_sha256_digest(image) {
            (Reason::AttestationMissing, NO_ATTESTATION_DETAIL)
        } else {
            (Reason::NotByDigest, NOT_BY_DIGEST_DETAIL)
        };
        let results = attestors
            .iter()
            .map(|attestor| AttestorResult {
                attestor: attestor.clone(),
                verified: false,
                detail: detail.to_string(),
            })
            .collect();
        (reason, results)
    }
}
