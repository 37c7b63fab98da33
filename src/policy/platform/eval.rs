//! Offline evaluation of a platform policy (contract §15, sources-wave3 §1.2): policy
//! `imageAllowlist` → the first check set whose scope covers the pod → its `imageAllowlist`
//! → every check (a check's own allowlist skips it). Verdicts roll up as the API documents:
//! non-conformance outranks an error (here `undecided`), which outranks conformance, at the
//! check-set, image and pod levels. Break-glass plays no part: continuous validation logs
//! break-glass pods like any other.

use std::time::SystemTime;

use serde::Serialize;

use crate::attest::{AttestationStore, image_digest};

use super::{Check, CheckKind, CheckSet, PlatformPolicy, Scope};

/// What `evaluate` says of checks it cannot decide offline.
pub const ONLINE_ONLY: &str = "needs registry or Artifact Analysis data: evaluated online only";

/// A verdict at any level. `Undecided` is the API's `ERROR`: the check could not be decided
/// (here: not offline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Conformant,
    Undecided,
    NonConformant,
}

impl Verdict {
    /// `conformant`, `undecided`, `non-conformant` (the report's values).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Conformant => "conformant",
            Verdict::Undecided => "undecided",
            Verdict::NonConformant => "non-conformant",
        }
    }

    /// The API's enum value (`EvaluateGkePolicyResponse`).
    pub fn api(self) -> &'static str {
        match self {
            Verdict::Conformant => "CONFORMANT",
            Verdict::Undecided => "ERROR",
            Verdict::NonConformant => "NON_CONFORMANT",
        }
    }

    /// Roll several verdicts up: non-conformant > undecided > conformant; none → conformant.
    pub fn roll_up(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Conformant)
    }
}

/// The offline inputs of the decidable checks.
#[derive(Clone, Copy)]
pub struct EvalInputs<'a> {
    /// `--attestations`: decides simple-signing checks; `None` leaves them undecided.
    pub attestations: Option<&'a AttestationStore>,
    pub now: SystemTime,
}

impl Default for EvalInputs<'_> {
    fn default() -> Self {
        EvalInputs {
            attestations: None,
            now: SystemTime::now(),
        }
    }
}

/// The result of one policy for one pod (`workloads[].cv[]` without `policy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodVerdict {
    pub verdict: Verdict,
    pub images: Vec<ImageVerdict>,
}

/// The result for one image of the pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageVerdict {
    pub image: String,
    pub verdict: Verdict,
    /// The pattern that exempted the whole image: the policy's, or the check set's.
    pub allowlist_pattern: Option<String>,
    /// The check set evaluated; `None` when the policy allowlist matched or there are no
    /// check sets.
    pub check_set: Option<CheckSetRef>,
    pub checks: Vec<CheckVerdict>,
    /// True when `allowlist_pattern` is the policy-level one (`ImageResult.allowlistResult`).
    #[serde(skip)]
    pub policy_allowlisted: bool,
    /// `ImageResult.explanation`: only when no check set was evaluated.
    #[serde(skip)]
    pub explanation: Option<String>,
}

/// Which check set was evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckSetRef {
    pub index: usize,
    pub display_name: Option<String>,
    /// `{"kubernetesNamespace": NS}` / `{"kubernetesServiceAccount": "NS:SA"}`; null when
    /// unscoped.
    pub scope: Option<ScopeJson>,
    /// `CheckSetResult.explanation`: only when no check was evaluated.
    #[serde(skip)]
    pub explanation: Option<String>,
}

/// A scope as the API writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_service_account: Option<String>,
}

impl ScopeJson {
    fn of(scope: &Scope) -> Option<ScopeJson> {
        match scope {
            Scope::All => None,
            Scope::Namespace(ns) => Some(ScopeJson {
                kubernetes_namespace: Some(ns.clone()),
                kubernetes_service_account: None,
            }),
            Scope::ServiceAccount { namespace, name } => Some(ScopeJson {
                kubernetes_namespace: None,
                kubernetes_service_account: Some(format!("{namespace}:{name}")),
            }),
        }
    }
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckVerdict {
    pub index: usize,
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub verdict: Verdict,
    /// The check's own allowlist pattern that skipped it (the check then counts as passed).
    pub allowlist_pattern: Option<String>,
    pub explanation: String,
    /// Where the check is written.
    #[serde(skip)]
    pub source: Option<crate::policy::decision::PolicyRef>,
}

impl PlatformPolicy {
    /// The check set continuous validation evaluates for a pod: the first whose scope
    /// covers it (the list is validated to be in decreasing specificity).
    pub fn check_set_for(
        &self,
        namespace: &str,
        service_account: &str,
    ) -> Option<(usize, &CheckSet)> {
        self.check_sets
            .iter()
            .enumerate()
            .find(|(_, set)| set.scope.covers(namespace, service_account))
    }

    /// Evaluate images outside any pod (gcloud's `evaluate --image`): "this mode of
    /// evaluation will always use the default (unscoped) checkset".
    pub fn evaluate_images(&self, images: &[&str], inputs: &EvalInputs<'_>) -> PodVerdict {
        let set = self
            .check_sets
            .iter()
            .enumerate()
            .find(|(_, set)| set.scope == Scope::All);
        self.evaluate_with(set, images, inputs)
    }

    /// Evaluate every image of one pod.
    pub fn evaluate_pod(
        &self,
        namespace: &str,
        service_account: &str,
        images: &[&str],
        inputs: &EvalInputs<'_>,
    ) -> PodVerdict {
        let set = self.check_set_for(namespace, service_account);
        self.evaluate_with(set, images, inputs)
    }

    fn evaluate_with(
        &self,
        set: Option<(usize, &CheckSet)>,
        images: &[&str],
        inputs: &EvalInputs<'_>,
    ) -> PodVerdict {
        let images: Vec<ImageVerdict> = images
            .iter()
            .map(|image| self.evaluate_image(set, image, inputs))
            .collect();
        PodVerdict {
            verdict: Verdict::roll_up(images.iter().map(|i| i.verdict)),
            images,
        }
    }

    fn evaluate_image(
        &self,
        set: Option<(usize, &CheckSet)>,
        image: &str,
        inputs: &EvalInputs<'_>,
    ) -> ImageVerdict {
        let mut out = ImageVerdict {
            image: image.to_string(),
            verdict: Verdict::Conformant,
            allowlist_pattern: None,
            check_set: None,
            checks: Vec::new(),
            policy_allowlisted: false,
            explanation: None,
        };
        if let Some(pattern) = self.allowlist.iter().find(|p| p.matches(image)) {
            out.allowlist_pattern = Some(pattern.text.clone());
            out.policy_allowlisted = true;
            out.explanation = Some(format!(
                "Image is exempted by the policy's image allowlist pattern `{}`",
                pattern.text
            ));
            return out;
        }
        let Some((index, set)) = set else {
            out.explanation =
                Some("The policy has no check sets, so every image is allowed".to_string());
            return out;
        };
        let mut set_ref = CheckSetRef {
            index,
            display_name: set.display_name.clone(),
            scope: ScopeJson::of(&set.scope),
            explanation: None,
        };
        if let Some(pattern) = set.allowlist.iter().find(|p| p.matches(image)) {
            out.allowlist_pattern = Some(pattern.text.clone());
            set_ref.explanation = Some(format!(
                "Image is exempted by the check set's image allowlist pattern `{}`; no check \
                 was evaluated",
                pattern.text
            ));
            out.check_set = Some(set_ref);
            return out;
        }
        if set.checks.is_empty() {
            set_ref.explanation =
                Some("The check set has no checks, so every image is allowed".to_string());
        }
        out.checks = set
            .checks
            .iter()
            .enumerate()
            .map(|(i, check)| evaluate_check(i, check, image, inputs))
            .collect();
        out.verdict = Verdict::roll_up(out.checks.iter().map(|c| c.verdict));
        out.check_set = Some(set_ref);
        out
    }
}

fn evaluate_check(
    index: usize,
    check: &Check,
    image: &str,
    inputs: &EvalInputs<'_>,
) -> CheckVerdict {
    let mut out = CheckVerdict {
        index,
        display_name: check.display_name.clone(),
        kind: check.kind.type_name(),
        verdict: Verdict::Conformant,
        allowlist_pattern: None,
        explanation: String::new(),
        source: Some(check.source.clone()),
    };
    if let Some(pattern) = check.allowlist.iter().find(|p| p.matches(image)) {
        out.allowlist_pattern = Some(pattern.text.clone());
        out.explanation = format!(
            "Image is exempted by the check's image allowlist pattern `{}`; the check was not \
             evaluated",
            pattern.text
        );
        return out;
    }
    let (verdict, explanation) = match &check.kind {
        CheckKind::AlwaysDeny => (
            Verdict::NonConformant,
            "The check always denies (`alwaysDeny: true`)".to_string(),
        ),
        CheckKind::TrustedDirectory(patterns) => match patterns.iter().find(|p| p.trusts(image)) {
            Some(p) => (
                Verdict::Conformant,
                format!("Image is in a trusted directory (pattern `{}`)", p.text),
            ),
            None => {
                let listed = patterns
                    .iter()
                    .map(|p| format!("`{}`", p.text))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    Verdict::NonConformant,
                    format!("Image is not in a trusted directory (trusted: {listed})"),
                )
            }
        },
        CheckKind::SimpleSigning {
            authenticators,
            projects,
        } => simple_signing(image, authenticators, projects, inputs),
        CheckKind::ImageFreshness { .. }
        | CheckKind::Vulnerability
        | CheckKind::Slsa
        | CheckKind::SigstoreSignature => (Verdict::Undecided, format!("Undecided: {ONLINE_ONLY}")),
    };
    out.verdict = verdict;
    out.explanation = explanation;
    out
}

fn simple_signing(
    image: &str,
    authenticators: &[crate::attest::Attestor],
    projects: &[String],
    inputs: &EvalInputs<'_>,
) -> (Verdict, String) {
    let Some(store) = inputs.attestations else {
        return (
            Verdict::Undecided,
            "Undecided: attestation occurrences not supplied (pass them with --attestations)"
                .to_string(),
        );
    };
    let Some(digest) = image_digest(image) else {
        // Continuous validation checks the digest the running pod resolved; a tag alone
        // does not say which one that is.
        return (
            Verdict::Undecided,
            "Undecided: the image is not referenced by digest, and continuous validation checks \
             the digest the pod runs; pin the image by digest to decide this check offline"
                .to_string(),
        );
    };
    let attestors: Vec<&crate::attest::Attestor> = authenticators.iter().collect();
    let result =
        crate::attest::check_simple_signing(digest, &attestors, projects, store, inputs.now);
    if result.verified {
        (
            Verdict::Conformant,
            format!("Attestation {}", result.detail),
        )
    } else {
        (
            Verdict::NonConformant,
            format!("No valid attestation: {}", result.detail),
        )
    }
}
