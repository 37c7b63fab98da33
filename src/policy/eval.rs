//! One image of one pod → [`ImageDecision`] (spec §2.2–2.5).
//!
//! Pure: no file system, no global state. The only allocations are the strings of the
//! returned decision (rule label, message, pattern, source), all precomputed at load time
//! except the message, which names the image.

use crate::attest::AttestationOutcome;
use crate::policy::decision::{AttestorResult, Decision, ImageDecision, PodContext, Reason};
use crate::settings::platform::Platform;

use super::{AdmissionRule, AllowPattern, EvaluationMode, GlobalMode, Policy};

/// Binary Authorization's wording for an ALWAYS_DENY rule (spec §9, S27/S28).
pub const ALWAYS_DENY_DETAIL: &str = "Denied by always_deny admission rule";
/// Wording for an image without a valid attestation (spec §9, S27).
pub const NO_ATTESTATION_DETAIL: &str =
    "No attestations found that were valid and signed by a key trusted by the attestor";
/// Wording for an image deployed by tag (spec §9, S27; A11, A12).
pub const NOT_BY_DIGEST_DETAIL: &str =
    "Expected digest with sha256 scheme, but got tag or malformed digest";

/// Join string pieces with a single allocation.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
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

/// Cloud Run's wording for a tag-only image under REQUIRE_ATTESTATION (contract §12.3).
pub const TAG_RESOLVED_DETAIL: &str = "Cloud Run resolves the tag to a digest at deploy and checks the attestations of that digest, which this scan cannot know";

impl Policy {
    /// Decide one image of one GKE pod, by the policy alone (break-glass is applied by the
    /// caller). Order: system policy (when enabled), allowlist, then exactly one rule.
    pub fn evaluate(&self, ctx: &PodContext<'_>, image: &str) -> ImageDecision {
        self.evaluate_on(Platform::Gke, ctx, image)
    }

    /// [`Policy::evaluate`] on a platform. On Cloud Run (contract §12.2–3) only the allowlist,
    /// the system policy and the default rule apply (in that order), whatever the context's
    /// cluster, namespace and service account; a tag-only image under REQUIRE_ATTESTATION is
    /// `unresolved`, because Cloud Run checks the digest it resolves at deploy.
    pub fn evaluate_on(
        &self,
        platform: Platform,
        ctx: &PodContext<'_>,
        image: &str,
    ) -> ImageDecision {
        let system = || {
            (self.global_mode == GlobalMode::Enable)
                .then(|| self.system.find(image))
                .flatten()
        };
        let allowlisted = || self.allowlist.iter().find(|p| p.pattern.matches(image));
        if platform == Platform::CloudRun {
            if let Some(pattern) = allowlisted() {
                return exempt(Reason::Allowlist, pattern);
            }
            if let Some(pattern) = system() {
                return exempt(Reason::SystemPolicy, pattern);
            }
            let mut decision = self.apply(&self.default_rule, image);
            if decision.reason == Reason::NotByDigest {
                decision.decision = Decision::Unresolved;
                decision.reason = Reason::TagResolvedAtDeploy;
                decision.message = concat(&["Image ", image, ": ", TAG_RESOLVED_DETAIL]);
                for attestor in &mut decision.attestors {
                    attestor.detail = "tag resolved at deploy".to_string();
                }
            }
            return decision;
        }
        if let Some(pattern) = system() {
            return exempt(Reason::SystemPolicy, pattern);
        }
        if let Some(pattern) = allowlisted() {
            return exempt(Reason::Allowlist, pattern);
        }
        self.apply(self.select_rule(ctx), image)
    }

    /// The rule that decides on a platform: Cloud Run has no cluster, namespace or service
    /// account in the policy's sense, so only the default rule applies there.
    pub fn select_rule_on(&self, platform: Platform, ctx: &PodContext<'_>) -> &AdmissionRule {
        match platform {
            Platform::CloudRun => &self.default_rule,
            Platform::Gke => self.select_rule(ctx),
        }
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
                // Built in one exactly-sized allocation (`format!` would grow the buffer).
                concat(&[
                    "Image ",
                    image,
                    " denied by ",
                    &rule.description,
                    ". ",
                    ALWAYS_DENY_DETAIL,
                ]),
            ),
            EvaluationMode::RequireAttestation => {
                let (reason, results) = self.require_attestation(image, &rule.attestors);
                if results.iter().all(|r| r.verified) {
                    (Decision::Allow, reason, results, String::new())
                } else {
                    // One clause per failing attestor, joined with ". " as GKE does (S29).
                    let mut parts: Vec<&str> =
                        vec!["Image ", image, " denied by ", &rule.description];
                    // GKE's wording for the reason, then our precise detail in brackets.
                    let gke_reason = if reason == Reason::NotByDigest {
                        NOT_BY_DIGEST_DETAIL
                    } else {
                        NO_ATTESTATION_DETAIL
                    };
                    for failed in results.iter().filter(|r| !r.verified) {
                        parts.extend([
                            ". Image ",
                            image,
                            " denied by attestor ",
                            &failed.attestor,
                            ": ",
                            gke_reason,
                        ]);
                        if failed.detail != gke_reason {
                            parts.extend([" (", &failed.detail, ")"]);
                        }
                    }
                    let message = concat(&parts);
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
        let inputs = self.attestation_inputs();
        let (outcome, checks) = crate::attest::evaluate_image(
            image,
            attestors,
            inputs.attestors.as_ref(),
            inputs.store.as_ref(),
        );
        let reason = match outcome {
            AttestationOutcome::Attested => Reason::Attested,
            AttestationOutcome::AttestationMissing => Reason::AttestationMissing,
            AttestationOutcome::AttestationInvalid => Reason::AttestationInvalid,
            AttestationOutcome::NotByDigest => Reason::NotByDigest,
        };
        let results = checks
            .into_iter()
            .map(|check| AttestorResult {
                attestor: check.attestor,
                verified: check.verified,
                detail: check.detail,
            })
            .collect();
        (reason, results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_digest(image: &str) -> bool {
        crate::attest::image_digest(image).is_some()
    }
    use crate::policy::decision::Enforcement;
    use crate::policy::load_policy_str;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn policy(text: &str) -> Policy {
        match load_policy_str(text, "p.yaml") {
            Ok(loaded) => loaded.policy,
            Err(err) => panic!("{}", err.render(false)),
        }
    }

    fn ctx<'a>(cluster: Option<&'a str>, namespace: &'a str, sa: &'a str) -> PodContext<'a> {
        PodContext {
            cluster,
            namespace,
            service_account: sa,
        }
    }

    const DEFAULT_CTX: PodContext<'static> = PodContext {
        cluster: None,
        namespace: "default",
        service_account: "default",
    };

    #[test]
    fn builtin_default_allows_everything_enforced() {
        let p = Policy::builtin_default();
        assert_eq!(p.source(), "<built-in default>");
        let d = p.evaluate(&DEFAULT_CTX, "nginx:latest");
        assert_eq!(d.decision, Decision::Allow);
        assert_eq!(d.reason, Reason::AlwaysAllow);
        assert_eq!(d.rule.as_deref(), Some("default"));
        assert_eq!(d.enforcement, Some(Enforcement::Enforced));
        assert!(d.source.is_none() && d.message.is_empty());
        // ENABLE: Google system images are exempt by the (approximate) system policy.
        let d = p.evaluate(&DEFAULT_CTX, "gke.gcr.io/gke-metrics-agent:1");
        assert_eq!(d.reason, Reason::SystemPolicy);
        assert!(p.system_policy().is_approximate());
    }

    #[test]
    fn digest_detection() {
        assert!(has_digest(&format!("gcr.io/p/a@{D1}")));
        assert!(has_digest(&format!("gcr.io/p/a:1@{D1}")));
        assert!(!has_digest("gcr.io/p/a:1"));
        assert!(!has_digest(&format!("gcr.io/p/a@{}", D1.to_uppercase())));
        assert!(!has_digest(&format!("gcr.io/p/a@{D1}0")));
        assert!(!has_digest("gcr.io/p/a@sha256:"));
        assert!(!has_digest(&format!("gcr.io/p/a@{D1}@x")));
    }

    #[test]
    fn rule_selection_by_each_kind() {
        let rule = |body: &str| {
            format!(
                "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {{evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}}\n{body}"
            )
        };
        let allow = "{evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}";
        let clu = policy(&rule(&format!("clusterAdmissionRules:\n  eu.c: {allow}\n")));
        assert_eq!(
            clu.select_rule(&ctx(Some("eu.c"), "x", "y")).label(),
            "cluster:eu.c"
        );
        assert_eq!(
            clu.select_rule(&ctx(Some("eu.d"), "x", "y")).label(),
            "default"
        );
        assert_eq!(clu.select_rule(&ctx(None, "eu.c", "y")).label(), "default");
        let ns = policy(&rule(&format!(
            "kubernetesNamespaceAdmissionRules:\n  dev: {allow}\n"
        )));
        assert_eq!(
            ns.select_rule(&ctx(Some("eu.c"), "dev", "y")).label(),
            "namespace:dev"
        );
        assert_eq!(ns.select_rule(&ctx(None, "Dev", "y")).label(), "default");
        let sa = policy(&rule(&format!(
            "kubernetesServiceAccountAdmissionRules:\n  dev:ci: {allow}\n"
        )));
        assert_eq!(
            sa.select_rule(&ctx(None, "dev", "ci")).label(),
            "serviceaccount:dev:ci"
        );
        assert_eq!(
            sa.select_rule(&ctx(None, "dev", "default")).label(),
            "default"
        );
        assert_eq!(sa.select_rule(&ctx(None, "ci", "dev")).label(), "default");
        let istio = policy(&rule(&format!(
            "istioServiceIdentityAdmissionRules:\n  p.svc.id.goog/ns/dev/sa/ci: {allow}\n"
        )));
        assert_eq!(
            istio.select_rule(&ctx(None, "dev", "ci")).label(),
            "default"
        );
    }

    #[test]
    fn messages_follow_gke_wording() {
        let p = policy(
            "globalPolicyEvaluationMode: DISABLE\n\
             defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n\
             kubernetesNamespaceAdmissionRules:\n  \
               att: {evaluationMode: REQUIRE_ATTESTATION, enforcementMode: DRYRUN_AUDIT_LOG_ONLY, requireAttestationsBy: [projects/p/attestors/a]}\n",
        );
        let d = p.evaluate(&DEFAULT_CTX, "nginx");
        assert_eq!(
            d.message,
            "Image nginx denied by Binary Authorization default admission rule. Denied by always_deny admission rule"
        );
        assert!(!d.message_is_synthetic());
        let img = format!("gcr.io/p/a@{D1}");
        let d = p.evaluate(&ctx(None, "att", "default"), &img);
        assert_eq!(d.decision, Decision::Deny);
        assert_eq!(d.enforcement, Some(Enforcement::Dryrun));
        assert_eq!(d.reason, Reason::AttestationMissing);
        assert_eq!(
            d.message,
            format!(
                "Image {img} denied by Binary Authorization namespace admission rule for att. \
                 Image {img} denied by attestor projects/p/attestors/a: {NO_ATTESTATION_DETAIL} \
                 (attestor definition not supplied (pass it with --attestors))"
            )
        );
        assert!(d.message_is_synthetic());
        let src = d.source.expect("rule source");
        assert_eq!((src.file.as_str(), src.line, src.column), ("p.yaml", 4, 3));
    }

    #[test]
    fn require_attestation_never_allows_without_verification() {
        let p = policy(
            "defaultAdmissionRule: {evaluationMode: REQUIRE_ATTESTATION, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG, requireAttestationsBy: [projects/p/attestors/a, projects/p/attestors/b]}\n",
        );
        for image in [
            "nginx",
            "nginx:1",
            &format!("gcr.io/p/a@{D1}"),
            &format!("a:1@{D1}"),
            "a@sha256:abc",
            "",
        ] {
            let d = p.evaluate(&DEFAULT_CTX, image);
            assert_eq!(d.decision, Decision::Deny, "{image}");
            assert_eq!(d.attestors.len(), 2);
            assert!(d.attestors.iter().all(|a| !a.verified));
        }
    }

    #[test]
    fn system_policy_only_when_enabled() {
        let text = |mode: &str| {
            format!(
                "globalPolicyEvaluationMode: {mode}\ndefaultAdmissionRule: {{evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}}\n"
            )
        };
        let sp = crate::policy::load_system_policy_str(
            "admissionWhitelistPatterns:\n- namePattern: registry.k8s.io/**\n",
            "sys.yaml",
        )
        .expect("system policy");
        assert!(!sp.is_approximate());
        let on = policy(&text("ENABLE")).with_system_policy(sp.clone());
        let off = policy(&text("DISABLE")).with_system_policy(sp);
        let d = on.evaluate(&DEFAULT_CTX, "registry.k8s.io/pause:3.9");
        assert_eq!(
            (d.decision, d.reason),
            (Decision::Allow, Reason::SystemPolicy)
        );
        assert_eq!(d.source.map(|s| s.file), Some("sys.yaml".to_string()));
        // The file replaces the built-in list.
        assert_eq!(
            on.evaluate(&DEFAULT_CTX, "gke.gcr.io/x:1").decision,
            Decision::Deny
        );
        assert_eq!(
            off.evaluate(&DEFAULT_CTX, "registry.k8s.io/pause:3.9")
                .decision,
            Decision::Deny
        );
    }
}
