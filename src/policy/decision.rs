//! The result of evaluating one image of one pod against the policy.
//!
//! These types are the seam between extraction (which finds images) and the policy
//! evaluator (which decides); the report renders them as the contract's `images[]` fields.

use serde::Serialize;

/// Allow or deny for one image, by the policy alone (break-glass is applied later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
    /// Cloud Run only (contract §12.3): the verdict is taken on what the deploy resolves (a
    /// tag's digest) or online (a platform policy), so this scan cannot decide it.
    Unresolved,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Unresolved => "unresolved",
        }
    }
}

/// Why the decision was taken (contract §2 `reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    SystemPolicy,
    Allowlist,
    AlwaysAllow,
    AlwaysDeny,
    Attested,
    AttestationMissing,
    AttestationInvalid,
    NotByDigest,
    /// Cloud Run resolves a tag to a digest at deploy and checks attestations on it.
    TagResolvedAtDeploy,
    /// A Cloud Run object names a platform policy: evaluated online only.
    PlatformPolicy,
    /// A Terraform image that is not a literal (`var.x`, interpolation): never guessed.
    NotALiteral,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SystemPolicy => "system-policy",
            Reason::Allowlist => "allowlist",
            Reason::AlwaysAllow => "always-allow",
            Reason::AlwaysDeny => "always-deny",
            Reason::Attested => "attested",
            Reason::AttestationMissing => "attestation-missing",
            Reason::AttestationInvalid => "attestation-invalid",
            Reason::NotByDigest => "not-by-digest",
            Reason::TagResolvedAtDeploy => "tag-resolved-at-deploy",
            Reason::PlatformPolicy => "platform-policy",
            Reason::NotALiteral => "not-a-literal",
        }
    }
}

/// Whether the deciding rule blocks or only logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    Enforced,
    Dryrun,
}

/// One required attestor's verdict for one image (contract §2 `attestors[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttestorResult {
    pub attestor: String,
    pub verified: bool,
    pub detail: String,
}

/// A place in the policy file (for related locations: "the rule that decided").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRef {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// What is there, e.g. "default admission rule" or "allowlist pattern gcr.io/x/*".
    pub label: String,
}

/// The policy's verdict on one image. Serialised (flattened into the report's `images[]`)
/// as the contract's decision fields; the message and source are for findings only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageDecision {
    pub decision: Decision,
    pub reason: Reason,
    /// `default`, `cluster:<key>`, `namespace:<key>`, `serviceaccount:<key>`, `istio:<key>`;
    /// `None` when the image is exempt.
    pub rule: Option<String>,
    /// `None` when the image is exempt.
    pub enforcement: Option<Enforcement>,
    /// The allowlist / system-policy pattern that exempted the image.
    pub pattern: Option<String>,
    pub attestors: Vec<AttestorResult>,
    /// Why it was denied, in Binary Authorization's own wording where one exists
    /// (e.g. "Image X denied by Binary Authorization default admission rule. Denied by
    /// always_deny admission rule"). Empty for allowed images.
    #[serde(skip)]
    pub message: String,
    /// The rule or pattern in the policy file that decided, when the policy came from a file.
    #[serde(skip)]
    pub source: Option<PolicyRef>,
}

/// Where the pod would run, for rule selection.
#[derive(Clone, Copy, Debug)]
pub struct PodContext<'a> {
    /// `LOCATION.NAME` from `--cluster`.
    pub cluster: Option<&'a str>,
    pub namespace: &'a str,
    pub service_account: &'a str,
}

impl ImageDecision {
    /// An image of a Cloud Run object that names a platform policy: decided online only
    /// (contract §12.1).
    pub fn platform_policy() -> ImageDecision {
        ImageDecision::unresolved(Reason::PlatformPolicy)
    }

    /// A verdict this scan cannot take, for the reason given (contract §12).
    pub fn unresolved(reason: Reason) -> ImageDecision {
        ImageDecision {
            decision: Decision::Unresolved,
            reason,
            rule: None,
            enforcement: None,
            pattern: None,
            attestors: Vec::new(),
            message: String::new(),
            source: None,
        }
    }

    /// True when `message` follows a wording that was never observed from GKE: namespace and
    /// service-account rules are worded like the documented cluster-rule message (spec A15).
    pub fn message_is_synthetic(&self) -> bool {
        !self.message.is_empty()
            && self
                .rule
                .as_deref()
                .is_some_and(|r| r.starts_with("namespace:") || r.starts_with("serviceaccount:"))
    }
}
