//! Policy lints that depend on what was scanned.
//!
//! They are notes, not warnings: a pre-commit run scans only the changed files, so a pattern
//! or rule that matched nothing in this run may well be used elsewhere.

use std::collections::HashSet;

use crate::policy::decision::{PodContext, PolicyRef};
use crate::yaml::{Pos, Span};

use super::{Policy, PolicyDiagnostic, RuleKind, Severity};

fn span_of(source: &PolicyRef) -> Span {
    Span {
        start: Pos {
            line: source.line,
            column: source.column,
        },
        end: Pos {
            line: source.end_line,
            column: source.end_column,
        },
    }
}

impl Policy {
    /// Allowlist patterns that match no scanned image, and specific rules whose key matches
    /// no scanned pod context (`policy-unused-pattern`, `policy-unused-rule`, level note).
    ///
    /// `unchecked_files`: candidate files that were skipped although they may hold
    /// workloads (too large, Helm templates, ...). Their images are unknown, so with no image
    /// scanned at all nothing is said about patterns, and otherwise the note says so.
    pub fn lint_usage(
        &self,
        images: &[&str],
        contexts: &[PodContext<'_>],
        unchecked_files: usize,
    ) -> Vec<PolicyDiagnostic> {
        let mut out = Vec::new();
        // Deduplicate first: a repository repeats the same few images many times.
        let unique: HashSet<&str> = images.iter().copied().collect();
        let unchecked = match unchecked_files {
            0 => String::new(),
            1 => " (1 skipped file was not checked)".to_string(),
            n => format!(" ({n} skipped files were not checked)"),
        };
        let patterns = if unique.is_empty() && unchecked_files > 0 {
            &[][..]
        } else {
            &self.allowlist[..]
        };
        for allow in patterns {
            let Some(source) = &allow.source else {
                continue;
            };
            if unique.iter().any(|image| allow.pattern.matches(image)) {
                continue;
            }
            out.push(
                PolicyDiagnostic::new(
                    Severity::Note,
                    "policy-unused-pattern",
                    &source.file,
                    span_of(source),
                    format!(
                        "allowlist pattern `{}` matches none of the {} distinct images scanned{unchecked}",
                        allow.pattern.text,
                        unique.len()
                    ),
                )
                .label("matches no scanned image")
                .help(
                    "remove the pattern if nothing deploys such images; matching is on the \
                     image string as written (no `docker.io/library/` expansion)",
                ),
            );
        }

        let any_cluster = contexts.iter().any(|c| c.cluster.is_some());
        // Likewise no pod was read: nothing to say about rules that match none.
        let rules = if contexts.is_empty() && unchecked_files > 0 {
            &[][..]
        } else {
            &self.specific[..]
        };
        for rule in rules {
            let Some(source) = &rule.source else {
                continue;
            };
            let used = match rule.kind {
                RuleKind::Cluster => contexts
                    .iter()
                    .any(|c| c.cluster == Some(rule.key.as_str())),
                RuleKind::Namespace => contexts.iter().any(|c| c.namespace == rule.key),
                RuleKind::ServiceAccount => match rule.key.split_once(':') {
                    Some((ns, sa)) => contexts
                        .iter()
                        .any(|c| c.namespace == ns && c.service_account == sa),
                    None => false,
                },
                // Already a load-time warning (`policy-istio-rule`): never applied to pods.
                RuleKind::Istio | RuleKind::Default => true,
            };
            if used {
                continue;
            }
            let why = match rule.kind {
                RuleKind::Cluster if !any_cluster => {
                    "no `--cluster` was given, so no cluster rule applies".to_string()
                }
                RuleKind::Cluster => "the scan's `--cluster` is a different cluster".to_string(),
                RuleKind::Namespace => "no scanned workload runs in that namespace".to_string(),
                _ => "no scanned workload runs as that namespace and service account".to_string(),
            };
            out.push(
                PolicyDiagnostic::new(
                    Severity::Note,
                    "policy-unused-rule",
                    &source.file,
                    span_of(source),
                    format!(
                        "`{}` rule `{}` matches no scanned pod: {why}{unchecked}",
                        rule.kind.field(),
                        rule.key
                    ),
                )
                .label("matches no scanned pod"),
            );
        }
        // In the source's own terms (Terraform argument names).
        for d in &mut out {
            super::sources::reword(d, self.origin().kind);
        }
        out
    }

    /// `policy-cluster-unmatched`: the scan's cluster matches no `clusterAdmissionRules`
    /// key although the policy has cluster rules, so the default rule decides every pod,
    /// which is most often a typo in `--cluster` or in the key. A warning at the closest key.
    pub fn cluster_mismatch(&self, cluster: &str) -> Option<PolicyDiagnostic> {
        let cluster_rules: Vec<_> = self
            .specific
            .iter()
            .filter(|r| r.kind == RuleKind::Cluster)
            .collect();
        if cluster_rules.iter().any(|r| r.key == cluster) {
            return None;
        }
        let closest = cluster_rules
            .iter()
            .filter(|r| r.source.is_some())
            .min_by_key(|r| (super::distance(cluster, &r.key), r.key.as_str()))?;
        let source = closest.source.as_ref()?;
        Some(
            PolicyDiagnostic::new(
                Severity::Warning,
                "policy-cluster-unmatched",
                &source.file,
                span_of(source),
                format!(
                    "the cluster `{cluster}` matches no `clusterAdmissionRules` key (the policy has {}), so the default rule decides every pod: did you mean `{}`?",
                    cluster_rules.len(),
                    closest.key
                ),
            )
            .label("closest cluster key")
            .help(format!(
                "cluster keys are `LOCATION.NAME`, compared exactly: pass `--cluster {}` if the manifests deploy there, or fix the key",
                closest.key
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_policy_str;

    #[test]
    fn unused_patterns_and_rules_are_notes() {
        let p = load_policy_str(
            "globalPolicyEvaluationMode: ENABLE\n\
             admissionWhitelistPatterns:\n\
             - namePattern: gcr.io/used/*\n\
             - namePattern: gcr.io/unused/*\n\
             defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n\
             kubernetesServiceAccountAdmissionRules:\n  \
               prod:deployer: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n  \
               prod:other: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
            "p.yaml",
        )
        .expect("valid")
        .policy;
        let contexts = [PodContext {
            cluster: None,
            namespace: "prod",
            service_account: "deployer",
        }];
        let diags = p.lint_usage(&["gcr.io/used/app:1", "gcr.io/used/app:1"], &contexts, 0);
        let got: Vec<(&str, u32, Severity)> = diags
            .iter()
            .map(|d| (d.rule_id, d.line, d.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                ("policy-unused-pattern", 4, Severity::Note),
                ("policy-unused-rule", 8, Severity::Note)
            ]
        );
        assert!(diags[0].message.contains("gcr.io/unused/*"));
        assert!(diags[1].message.contains("prod:other"));
    }

    #[test]
    fn cluster_rules_without_cluster_say_so() {
        let p = load_policy_str(
            "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n\
             clusterAdmissionRules:\n  \
               eu.a: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
            "p.yaml",
        )
        .expect("valid")
        .policy;
        let none = [PodContext {
            cluster: None,
            namespace: "x",
            service_account: "default",
        }];
        let diags = p.lint_usage(&[], &none, 0);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.contains("no `--cluster`"),
            "{}",
            diags[0].message
        );
        let matching = [PodContext {
            cluster: Some("eu.a"),
            ..none[0]
        }];
        assert!(p.lint_usage(&[], &matching, 0).is_empty());
        assert!(
            Policy::builtin_default()
                .lint_usage(&["x"], &none, 0)
                .is_empty()
        );
    }

    #[test]
    fn skipped_files_are_not_claimed_to_have_no_images() {
        let p = load_policy_str(
            "admissionWhitelistPatterns:\n- namePattern: gcr.io/x/*\n\
             defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
            "p.yaml",
        )
        .expect("valid")
        .policy;
        assert!(p.lint_usage(&[], &[], 2).is_empty());
        let ns = load_policy_str(
            "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n\
             kubernetesNamespaceAdmissionRules:\n  \
               prod: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
            "p.yaml",
        )
        .expect("valid")
        .policy;
        assert!(ns.lint_usage(&[], &[], 1).is_empty());
        assert_eq!(ns.lint_usage(&[], &[], 0).len(), 1);
        let diags = p.lint_usage(&["gcr.io/y/a:1"], &[], 1);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0]
                .message
                .ends_with("scanned (1 skipped file was not checked)"),
            "{}",
            diags[0].message
        );
        assert_eq!(p.lint_usage(&[], &[], 0).len(), 1);
    }

    #[test]
    fn unmatched_cluster_names_the_closest_key() {
        let p = load_policy_str(
            "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n\
             clusterAdmissionRules:\n  \
               us-east1.prod: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n  \
               europe-west1.ks-test: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
            "p.yaml",
        )
        .expect("valid")
        .policy;
        let d = p.cluster_mismatch("europe-west1.ks-tst").expect("warning");
        assert_eq!((d.severity, d.line), (Severity::Warning, 4));
        assert!(
            d.message.contains("`europe-west1.ks-tst`")
                && d.message.contains("did you mean `europe-west1.ks-test`?"),
            "{}",
            d.message
        );
        assert!(p.cluster_mismatch("us-east1.prod").is_none());
        assert!(Policy::builtin_default().cluster_mismatch("a.b").is_none());
    }
}
