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
        "attestor-missing",
        Level::Warning,
        "A REQUIRE_ATTESTATION rule needs an attestor whose definition was not supplied"
    ),
    rule!(
        "breakglass-deprecated-annotation",
        Level::Warning,
        "The legacy alpha.image-policy.k8s.io/break-glass annotation is used"
    ),
    rule!(
        "breakglass-in-kustomization",
        Level::Warning,
        "A kustomization or patch adds a break-glass marker that a raw scan cannot place"
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
        "cloudrun-binauthz-off",
        Level::Warning,
        "A Cloud Run service or job that Binary Authorization does not check"
    ),
    rule!(
        "cloudrun-platform-policy",
        Level::Note,
        "A Cloud Run service or job checked by a platform policy, evaluated online only"
    ),
    rule!(
        "context-cluster-unmapped",
        Level::Warning,
        "A GitOps descriptor deploys to a cluster that no `clusters:` entry maps to a cluster key"
    ),
    rule!(
        "context-external-source",
        Level::Note,
        "A GitOps descriptor deploys from a source outside this repository, which is not scanned"
    ),
    rule!(
        "context-generator-unsupported",
        Level::Note,
        "An ApplicationSet generator that cannot be expanded offline gives no contexts"
    ),
    rule!(
        "cv-non-conformant",
        Level::Warning,
        "An image does not conform to a platform policy: continuous validation will log its pods"
    ),
    rule!(
        "cv-undecided",
        Level::Note,
        "A platform-policy check needs registry or Artifact Analysis data: only the online evaluation decides it"
    ),
    rule!(
        "duplicate-key",
        Level::Warning,
        "A YAML mapping repeats a key; Kubernetes keeps only the last value"
    ),
    rule!(
        "exception-expired",
        Level::Error,
        "An approved exception has expired: the findings it matched count again"
    ),
    rule!(
        "exception-expiring",
        Level::Note,
        "An approved exception expires within 7 days"
    ),
    rule!(
        "exception-unused",
        Level::Warning,
        "An approved exception matches no finding of the scan"
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
        "image-digest-unresolved",
        Level::Warning,
        "A Cloud Run image given by tag under REQUIRE_ATTESTATION: decided on the digest at deploy"
    ),
    rule!(
        "internal-error",
        Level::Error,
        "Processing one file failed unexpectedly (a bug); the scan went on"
    ),
    rule!(
        "kustomize-not-rendered",
        Level::Note,
        "A Kustomization root was scanned raw: its transformers (images, namespace, patches, ...) were not applied"
    ),
    rule!(
        "manifest-invalid",
        Level::Error,
        "A file or document cannot be parsed, or a workload's pod spec is malformed"
    ),
    rule!(
        "no-manifests",
        Level::Warning,
        "Nothing scanned held a Kubernetes object (empty input, no candidate file)"
    ),
    rule!(
        "policy-cluster-unmatched",
        Level::Warning,
        "`--cluster` matches no clusterAdmissionRules key of a policy that has cluster rules"
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
        "policy-unresolved",
        Level::Error,
        "A Terraform or plan value that decides verdicts is not a literal (or unknown until apply); nothing is guessed"
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
    rule!(
        "render-failed",
        Level::Error,
        "A Kustomization root or Helm chart could not be rendered; see the message for what was checked instead"
    ),
    rule!(
        "render-unresolved",
        Level::Note,
        "A descriptor takes rendering variables from the cluster, which are not known offline"
    ),
    rule!(
        "terraform-value-unresolved",
        Level::Note,
        "A Terraform Cloud Run image or setting that is not a literal: never guessed"
    ),
    rule!(
        "workload-ref",
        Level::Note,
        "An Argo Rollout takes its pod template from another workload (spec.workloadRef)"
    ),
    rule!(
        "workload-route-inferred",
        Level::Note,
        "A kind binauthz-lint does not know holds a pod spec; its images were evaluated from where it was found"
    ),
];

/// Where the rule pages are published (SARIF `helpUri`: `<DOCS_BASE_URI><id>.md`).
pub const DOCS_BASE_URI: &str =
    "https://github.com/binauthz-lint/binauthz-lint/blob/main/docs/rules/";

impl RuleMeta {
    /// The rule's page on the web (SARIF `helpUri`).
    pub fn help_uri(&self) -> String {
        format!("{DOCS_BASE_URI}{}.md", self.id)
    }

    /// The id in PascalCase (SARIF `reportingDescriptor.name`): `image-denied` → `ImageDenied`.
    pub fn name(&self) -> String {
        self.id
            .split('-')
            .map(|word| {
                let mut chars = word.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    }

    /// The first paragraph of the page's "What it finds" section, on one line (SARIF
    /// `fullDescription`); the summary when the page has no such section.
    pub fn full_description(&self) -> String {
        let mut lines = self
            .doc
            .lines()
            .skip_while(|l| !l.starts_with("## What it finds"));
        if lines.next().is_none() {
            return self.summary.to_string();
        }
        let paragraph: Vec<&str> = lines
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::trim)
            .collect();
        if paragraph.is_empty() {
            self.summary.to_string()
        } else {
            paragraph.join(" ")
        }
    }
}

/// Look a rule up by id.
pub fn find(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id == id)
}

/// Look a rule up by id, ignoring ASCII case (`explain Image-Denied`).
pub fn find_ignoring_case(id: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id.trim()))
}

/// Rule ids close to `id` (a typo, or a part of an id such as `breakglass`), best first.
pub fn near(id: &str) -> Vec<&'static str> {
    let wanted = id.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &'static str)> = RULES
        .iter()
        .filter_map(|r| {
            let distance = crate::policy::distance(&wanted, r.id);
            if distance <= (r.id.len() / 4).max(2) {
                Some((distance, r.id))
            } else if r.id.contains(&wanted) && wanted.len() >= 4 {
                Some((r.id.len(), r.id))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, id)| id).collect()
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
            assert!(
                rule.doc.contains("\n## What it finds\n"),
                "docs/rules/{}.md needs a 'What it finds' section (SARIF fullDescription)",
                rule.id
            );
            assert_eq!(
                rule.help_uri(),
                format!(
                    "https://github.com/binauthz-lint/binauthz-lint/blob/main/docs/rules/{}.md",
                    rule.id
                )
            );
            assert!(!rule.full_description().is_empty());
        }
    }

    /// Every page in docs/rules/ belongs to a rule, and every rule has its page on disk (the
    /// file `helpUri` points at once published).
    #[test]
    fn docs_pages_and_rules_match() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
        let mut pages: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
            .collect();
        pages.sort();
        let expected: Vec<String> = RULES.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(pages, expected, "docs/rules/*.md and RULES differ");
        for rule in RULES {
            let on_disk = std::fs::read_to_string(dir.join(format!("{}.md", rule.id))).unwrap();
            assert_eq!(on_disk, rule.doc, "{}: embedded page is stale", rule.id);
        }
    }

    #[test]
    fn lookup_ignores_case_and_suggests() {
        assert_eq!(
            find_ignoring_case("Image-Denied").map(|r| r.id),
            Some("image-denied")
        );
        assert_eq!(near("image-denid"), vec!["image-denied"]);
        assert_eq!(near("breakglass-use"), vec!["breakglass-used"]);
        assert!(near("breakglass").len() >= 2);
        assert!(near("zzzz").is_empty());
    }

    #[test]
    fn names_and_descriptions() {
        let rule = find("image-denied-dryrun").unwrap();
        assert_eq!(rule.name(), "ImageDeniedDryrun");
        assert!(
            find("image-denied")
                .unwrap()
                .full_description()
                .starts_with(
                    "An image of a workload that the cluster's Binary Authorization enforcer"
                )
        );
    }
}
