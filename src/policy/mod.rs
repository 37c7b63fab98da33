//! Binary Authorization project policy: loading, validation, evaluation and lints.
//!
//! The pipeline is `text → yaml::Tree → load::Loader (validation, spans) → Policy`; a
//! `Policy` is compiled once (allowlist patterns, rule lookup tables) so that
//! [`Policy::evaluate`] is a pure, allocation-light function of a pod context and an image
//! string. Diagnostics point into the policy file (cargo-deny style, ARCHITECTURE §3.4) and
//! say who would refuse the file: gcloud's client-side decoder, the server, or only us
//! (spec §1.4b).

mod eval;
mod lint;
mod load;
pub(crate) use load::{describe, suggest};
pub mod decision;
pub mod pattern;
pub mod platform;
mod render;
pub mod show;
pub mod sources;
mod system;

use std::collections::HashMap;
use std::path::Path;

use crate::policy::decision::{Enforcement, PolicyRef};
use crate::yaml::Span;

pub(crate) use load::distance;
pub use pattern::Pattern;
pub use render::render_diagnostics;
pub use sources::{SourceInfo, SourceKind, SourceSpec};
pub use system::{BUILTIN_SYSTEM_PATTERNS, SystemPolicy};

/// Level of a policy diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Who would refuse a policy file (spec §1.4b): the answer tells the user whether
/// `gcloud container binauthz policy import` fails at once or only when the server validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refuser {
    /// gcloud's client-side decoder fails before any network call.
    Gcloud,
    /// gcloud decodes the file, the Binary Authorization server rejects the policy.
    Server,
    /// Only binauthz-lint refuses it (a decision of ours, spec §10).
    Linter,
}

impl Refuser {
    /// The clause appended to error messages.
    pub fn phrase(self) -> &'static str {
        match self {
            Refuser::Gcloud => "gcloud refuses this file",
            Refuser::Server => {
                "gcloud accepts this file, but the Binary Authorization server rejects the policy"
            }
            Refuser::Linter => "binauthz-lint refuses this; Google's tools may accept it",
        }
    }
}

/// A finding about the policy file itself, located in that file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDiagnostic {
    pub severity: Severity,
    /// `policy-invalid`, `policy-lenient-form`, `policy-placeholder`, ... (see `rules.rs`).
    pub rule_id: &'static str,
    pub file: String,
    /// 1-based; 0 when the diagnostic has no position (e.g. the file cannot be read).
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The full message; for errors it says who would refuse the file.
    pub message: String,
    /// Who would refuse the file (errors only).
    pub refuser: Option<Refuser>,
    /// Short text shown under the underlined span.
    pub label: String,
    /// A suggestion ("did you mean `REQUIRE_ATTESTATION`?").
    pub help: Option<String>,
}

impl PolicyDiagnostic {
    pub(crate) fn new(
        severity: Severity,
        rule_id: &'static str,
        file: &str,
        span: Span,
        message: String,
    ) -> PolicyDiagnostic {
        PolicyDiagnostic {
            severity,
            rule_id,
            file: file.to_string(),
            line: span.start.line,
            column: span.start.column,
            end_line: span.end.line,
            end_column: span.end.column,
            message,
            refuser: None,
            label: String::new(),
            help: None,
        }
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A policy that loaded, with its warnings and notes.
#[derive(Clone, Debug)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub diagnostics: Vec<PolicyDiagnostic>,
    /// The file's text, for [`render_diagnostics`] (and later lint notes) without re-reading.
    /// For a Terraform folder, the file that holds the policy resource.
    pub source_text: String,
    /// Attestors the source defines (Terraform, Config Connector): they verify attestations
    /// like `--attestors` input.
    pub attestors: crate::attest::AttestorDefinitions,
}

/// A policy that cannot be used (exit code 2).
#[derive(Clone, Debug)]
pub struct PolicyError {
    /// At least one has severity `Error`; warnings found on the way are kept too.
    pub diagnostics: Vec<PolicyDiagnostic>,
    /// The file's text, for [`render_diagnostics`] (empty when it could not be read).
    pub source_text: String,
    /// `(file, text)` of every file of a multi-file source (a Terraform folder), so each
    /// diagnostic is shown with its own file's line.
    pub other_texts: Vec<(String, String)>,
}

impl PolicyError {
    /// Render every diagnostic, rustc-style.
    pub fn render(&self, color: bool) -> String {
        if self.other_texts.is_empty() {
            return render_diagnostics(&self.diagnostics, &self.source_text, color);
        }
        self.diagnostics
            .iter()
            .map(|d| {
                let text = self
                    .other_texts
                    .iter()
                    .find(|(f, _)| *f == d.file)
                    .map_or(self.source_text.as_str(), |(_, t)| t.as_str());
                render_diagnostics(std::slice::from_ref(d), text, color)
            })
            .collect()
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for PolicyError {}

/// `evaluationMode` of an admission rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvaluationMode {
    AlwaysAllow,
    AlwaysDeny,
    RequireAttestation,
}

/// Which map a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Default,
    Cluster,
    Namespace,
    ServiceAccount,
    Istio,
}

impl RuleKind {
    /// The policy key of the map (`clusterAdmissionRules`, ...).
    pub fn field(self) -> &'static str {
        match self {
            RuleKind::Default => "defaultAdmissionRule",
            RuleKind::Cluster => "clusterAdmissionRules",
            RuleKind::Namespace => "kubernetesNamespaceAdmissionRules",
            RuleKind::ServiceAccount => "kubernetesServiceAccountAdmissionRules",
            RuleKind::Istio => "istioServiceIdentityAdmissionRules",
        }
    }

    /// Prefix of the contract's `rule` value (`cluster:<key>`).
    fn rule_prefix(self) -> &'static str {
        match self {
            RuleKind::Default => "default",
            RuleKind::Cluster => "cluster",
            RuleKind::Namespace => "namespace",
            RuleKind::ServiceAccount => "serviceaccount",
            RuleKind::Istio => "istio",
        }
    }

    /// Wording of denial messages: "cluster admission rule for KEY".
    pub(crate) fn message_noun(self) -> &'static str {
        match self {
            RuleKind::Default => "default",
            RuleKind::Cluster => "cluster",
            RuleKind::Namespace => "namespace",
            RuleKind::ServiceAccount => "service account",
            RuleKind::Istio => "Istio service identity",
        }
    }
}

/// One admission rule, ready to decide.
#[derive(Clone, Debug)]
pub struct AdmissionRule {
    pub kind: RuleKind,
    /// The map key exactly as written; empty for the default rule.
    pub key: String,
    pub evaluation: EvaluationMode,
    pub enforcement: Enforcement,
    /// Attestor resource names, in policy order.
    pub attestors: Vec<String>,
    /// Contract `rule` value, precomputed so that evaluation only clones it.
    label: String,
    /// "Binary Authorization cluster admission rule for KEY", precomputed.
    description: String,
    source: Option<PolicyRef>,
}

impl AdmissionRule {
    pub(crate) fn new(
        kind: RuleKind,
        key: &str,
        evaluation: EvaluationMode,
        enforcement: Enforcement,
        attestors: Vec<String>,
        source: Option<PolicyRef>,
    ) -> AdmissionRule {
        let (label, description) = if kind == RuleKind::Default {
            (
                "default".to_string(),
                "Binary Authorization default admission rule".to_string(),
            )
        } else {
            (
                format!("{}:{key}", kind.rule_prefix()),
                format!(
                    "Binary Authorization {} admission rule for {key}",
                    kind.message_noun()
                ),
            )
        };
        AdmissionRule {
            kind,
            key: key.to_string(),
            evaluation,
            enforcement,
            attestors,
            label,
            description,
            source,
        }
    }

    /// The contract's `rule` value: `default`, `cluster:<key>`, ...
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Where the rule is written in the policy file.
    pub fn source(&self) -> Option<&PolicyRef> {
        self.source.as_ref()
    }
}

/// One `admissionWhitelistPatterns` entry (or a system-policy pattern).
#[derive(Clone, Debug)]
pub struct AllowPattern {
    pub pattern: Pattern,
    pub source: Option<PolicyRef>,
}

/// `globalPolicyEvaluationMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalMode {
    Enable,
    Disable,
}

/// A validated, compiled project policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `workloads[].policy`: `FILE` or `FILE#ADDRESS`.
    source: String,
    /// JSON `policy.source`: kind, file and address (contract §13).
    origin: SourceInfo,
    /// `description`, for `policy show`.
    pub description: Option<String>,
    pub global_mode: GlobalMode,
    /// False when the file has no `globalPolicyEvaluationMode` (A10: means DISABLE).
    pub global_mode_written: bool,
    pub allowlist: Vec<AllowPattern>,
    pub default_rule: AdmissionRule,
    /// Specific rules in file order (all maps; a valid policy uses at most one).
    pub specific: Vec<AdmissionRule>,
    /// Lookup tables into `specific`, built once so `evaluate` does not allocate.
    by_cluster: HashMap<String, usize>,
    by_namespace: HashMap<String, usize>,
    /// namespace → service account → rule (nested so lookups borrow the context's `&str`s).
    by_service_account: HashMap<String, HashMap<String, usize>>,
    system: SystemPolicy,
    /// The project of the policy's `name` (`projects/PROJECT/policy`), for audit events.
    project: Option<String>,
    /// `--attestors` / `--attestations`, shared by every clone (verification results are
    /// cached inside the store).
    attestation: std::sync::Arc<AttestationInputs>,
}

/// The offline inputs of REQUIRE_ATTESTATION rules.
#[derive(Debug, Default)]
pub struct AttestationInputs {
    pub attestors: Option<crate::attest::AttestorSet>,
    pub store: Option<crate::attest::AttestationStore>,
}

impl Policy {
    /// Use these attestors and attestation occurrences for REQUIRE_ATTESTATION rules.
    pub fn with_attestations(
        mut self,
        attestors: Option<crate::attest::AttestorSet>,
        store: Option<crate::attest::AttestationStore>,
    ) -> Policy {
        self.attestation = std::sync::Arc::new(AttestationInputs { attestors, store });
        self
    }

    /// The attestation inputs given with [`Policy::with_attestations`].
    pub fn attestation_inputs(&self) -> &AttestationInputs {
        &self.attestation
    }

    /// What a new project gets: default rule ALWAYS_ALLOW, enforced, system policy enabled.
    pub fn builtin_default() -> Policy {
        Policy::from_parts(
            "<built-in default>".to_string(),
            GlobalMode::Enable,
            true,
            Vec::new(),
            AdmissionRule::new(
                RuleKind::Default,
                "",
                EvaluationMode::AlwaysAllow,
                Enforcement::Enforced,
                Vec::new(),
                None,
            ),
            Vec::new(),
        )
    }

    pub(crate) fn from_parts(
        source: String,
        global_mode: GlobalMode,
        global_mode_written: bool,
        allowlist: Vec<AllowPattern>,
        default_rule: AdmissionRule,
        specific: Vec<AdmissionRule>,
    ) -> Policy {
        let mut by_cluster = HashMap::new();
        let mut by_namespace = HashMap::new();
        let mut by_service_account: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, rule) in specific.iter().enumerate() {
            match rule.kind {
                RuleKind::Cluster => {
                    by_cluster.insert(rule.key.clone(), i);
                }
                RuleKind::Namespace => {
                    by_namespace.insert(rule.key.clone(), i);
                }
                RuleKind::ServiceAccount => {
                    if let Some((ns, sa)) = rule.key.split_once(':') {
                        by_service_account
                            .entry(ns.to_string())
                            .or_default()
                            .insert(sa.to_string(), i);
                    }
                }
                // Istio rules are kept for lints only: GKE pod admission does not apply them
                // (spec A16).
                RuleKind::Istio | RuleKind::Default => {}
            }
        }
        Policy {
            origin: SourceInfo {
                kind: SourceKind::Gcloud,
                file: source.clone(),
                address: None,
            },
            description: None,
            source,
            global_mode,
            global_mode_written,
            allowlist,
            default_rule,
            specific,
            by_cluster,
            by_namespace,
            by_service_account,
            system: SystemPolicy::builtin(),
            project: None,
            attestation: std::sync::Arc::default(),
        }
    }

    /// The project named by the policy's `name: projects/PROJECT/policy`, when it has one.
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// `workloads[].policy` of the JSON report: the file as given (`FILE#ADDRESS` when an
    /// address selected the policy), or `<built-in default>`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `policy.source` of the JSON report (contract §13).
    pub fn origin(&self) -> &SourceInfo {
        &self.origin
    }

    /// Share another policy's attestors and occurrences (loaded once per run, whatever the
    /// number of policies that use them).
    pub fn with_attestations_of(mut self, other: &Policy) -> Policy {
        self.attestation = std::sync::Arc::clone(&other.attestation);
        self
    }

    /// Use an exported system policy instead of the built-in approximate list.
    pub fn with_system_policy(mut self, sp: SystemPolicy) -> Policy {
        self.system = sp;
        self
    }

    /// The system policy consulted when `globalPolicyEvaluationMode` is `ENABLE`.
    pub fn system_policy(&self) -> &SystemPolicy {
        &self.system
    }
}

/// Largest policy file we read; real ones are a few kilobytes.
pub(crate) const MAX_POLICY_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn read_text(path: &Path, display: &str) -> Result<String, PolicyError> {
    let fail = |message: String| PolicyError {
        diagnostics: vec![PolicyDiagnostic::new(
            Severity::Error,
            "policy-invalid",
            display,
            Span::default(),
            message,
        )],
        source_text: String::new(),
        other_texts: Vec::new(),
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            fail(format!("{display} not found: no such file"))
        } else {
            fail(format!("cannot read {display}: {e}"))
        }
    })?;
    if meta.len() > MAX_POLICY_BYTES {
        return Err(fail(format!(
            "{display} is {} bytes; a policy file is at most {MAX_POLICY_BYTES} bytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read {display}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| fail(format!("{display} is not UTF-8 text")))
}

/// When a file given as the policy is a Kubernetes manifest (top-level `apiVersion` and
/// `kind`), the hint to add to "invalid policy": manifests are scanned, not loaded as policy.
pub fn manifest_hint(text: &str) -> Option<String> {
    let top_level = |key: &str| {
        text.lines().find_map(|line| {
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|value| {
                    value
                        .trim()
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_string()
                })
        })
    };
    let kind = top_level("kind")?;
    top_level("apiVersion")?;
    // Config Connector policies and attestors are policy sources (contract §13): their
    // errors need no hint.
    if kind.starts_with("BinaryAuthorization") {
        return None;
    }
    Some(format!(
        "this looks like a Kubernetes manifest (`kind: {kind}`), not a Binary Authorization policy: give manifests as paths to scan, and `--policy` the output of `gcloud container binauthz policy export`"
    ))
}

/// Load and validate a project policy from any source of contract §13 (detected by
/// content): `path` may be a folder of `.tf` files and may end in `#ADDRESS`.
pub fn load_policy_file(path: &Path, display: &str) -> Result<LoadedPolicy, PolicyError> {
    let spec = SourceSpec::parse(path, display, Path::exists);
    sources::load(&spec, &sources::WorkTree)
}

/// Load and validate a single-file policy source from text; `display` names it in
/// diagnostics (and may end in `#ADDRESS`).
pub fn load_policy_str(text: &str, display: &str) -> Result<LoadedPolicy, PolicyError> {
    let spec = SourceSpec::parse(Path::new(display), display, |_| false);
    sources::load_text(text, &spec)
}

/// Load an `export-system-policy` file; only its allowlist patterns are used.
pub fn load_system_policy_file(path: &Path, display: &str) -> Result<SystemPolicy, PolicyError> {
    let text = read_text(path, display)?;
    load_system_policy_str(&text, display)
}

/// Like [`load_system_policy_file`], from text.
pub fn load_system_policy_str(text: &str, display: &str) -> Result<SystemPolicy, PolicyError> {
    load::load_system_policy(text, display)
}

/// For `binauthz-lint policy validate FILE`: exit code (0 valid, 2 invalid) and the text to
/// print (diagnostics, then a one-line verdict).
pub fn validate_file(path: &Path, display: &str, color: bool) -> (i32, String) {
    let spec = SourceSpec::parse(path, display, Path::exists);
    if spec.path.is_dir() {
        return validation_report(
            sources::load(&spec, &sources::WorkTree),
            &spec.label(),
            color,
        );
    }
    let text = match read_text(&spec.path, &spec.display) {
        Ok(text) => text,
        Err(err) => {
            let mut out = err.render(color);
            if spec.path.exists() {
                out.push_str(&format!("{display}: invalid policy\n"));
            } else {
                out.push_str(&format!("{display}: policy file not found\n"));
            }
            return (2, out);
        }
    };
    validation_report(sources::load_text(&text, &spec), &spec.label(), color)
}

/// [`validate_file`] on text already read.
pub fn validate_str(text: &str, display: &str, color: bool) -> (i32, String) {
    validation_report(load_policy_str(text, display), display, color)
}

fn validation_report(
    result: Result<LoadedPolicy, PolicyError>,
    display: &str,
    color: bool,
) -> (i32, String) {
    match result {
        Ok(loaded) => {
            let mut out = render_diagnostics(&loaded.diagnostics, &loaded.source_text, color);
            let warnings = count(&loaded.diagnostics, Severity::Warning);
            let notes = count(&loaded.diagnostics, Severity::Note);
            out.push_str(&format!(
                "{display}: valid project policy ({warnings} warning{}, {notes} note{})\n",
                plural(warnings),
                plural(notes)
            ));
            (0, out)
        }
        Err(err) => {
            let mut out = err.render(color);
            let errors = count(&err.diagnostics, Severity::Error);
            out.push_str(&format!(
                "{display}: invalid policy ({errors} error{})\n",
                plural(errors)
            ));
            (2, out)
        }
    }
}

fn count(diags: &[PolicyDiagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
