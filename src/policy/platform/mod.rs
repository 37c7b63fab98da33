//! Check-based platform policies (GKE continuous validation, contract §15).
//!
//! A platform policy is what `gcloud beta container binauthz policy create --platform=gke
//! --policy-file` reads (`gkePolicy: {imageAllowlist, checkSets}`). Admission never uses
//! it: continuous validation (CV) evaluates running pods against it and logs the ones that
//! violate it, break-glass or not. The pipeline mirrors the project policy's:
//! `text → yaml::Tree → load (validation with spans) → PlatformPolicy`, then
//! [`PlatformPolicy::evaluate_pod`] decides what is decidable offline (always-deny,
//! trusted directories, simple signing with supplied attestations) and leaves the rest
//! `undecided` (gcloud's `ERROR`).

mod eval;
mod load;
mod patterns;
mod response;

use std::path::Path;

use super::decision::PolicyRef;
use super::{Pattern, PolicyDiagnostic, PolicyError};

pub use eval::{
    CheckSetRef, CheckVerdict, EvalInputs, ImageVerdict, ONLINE_ONLY, PodVerdict, ScopeJson,
    Verdict,
};
pub use patterns::{SourceRepoPattern, TrustedDirPattern};
pub use response::{PodDescription, evaluate_response};

/// Where a policy exempts images: `allowPattern` entries compiled with the `namePattern`
/// grammar (the field's own grammar is undocumented, spec A21).
pub type Allowlist = Vec<Pattern>;

/// A validated GKE platform policy.
#[derive(Debug)]
pub struct PlatformPolicy {
    /// The file as given (`workloads[].cv[].policy`).
    source: String,
    /// `name: projects/P/platforms/gke/policies/ID`, when the file has one.
    pub name: Option<String>,
    /// `gkePolicy.imageAllowlist`: consulted before any check set.
    pub allowlist: Allowlist,
    pub check_sets: Vec<CheckSet>,
}

impl PlatformPolicy {
    /// The file the policy was read from, as given on the command line or in the config.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// One `gkePolicy.checkSets[]` entry.
#[derive(Debug)]
pub struct CheckSet {
    pub display_name: Option<String>,
    pub scope: Scope,
    pub allowlist: Allowlist,
    pub checks: Vec<Check>,
    /// Where the set is written (findings relate to it).
    pub source: PolicyRef,
}

/// Which pods a check set applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// No scope (or an empty one): every namespace and service account.
    All,
    Namespace(String),
    ServiceAccount {
        namespace: String,
        name: String,
    },
}

impl Scope {
    /// Does the scope cover a pod in `namespace` running as `service_account`?
    pub fn covers(&self, namespace: &str, service_account: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Namespace(ns) => ns == namespace,
            Scope::ServiceAccount {
                namespace: ns,
                name,
            } => ns == namespace && name == service_account,
        }
    }
}

/// One check of a check set.
#[derive(Debug)]
pub struct Check {
    pub display_name: Option<String>,
    pub allowlist: Allowlist,
    pub kind: CheckKind,
    /// Where the check is written (findings relate to it).
    pub source: PolicyRef,
}

/// The kind of a check (a `Check` holds exactly one).
#[derive(Debug)]
pub enum CheckKind {
    AlwaysDeny,
    TrustedDirectory(Vec<TrustedDirPattern>),
    SimpleSigning {
        /// One attestor per `attestationAuthenticators` entry (inline PKIX keys).
        authenticators: Vec<crate::attest::Attestor>,
        /// `containerAnalysisAttestationProjects` (`projects/P`).
        projects: Vec<String>,
    },
    ImageFreshness {
        max_upload_age_days: i64,
    },
    Vulnerability,
    Slsa,
    SigstoreSignature,
}

impl CheckKind {
    /// The check type as continuous validation logs it (`checkType`) and `policy evaluate`
    /// prints it (`CheckResult.type`).
    pub fn type_name(&self) -> &'static str {
        match self {
            CheckKind::AlwaysDeny => "AlwaysDeny",
            CheckKind::TrustedDirectory(_) => "TrustedDirectoryCheck",
            CheckKind::SimpleSigning { .. } => "SimpleSigningAttestationCheck",
            CheckKind::ImageFreshness { .. } => "ImageFreshnessCheck",
            CheckKind::Vulnerability => "VulnerabilityCheck",
            CheckKind::Slsa => "SlsaCheck",
            CheckKind::SigstoreSignature => "SigstoreSignatureCheck",
        }
    }
}

/// A platform policy that loaded, with its warnings.
#[derive(Debug)]
pub struct LoadedPlatformPolicy {
    pub policy: PlatformPolicy,
    pub diagnostics: Vec<PolicyDiagnostic>,
    pub source_text: String,
}

/// Does the text look like a platform policy (a top-level `gkePolicy` or
/// `cloudRunPolicy`)? Used to tell a user who passed one as a project policy where it goes.
pub fn looks_like_platform_policy(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start_matches(['{', ' ', '"']);
        line.starts_with("gkePolicy") || line.starts_with("cloudRunPolicy")
    })
}

/// Load and validate a platform policy file.
pub fn load_platform_policy_file(
    path: &Path,
    display: &str,
) -> Result<LoadedPlatformPolicy, PolicyError> {
    let text = super::read_text(path, display)?;
    load_platform_policy_str(&text, display)
}

/// Load and validate a platform policy from text; `display` names it in diagnostics.
pub fn load_platform_policy_str(
    text: &str,
    display: &str,
) -> Result<LoadedPlatformPolicy, PolicyError> {
    let (value, diagnostics) = load::load(text, display);
    match value {
        Some(policy) => Ok(LoadedPlatformPolicy {
            policy,
            diagnostics,
            source_text: text.to_string(),
        }),
        None => Err(PolicyError {
            diagnostics,
            source_text: text.to_string(),
            other_texts: Vec::new(),
        }),
    }
}
