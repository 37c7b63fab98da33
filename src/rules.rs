//! The registry of finding rules: stable kebab-case ids, default levels, one-line summaries
//! and the long help embedded from `docs/rules/<id>.md` (shown by `explain`, SARIF `help`).

use serde::Serialize;

/// Severity of a finding, ordered `Note < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Metadata of one rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub level: Level,
    pub summary: &'static str,
    /// Markdown page, embedded at build time.
    pub doc: &'static str,
}

macro_rules! rule {
    ($id:literal, $level:expr, $summary:literal) => {
        RuleMeta {
            id: $id,
            level: $level,
            summary: $summary,
            doc: include_str!(concat!("../docs/rules/", $id, ".md")),
        }
    };
}

/// Every rule, sorted by id (SARIF `ruleIndex` is the position in this list).
pub const RULES: &[RuleMeta] = &[
    rule!(
        "breakglass-deprecated-annotation",
        Level::Warning,
        "The legacy alpha.image-policy.k8s.io/break-glass annotation is used"
    ),
    rule!(
        "breakglass-ineffective",
        Level::Warning,
        "A break-glass marker that the enforcer will not honour (wrong place or value)"
    ),
    rule!(
        "breakglass-other-system",
        Level::Note,
        "A break-glass marker of another system (e.g. kritis) that Binary Authorization ignores"
    ),
    rule!(
        "breakglass-used",
        Level::Warning,
        "Effective break-glass: the workload bypasses the Binary Authorization policy"
    ),
    rule!(
        "duplicate-key",
        Level::Warning,
        "A YAML mapping repeats a key; Kubernetes keeps only the last value"
    ),
    rule!(
        "file-skipped",
        Level::Note,
        "A candidate file was not evaluated (too large, binary, not UTF-8, not a regular file, ...)"
    ),
    rule!(
        "helm-template-skipped",
        Level::Note,
        "Helm chart templates were skipped; pipe `helm template` output in instead"
    ),
    rule!(
        "image-denied",
        Level::Error,
        "An image would be denied by an enforced Binary Authorization rule"
    ),
    rule!(
        "image-denied-dryrun",
        Level::Warning,
        "An image fails a dry-run rule: admitted, but audit-logged"
    ),
    rule!(
        "internal-error",
        Level::Error,
        "Processing one file failed unexpectedly (a bug); the scan went on"
    ),
    rule!(
        "manifest-invalid",
        Level::Error,
        "A file or document cannot be parsed, or a workload's pod spec is malformed"
    ),
    rule!(
        "policy-duplicate-key",
        Level::Warning,
        "A key is repeated in the policy file; gcloud keeps only the last value"
    ),
    rule!(
        "policy-evaluation-mode-missing",
        Level::Note,
        "The policy has no globalPolicyEvaluationMode, which means DISABLE"
    ),
    rule!(
        "policy-invalid",
        Level::Error,
        "The policy file is invalid: gcloud or the Binary Authorization server would refuse it"
    ),
    rule!(
        "policy-istio-rule",
        Level::Warning,
        "An Istio service identity rule, which GKE pod admission does not apply"
    ),
    rule!(
        "policy-lenient-form",
        Level::Warning,
        "A single value where the policy format expects a list; gcloud accepts it as a one-item list"
    ),
    rule!(
        "policy-namespace-key",
        Level::Warning,
        "A namespace rule key that is not a valid Kubernetes namespace name"
    ),
    rule!(
        "policy-pattern-tag-digest",
        Level::Warning,
        "An allowlist pattern ending in `@*`, which matches digests but not tags"
    ),
    rule!(
        "policy-placeholder",
        Level::Warning,
        "An unresolved template placeholder in the policy (`${VAR}`, `$VAR`, `YOUR_PROJECT_ID`, `<...>`)"
    ),
    rule!(
        "policy-unused-pattern",
        Level::Note,
        "An allowlist pattern that matches none of the scanned images"
    ),
    rule!(
        "policy-unused-rule",
        Level::Note,
        "A specific admission rule whose key matches no scanned pod context"
    ),
];

/// Look a rule up by id.
pub fn find(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id == id)
}

/// Position of a rule in [`RULES`] (SARIF `ruleIndex`).
pub fn index(id: &str) -> Option<usize> {
    RULES.iter().position(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_sorted_unique_and_documented() {
        for pair in RULES.windows(2) {
            assert!(pair[0].id < pair[1].id, "{} !< {}", pair[0].id, pair[1].id);
        }
        for rule in RULES {
            assert!(
                rule.doc.starts_with(&format!("# {}", rule.id)),
                "docs/rules/{}.md must start with '# {}'",
                rule.id,
                rule.id
            );
            assert!(
                rule.doc.len() > 200,
                "docs/rules/{}.md is too short",
                rule.id
            );
        }
    }
}
