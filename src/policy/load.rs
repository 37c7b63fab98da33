//! Policy file → validated [`Policy`], with diagnostics located in the file.
//!
//! We hand-map our positioned YAML tree rather than deriving serde types: every check needs
//! the span of the offending key or value, and the error classes must mirror what gcloud's
//! decoder does (spec §1.4b, verified with `shared/tools/gcloud-decode-policy`):
//! - gcloud refuses unknown keys, wrong scalar types, unknown enum names (case-sensitive),
//!   null enums, null or scalar rule values, non-mapping allowlist entries, several YAML
//!   documents, and a top level that is not a mapping;
//! - gcloud accepts leniently a single string where `requireAttestationsBy` expects a list
//!   and a single mapping where `admissionWhitelistPatterns` expects a list (warnings here);
//! - gcloud accepts, and the server rejects, a missing default rule, missing or
//!   `*_UNSPECIFIED` modes, attestor lists that do not fit the mode, several non-empty rule
//!   maps, malformed map keys, attestor names and allowlist patterns.

mod checks;
mod rules;

pub(crate) use checks::{describe, distance, suggest};
// The platform-policy loader (`policy/platform`) shares these checks.
pub(super) use checks::{
    is_dns_label, is_string, placeholder, service_account_key_problem, value_or_key,
};

use crate::policy::decision::{Enforcement, PolicyRef};
use crate::yaml::{self, Limits, NodeId, ScalarKind, Span, Tree};

use checks::project_of_name;

use super::system::SystemPolicy;
use super::{
    AdmissionRule, AllowPattern, EvaluationMode, GlobalMode, LoadedPolicy, Policy,
    PolicyDiagnostic, PolicyError, Refuser, RuleKind, Severity,
};

pub(super) const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "globalPolicyEvaluationMode",
    "admissionWhitelistPatterns",
    "defaultAdmissionRule",
    "clusterAdmissionRules",
    "kubernetesNamespaceAdmissionRules",
    "kubernetesServiceAccountAdmissionRules",
    "istioServiceIdentityAdmissionRules",
    "updateTime",
    "etag",
];
pub(super) const RULE_KEYS: &[&str] =
    &["evaluationMode", "enforcementMode", "requireAttestationsBy"];
pub(super) const PATTERN_KEYS: &[&str] = &["namePattern"];

pub(super) const EVALUATION_MODES: &[(&str, EvaluationMode)] = &[
    ("ALWAYS_ALLOW", EvaluationMode::AlwaysAllow),
    ("REQUIRE_ATTESTATION", EvaluationMode::RequireAttestation),
    ("ALWAYS_DENY", EvaluationMode::AlwaysDeny),
];
pub(super) const ENFORCEMENT_MODES: &[(&str, Enforcement)] = &[
    ("ENFORCED_BLOCK_AND_AUDIT_LOG", Enforcement::Enforced),
    ("DRYRUN_AUDIT_LOG_ONLY", Enforcement::Dryrun),
];
const GLOBAL_MODES: &[(&str, GlobalMode)] = &[
    ("ENABLE", GlobalMode::Enable),
    ("DISABLE", GlobalMode::Disable),
];

/// Server limit on attestor references in one policy (spec §1.4.6).
const MAX_ATTESTOR_REFERENCES: usize = 200;

/// What kind of document is being loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Project,
    /// `export-system-policy` output: only the allowlist is used; nothing is required.
    System,
}

/// The parts of a policy collected while validating.
pub(super) struct Parts {
    pub(super) global_mode: Option<GlobalMode>,
    pub(super) allowlist: Vec<AllowPattern>,
    pub(super) default_rule: Option<AdmissionRule>,
    pub(super) specific: Vec<AdmissionRule>,
    /// The project of `name: projects/PROJECT/policy`, when the export has it.
    pub(super) project: Option<String>,
    /// `description`, kept for `policy show`.
    pub(super) description: Option<String>,
}

pub(super) struct Loader<'t> {
    pub(super) tree: &'t Tree<'t>,
    pub(super) file: &'t str,
    pub(super) mode: Mode,
    pub(super) diags: Vec<PolicyDiagnostic>,
}

/// Parse and validate `text` in one mode: the parts (when the structure could be read) and
/// every diagnostic, sorted.
fn run_loader(text: &str, display: &str, mode: Mode) -> (Option<Parts>, Vec<PolicyDiagnostic>) {
    let tree = yaml::parse(text, &Limits::default());
    run_loader_tree(&tree, display, mode)
}

fn run_loader_tree(
    tree: &Tree,
    display: &str,
    mode: Mode,
) -> (Option<Parts>, Vec<PolicyDiagnostic>) {
    let mut loader = Loader {
        tree,
        file: display,
        mode,
        diags: Vec::new(),
    };
    let parts = loader.load();
    let mut diags = loader.diags;
    sort(&mut diags);
    (parts, diags)
}

pub(super) fn load_policy(text: &str, display: &str) -> Result<LoadedPolicy, PolicyError> {
    let tree = yaml::parse(text, &Limits::default());
    load_policy_tree(&tree, text, display)
}

/// Validate a policy tree: parsed from the gcloud format, or mapped from another source
/// with spans into `display` (whose text is `text`).
pub(super) fn load_policy_tree(
    tree: &Tree,
    text: &str,
    display: &str,
) -> Result<LoadedPolicy, PolicyError> {
    let (parts, diags) = run_loader_tree(tree, display, Mode::Project);
    let fail = |diags: Vec<PolicyDiagnostic>| PolicyError {
        diagnostics: diags,
        source_text: text.to_string(),
        other_texts: Vec::new(),
    };
    let parts = match parts {
        Some(parts) if !diags.iter().any(|d| d.severity == Severity::Error) => parts,
        _ => return Err(fail(diags)),
    };
    let Some(default_rule) = parts.default_rule else {
        // `load` reports a missing default rule as an error, so this is unreachable; keep a
        // typed failure rather than a panic.
        return Err(fail(diags));
    };
    let mut policy = Policy::from_parts(
        display.to_string(),
        parts.global_mode.unwrap_or(GlobalMode::Disable),
        parts.global_mode.is_some(),
        parts.allowlist,
        default_rule,
        parts.specific,
    );
    policy.project = parts.project;
    policy.description = parts.description;
    Ok(LoadedPolicy {
        policy,
        diagnostics: diags,
        source_text: text.to_string(),
        attestors: Default::default(),
    })
}

pub(super) fn load_system_policy(text: &str, display: &str) -> Result<SystemPolicy, PolicyError> {
    let (parts, diags) = run_loader(text, display, Mode::System);
    match parts {
        Some(parts) if !diags.iter().any(|d| d.severity == Severity::Error) => {
            Ok(SystemPolicy::from_file(display, parts.allowlist))
        }
        _ => Err(PolicyError {
            diagnostics: diags,
            source_text: text.to_string(),
            other_texts: Vec::new(),
        }),
    }
}

pub(super) fn sort(diags: &mut [PolicyDiagnostic]) {
    diags.sort_by(|a, b| {
        (a.line, a.column, a.severity, a.rule_id).cmp(&(b.line, b.column, b.severity, b.rule_id))
    });
}

impl<'t> Loader<'t> {
    pub(super) fn push(&mut self, diag: PolicyDiagnostic) {
        self.diags.push(diag);
    }

    /// An error; the message ends with who refuses the file.
    pub(super) fn error(&self, span: Span, refuser: Refuser, message: &str) -> PolicyDiagnostic {
        let mut d = PolicyDiagnostic::new(
            Severity::Error,
            "policy-invalid",
            self.file,
            span,
            format!("{message} ({})", refuser.phrase()),
        );
        d.refuser = Some(refuser);
        d
    }

    pub(super) fn warning(
        &self,
        rule_id: &'static str,
        span: Span,
        message: String,
    ) -> PolicyDiagnostic {
        PolicyDiagnostic::new(Severity::Warning, rule_id, self.file, span, message)
    }

    pub(super) fn policy_ref(&self, span: Span, label: String) -> PolicyRef {
        PolicyRef {
            file: self.file.to_string(),
            line: span.start.line,
            column: span.start.column,
            end_line: span.end.line,
            end_column: span.end.column,
            label,
        }
    }

    pub(super) fn key_text(&self, key: NodeId) -> &'t str {
        self.tree.scalar(key).unwrap_or("")
    }

    /// Validate the document; `None` when it is unusable (errors are in `diags`).
    fn load(&mut self) -> Option<Parts> {
        let Some(root) = self.root() else {
            // An empty system-policy file exempts nothing; an empty project policy has
            // already been reported.
            return (self.mode == Mode::System && self.diags.is_empty()).then(|| Parts {
                global_mode: None,
                allowlist: Vec::new(),
                default_rule: None,
                specific: Vec::new(),
                project: None,
                description: None,
            });
        };
        for dup in &self.tree.duplicates {
            let d = self
                .warning(
                    "policy-duplicate-key",
                    dup.span,
                    format!(
                        "`{}` is repeated (first at line {}); gcloud keeps only the last value",
                        dup.key, dup.first.start.line
                    ),
                )
                .label("repeated key");
            self.diags.push(d);
        }
        if let Some((key, _)) = ["gkePolicy", "cloudRunPolicy"]
            .iter()
            .find_map(|k| self.tree.get_entry(root, k))
        {
            let d = self
                .error(
                    self.tree.span(key),
                    Refuser::Gcloud,
                    &format!(
                        "this is a platform policy (`{}`), a different format from the project \
                         policy that `gcloud container binauthz policy import` reads; check-based \
                         platform policies drive continuous validation, not admission",
                        self.key_text(key)
                    ),
                )
                .label("platform policy")
                .help(
                    "give it with `--platform-policy` (scan) or to `binauthz-lint evaluate \
                     --platform-policy`; `--policy` takes a project policy (`gcloud container \
                     binauthz policy export`)",
                );
            self.push(d);
            return None;
        }

        let mut parts = Parts {
            global_mode: None,
            allowlist: Vec::new(),
            default_rule: None,
            specific: Vec::new(),
            project: None,
            description: None,
        };
        let mut default_seen = false;
        let mut nonempty_maps: Vec<(RuleKind, Span)> = Vec::new();
        for (k, v) in self.tree.entries(root) {
            let key_span = self.tree.span(k);
            match self.key_text(k) {
                "name" | "description" | "updateTime" | "etag" => {
                    // Output-only or free text: never influence decisions, only type-checked
                    // because gcloud refuses non-strings there. The name gives the project
                    // for audit events.
                    let key = self.key_text(k);
                    let value = self.string_value(key, key_span, v);
                    if key == "name" {
                        parts.project = value.and_then(project_of_name);
                    } else if key == "description" {
                        parts.description = value.map(str::to_string);
                    }
                }
                "globalPolicyEvaluationMode" => {
                    parts.global_mode = self.enum_value(
                        "globalPolicyEvaluationMode",
                        key_span,
                        v,
                        GLOBAL_MODES,
                        "GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED",
                        Refuser::Linter,
                    );
                }
                "admissionWhitelistPatterns" => {
                    parts.allowlist = self.allowlist(key_span, v);
                }
                "defaultAdmissionRule" => {
                    default_seen = true;
                    let empty_list = self.tree.seq(v).is_some_and(<[NodeId]>::is_empty);
                    if self.tree.is_null(v) || empty_list {
                        // gcloud reads null (and `[]`) as "no default rule".
                        if self.mode == Mode::Project {
                            let d = self
                                .error(
                                    key_span,
                                    Refuser::Server,
                                    "`defaultAdmissionRule` is empty; every policy needs a default rule",
                                )
                                .label("no rule here");
                            self.push(d);
                        }
                    } else {
                        parts.default_rule = self.rule(RuleKind::Default, "", key_span, v);
                    }
                }
                "clusterAdmissionRules" => {
                    self.rule_map(RuleKind::Cluster, k, v, &mut parts, &mut nonempty_maps);
                }
                "kubernetesNamespaceAdmissionRules" => {
                    self.rule_map(RuleKind::Namespace, k, v, &mut parts, &mut nonempty_maps);
                }
                "kubernetesServiceAccountAdmissionRules" => {
                    self.rule_map(
                        RuleKind::ServiceAccount,
                        k,
                        v,
                        &mut parts,
                        &mut nonempty_maps,
                    );
                }
                "istioServiceIdentityAdmissionRules" => {
                    self.rule_map(RuleKind::Istio, k, v, &mut parts, &mut nonempty_maps);
                }
                other => self.unknown_key(k, other, "the policy's top level", TOP_KEYS),
            }
        }

        if let Some(((first, first_span), rest)) = nonempty_maps.split_first() {
            for (kind, span) in rest {
                let d = self
                    .error(
                        *span,
                        Refuser::Server,
                        &format!(
                            "only one kind of specific rule may be used: `{}` is not empty, and \
                             neither is `{}` (line {})",
                            kind.field(),
                            first.field(),
                            first_span.start.line
                        ),
                    )
                    .label("second non-empty rule map")
                    .help("keep one of the maps; GKE would not know which rule to apply");
                self.push(d);
            }
        }

        let root_span = self.tree.span(root);
        let at_start = Span {
            start: root_span.start,
            end: root_span.start,
        };
        if self.mode == Mode::Project {
            if !default_seen {
                let d = self
                    .error(
                        at_start,
                        Refuser::Server,
                        "the policy has no `defaultAdmissionRule`; every policy needs one",
                    )
                    .label("missing `defaultAdmissionRule`")
                    .help(
                        "add `defaultAdmissionRule: {evaluationMode: ..., enforcementMode: ...}`",
                    );
                self.push(d);
            }
            if self.tree.get(root, "globalPolicyEvaluationMode").is_none() {
                let d = PolicyDiagnostic::new(
                    Severity::Note,
                    "policy-evaluation-mode-missing",
                    self.file,
                    at_start,
                    "no `globalPolicyEvaluationMode`: it means DISABLE, so Google's system \
                     policy does not exempt GKE system images; policies exported from new \
                     projects say `ENABLE`"
                        .to_string(),
                )
                .label("policy without `globalPolicyEvaluationMode`")
                .help("add `globalPolicyEvaluationMode: ENABLE` (recommended) or `DISABLE`");
                self.push(d);
            }
            let references: usize = parts
                .default_rule
                .iter()
                .chain(parts.specific.iter())
                .map(|r| r.attestors.len())
                .sum();
            if references > MAX_ATTESTOR_REFERENCES {
                let d = self.error(
                    at_start,
                    Refuser::Server,
                    &format!(
                        "the policy references attestors {references} times; the limit is \
                         {MAX_ATTESTOR_REFERENCES} per policy"
                    ),
                );
                self.push(d);
            }
        }
        Some(parts)
    }

    /// The single document's root mapping.
    fn root(&mut self) -> Option<NodeId> {
        if let Some(err) = &self.tree.error {
            let at = Span {
                start: err.pos,
                end: err.pos,
            };
            let d = self
                .error(
                    at,
                    Refuser::Gcloud,
                    &format!("not valid YAML or JSON: {}", err.message),
                )
                .label("parsing stopped here");
            self.push(d);
            return None;
        }
        if let Some(second) = self.tree.documents.get(1) {
            let span = second
                .root
                .map(|r| self.tree.span(r))
                .unwrap_or(Span::default());
            let d = self
                .error(
                    span,
                    Refuser::Gcloud,
                    &format!(
                        "a policy file holds one YAML document; this one has {}",
                        self.tree.documents.len()
                    ),
                )
                .label("second document")
                .help("remove the `---` separators and keep one policy");
            self.push(d);
            return None;
        }
        let root = self.tree.documents.first().and_then(|d| d.root);
        let Some(root) = root.filter(|r| !self.tree.is_null(*r)) else {
            if self.mode == Mode::Project {
                let d = self
                    .error(
                        Span::default(),
                        Refuser::Server,
                        "the policy file is empty: it has no `defaultAdmissionRule`",
                    )
                    .help("gcloud asks before importing an empty policy; the server refuses it");
                self.push(d);
                return None;
            }
            return None;
        };
        if self.tree.map(root).is_none() {
            let d = self
                .error(
                    self.tree.span(root),
                    Refuser::Gcloud,
                    &format!(
                        "a policy is a mapping of fields, not {}",
                        describe(self.tree, root)
                    ),
                )
                .label("expected `defaultAdmissionRule:` and other fields");
            self.push(d);
            return None;
        }
        Some(root)
    }

    pub(super) fn unknown_key(
        &mut self,
        key: NodeId,
        text: &str,
        path: &str,
        known: &[&'static str],
    ) {
        let mut d = self
            .error(
                self.tree.span(key),
                Refuser::Gcloud,
                &format!("unknown field `{text}` in {path}"),
            )
            .label("unknown field");
        if let Some(s) = suggest(text, known.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        } else {
            d = d.help(format!("known fields: {}", known.join(", ")));
        }
        self.push(d);
    }

    /// A string field; `None` for null (gcloud treats it as absent) or a type error.
    pub(super) fn string_value(
        &mut self,
        field: &str,
        key_span: Span,
        node: NodeId,
    ) -> Option<&'t str> {
        if self.tree.is_null(node) {
            return None;
        }
        if is_string(self.tree, node) {
            return self.tree.scalar(node);
        }
        let d = self
            .error(
                value_or_key(self.tree, key_span, node),
                Refuser::Gcloud,
                &format!(
                    "`{field}` must be a string, found {}",
                    describe(self.tree, node)
                ),
            )
            .label("expected a string");
        self.push(d);
        None
    }

    /// An enum field; `None` after reporting an error.
    pub(super) fn enum_value<T: Copy>(
        &mut self,
        field: &str,
        key_span: Span,
        node: NodeId,
        names: &[(&'static str, T)],
        unspecified: &str,
        unspecified_refuser: Refuser,
    ) -> Option<T> {
        let span = value_or_key(self.tree, key_span, node);
        let valid = names
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if !is_string(self.tree, node) {
            let (refuser, what) = match self.tree.scalar_kind(node) {
                // gcloud maps some enum numbers to names and refuses others (probed with
                // gcloud 528); the exported format always uses names, so we ask for one.
                Some(ScalarKind::Int) => (Refuser::Linter, "a number".to_string()),
                _ => (Refuser::Gcloud, describe(self.tree, node).to_string()),
            };
            let d = self
                .error(
                    span,
                    refuser,
                    &format!("`{field}` must be one of {valid}, found {what}"),
                )
                .label("expected an enum name");
            self.push(d);
            return None;
        }
        let text = self.tree.scalar(node).unwrap_or("");
        if let Some((_, value)) = names.iter().find(|(n, _)| *n == text) {
            return Some(*value);
        }
        if text == unspecified {
            let d = self
                .error(
                    span,
                    unspecified_refuser,
                    &format!(
                        "`{field}: {unspecified}` is a \"do not use\" value; write one of {valid}"
                    ),
                )
                .label("unspecified value");
            self.push(d);
            return None;
        }
        let mut d = self
            .error(
                span,
                Refuser::Gcloud,
                &format!("`{text}` is not a valid `{field}`; expected one of {valid}"),
            )
            .label("unknown value");
        if let Some(s) = suggest(text, names.iter().map(|(n, _)| *n)) {
            d = d.help(format!("did you mean `{s}`? enum names are case-sensitive"));
        }
        self.push(d);
        None
    }
}
