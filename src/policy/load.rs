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

use std::collections::HashMap;

use crate::policy::decision::{Enforcement, PolicyRef};
use crate::yaml::{self, Limits, NodeId, Pos, ScalarKind, Span, Style, Tree};

use super::pattern::Pattern;
use super::system::SystemPolicy;
use super::{
    AdmissionRule, AllowPattern, EvaluationMode, GlobalMode, LoadedPolicy, Policy,
    PolicyDiagnostic, PolicyError, Refuser, RuleKind, Severity,
};

const TOP_KEYS: &[&str] = &[
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
const RULE_KEYS: &[&str] = &["evaluationMode", "enforcementMode", "requireAttestationsBy"];
const PATTERN_KEYS: &[&str] = &["namePattern"];

const EVALUATION_MODES: &[(&str, EvaluationMode)] = &[
    ("ALWAYS_ALLOW", EvaluationMode::AlwaysAllow),
    ("REQUIRE_ATTESTATION", EvaluationMode::RequireAttestation),
    ("ALWAYS_DENY", EvaluationMode::AlwaysDeny),
];
const ENFORCEMENT_MODES: &[(&str, Enforcement)] = &[
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
enum Mode {
    Project,
    /// `export-system-policy` output: only the allowlist is used; nothing is required.
    System,
}

/// The parts of a policy collected while validating.
struct Parts {
    global_mode: Option<GlobalMode>,
    allowlist: Vec<AllowPattern>,
    default_rule: Option<AdmissionRule>,
    specific: Vec<AdmissionRule>,
    /// The project of `name: projects/PROJECT/policy`, when the export has it.
    project: Option<String>,
}

struct Loader<'t> {
    tree: &'t Tree<'t>,
    file: &'t str,
    mode: Mode,
    diags: Vec<PolicyDiagnostic>,
}

/// Parse and validate `text` in one mode: the parts (when the structure could be read) and
/// every diagnostic, sorted.
fn run_loader(text: &str, display: &str, mode: Mode) -> (Option<Parts>, Vec<PolicyDiagnostic>) {
    let tree = yaml::parse(text, &Limits::default());
    let mut loader = Loader {
        tree: &tree,
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
    let (parts, diags) = run_loader(text, display, Mode::Project);
    let parts = match parts {
        Some(parts) if !diags.iter().any(|d| d.severity == Severity::Error) => parts,
        _ => {
            return Err(PolicyError {
                diagnostics: diags,
                source_text: text.to_string(),
            });
        }
    };
    let Some(default_rule) = parts.default_rule else {
        // `load` reports a missing default rule as an error, so this is unreachable; keep a
        // typed failure rather than a panic.
        return Err(PolicyError {
            diagnostics: diags,
            source_text: text.to_string(),
        });
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
    Ok(LoadedPolicy {
        policy,
        diagnostics: diags,
        source_text: text.to_string(),
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
        }),
    }
}

pub(super) fn sort(diags: &mut [PolicyDiagnostic]) {
    diags.sort_by(|a, b| {
        (a.line, a.column, a.severity, a.rule_id).cmp(&(b.line, b.column, b.severity, b.rule_id))
    });
}

/// How a node reads to a user: "a string", "an integer", "a list", ...
pub(crate) fn describe(tree: &Tree, node: NodeId) -> &'static str {
    if tree.seq(node).is_some() {
        return "a list";
    }
    if tree.map(node).is_some() {
        return "a mapping";
    }
    if is_plain_timestamp(tree, node) {
        return "a timestamp (quote it)";
    }
    tree.scalar_kind(node)
        .map_or("a value", ScalarKind::describe)
}

/// gcloud's YAML 1.1 loader turns an unquoted `2024-05-12...` into a date, which its JSON
/// step cannot serialise; our scalar table has no timestamp kind, so check here.
fn is_plain_timestamp(tree: &Tree, node: NodeId) -> bool {
    let Some((text, Style::Plain, None)) = tree.scalar_full(node) else {
        return false;
    };
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|s| !s.is_empty() && s.iter().all(u8::is_ascii_digit))
    };
    digits(0..4) && b.get(4) == Some(&b'-') && digits(5..6)
}

/// True for a scalar that gcloud reads as a string.
pub(super) fn is_string(tree: &Tree, node: NodeId) -> bool {
    tree.string(node).is_some() && !is_plain_timestamp(tree, node)
}

/// A span that is never empty when a better one exists: null values have zero width, so
/// point at their key instead.
pub(super) fn value_or_key(tree: &Tree, key: Span, value: NodeId) -> Span {
    let span = tree.span(value);
    if span.start == span.end || tree.is_null(value) {
        key
    } else {
        span
    }
}

/// `projects/PROJECT/policy` → `PROJECT` (the resource name `policy export` prints).
fn project_of_name(name: &str) -> Option<String> {
    let project = name.strip_prefix("projects/")?.strip_suffix("/policy")?;
    (!project.is_empty() && !project.contains('/')).then(|| project.to_string())
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let left = row.get(j).copied().unwrap_or(0);
            let up = row.get(j + 1).copied().unwrap_or(0);
            let best = (prev + cost).min(left + 1).min(up + 1);
            prev = up;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The closest known name, when it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 4).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

impl<'t> Loader<'t> {
    fn push(&mut self, diag: PolicyDiagnostic) {
        self.diags.push(diag);
    }

    /// An error; the message ends with who refuses the file.
    fn error(&self, span: Span, refuser: Refuser, message: &str) -> PolicyDiagnostic {
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

    fn warning(&self, rule_id: &'static str, span: Span, message: String) -> PolicyDiagnostic {
        PolicyDiagnostic::new(Severity::Warning, rule_id, self.file, span, message)
    }

    fn policy_ref(&self, span: Span, label: String) -> PolicyRef {
        PolicyRef {
            file: self.file.to_string(),
            line: span.start.line,
            column: span.start.column,
            end_line: span.end.line,
            end_column: span.end.column,
            label,
        }
    }

    fn key_text(&self, key: NodeId) -> &'t str {
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

    fn unknown_key(&mut self, key: NodeId, text: &str, path: &str, known: &[&'static str]) {
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
    fn string_value(&mut self, field: &str, key_span: Span, node: NodeId) -> Option<&'t str> {
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
    fn enum_value<T: Copy>(
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

    /// One admission rule mapping.
    fn rule(
        &mut self,
        kind: RuleKind,
        key: &str,
        key_span: Span,
        node: NodeId,
    ) -> Option<AdmissionRule> {
        let where_ = if kind == RuleKind::Default {
            "`defaultAdmissionRule`".to_string()
        } else {
            format!("`{}` rule `{key}`", kind.field())
        };
        if self.tree.map(node).is_none() {
            let d = self
                .error(
                    value_or_key(self.tree, key_span, node),
                    Refuser::Gcloud,
                    &format!(
                        "{where_} must be a mapping with `evaluationMode` and \
                         `enforcementMode`, found {}",
                        describe(self.tree, node)
                    ),
                )
                .label("expected a rule mapping")
                .help("check the indentation: the rule's fields belong under its key");
            self.push(d);
            return None;
        }
        let mut evaluation = None;
        let mut enforcement = None;
        let mut evaluation_span = key_span;
        let mut attestors: Option<(Span, Vec<String>, usize)> = None;
        let mut ok = true;
        let path = where_.clone();
        for (k, v) in self.tree.entries(node) {
            let span = self.tree.span(k);
            match self.key_text(k) {
                "evaluationMode" => {
                    evaluation_span = value_or_key(self.tree, span, v);
                    evaluation = self.enum_value(
                        "evaluationMode",
                        span,
                        v,
                        EVALUATION_MODES,
                        "EVALUATION_MODE_UNSPECIFIED",
                        Refuser::Server,
                    );
                    ok &= evaluation.is_some();
                }
                "enforcementMode" => {
                    enforcement = self.enum_value(
                        "enforcementMode",
                        span,
                        v,
                        ENFORCEMENT_MODES,
                        "ENFORCEMENT_MODE_UNSPECIFIED",
                        Refuser::Server,
                    );
                    ok &= enforcement.is_some();
                }
                "requireAttestationsBy" => {
                    match self.attestor_list(span, v) {
                        Some((names, written)) => {
                            ok &= names.len() == written;
                            attestors = Some((span, names, written));
                        }
                        None => {
                            ok = false;
                            // A type error was reported; do not also call the list empty.
                            attestors = Some((span, Vec::new(), 1));
                        }
                    }
                }
                other => {
                    self.unknown_key(k, other, &path, RULE_KEYS);
                    ok = false;
                }
            }
        }
        let present = |name: &str| self.tree.get(node, name).is_some();
        for (name, missing) in [
            ("evaluationMode", !present("evaluationMode")),
            ("enforcementMode", !present("enforcementMode")),
        ] {
            if missing {
                let d = self
                    .error(
                        key_span,
                        Refuser::Server,
                        &format!("{where_} has no `{name}`, which is required"),
                    )
                    .label(format!("missing `{name}`"));
                self.push(d);
                ok = false;
            }
        }
        let (list_span, attestors, written) = attestors.unwrap_or((key_span, Vec::new(), 0));
        match evaluation {
            Some(EvaluationMode::RequireAttestation) if written == 0 => {
                let d = self
                    .error(
                        evaluation_span,
                        Refuser::Server,
                        &format!(
                            "{where_} is `REQUIRE_ATTESTATION` but `requireAttestationsBy` is \
                             empty or missing"
                        ),
                    )
                    .label("needs at least one attestor")
                    .help("add `requireAttestationsBy: [projects/PROJECT/attestors/NAME]`");
                self.push(d);
                ok = false;
            }
            Some(mode @ (EvaluationMode::AlwaysAllow | EvaluationMode::AlwaysDeny))
                if written > 0 =>
            {
                let name = if mode == EvaluationMode::AlwaysAllow {
                    "ALWAYS_ALLOW"
                } else {
                    "ALWAYS_DENY"
                };
                let d = self
                    .error(
                        list_span,
                        Refuser::Server,
                        &format!(
                            "{where_} lists attestors but its `evaluationMode` is `{name}`; \
                             `requireAttestationsBy` is only allowed with `REQUIRE_ATTESTATION`"
                        ),
                    )
                    .label("attestors on a rule that does not use them");
                self.push(d);
                ok = false;
            }
            _ => {}
        }
        let (Some(evaluation), Some(enforcement), true) = (evaluation, enforcement, ok) else {
            return None;
        };
        let label = if kind == RuleKind::Default {
            "default admission rule".to_string()
        } else {
            format!("{} admission rule {key}", kind.message_noun())
        };
        let source = Some(self.policy_ref(key_span, label));
        Some(AdmissionRule::new(
            kind,
            key,
            evaluation,
            enforcement,
            attestors,
            source,
        ))
    }

    /// `requireAttestationsBy`: the valid names and how many entries were written (so that a
    /// list of malformed names is not also reported as empty); `None` when it is not a list.
    fn attestor_list(&mut self, key_span: Span, node: NodeId) -> Option<(Vec<String>, usize)> {
        let items: Vec<NodeId> = if self.tree.is_null(node) {
            Vec::new()
        } else if let Some(items) = self.tree.seq(node) {
            items.to_vec()
        } else if is_string(self.tree, node) {
            let d = self
                .warning(
                    "policy-lenient-form",
                    self.tree.span(node),
                    "`requireAttestationsBy` is a single string, not a list; gcloud reads it as \
                     a one-item list, so the policy imports, but write a list"
                        .to_string(),
                )
                .label("a string, not a list")
                .help(format!(
                    "write `requireAttestationsBy:` followed by `- {}` on the next line",
                    self.tree.scalar(node).unwrap_or("")
                ));
            self.push(d);
            vec![node]
        } else {
            let d = self
                .error(
                    value_or_key(self.tree, key_span, node),
                    Refuser::Gcloud,
                    &format!(
                        "`requireAttestationsBy` must be a list of attestor names, found {}",
                        describe(self.tree, node)
                    ),
                )
                .label("expected a list of strings");
            self.push(d);
            return None;
        };
        let written = items.len();
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            let span = self.tree.span(item);
            if !is_string(self.tree, item) {
                let what = describe(self.tree, item);
                let d = self
                    .error(
                        if self.tree.is_null(item) {
                            key_span
                        } else {
                            span
                        },
                        Refuser::Gcloud,
                        &format!("an attestor name must be a string, found {what}"),
                    )
                    .label("expected `projects/PROJECT/attestors/NAME`");
                self.push(d);
                continue;
            }
            let name = self.tree.scalar(item).unwrap_or("");
            if let Some(problem) = attestor_name_problem(name) {
                let d = self
                    .error(
                        span,
                        Refuser::Server,
                        &format!("malformed attestor name `{name}`: {problem}"),
                    )
                    .label("expected `projects/PROJECT/attestors/NAME`");
                self.push(d);
                continue;
            }
            self.placeholder_check(span, name, "attestor name");
            names.push(name.to_string());
        }
        Some((names, written))
    }

    /// One of the four specific-rule maps.
    fn rule_map(
        &mut self,
        kind: RuleKind,
        key: NodeId,
        node: NodeId,
        parts: &mut Parts,
        nonempty: &mut Vec<(RuleKind, Span)>,
    ) {
        let key_span = self.tree.span(key);
        if self.tree.is_null(node) || self.tree.seq(node).is_some_and(<[NodeId]>::is_empty) {
            return;
        }
        if self.tree.map(node).is_none() {
            let d = self
                .error(
                    value_or_key(self.tree, key_span, node),
                    Refuser::Gcloud,
                    &format!(
                        "`{}` must be a mapping from key to rule, found {}",
                        kind.field(),
                        describe(self.tree, node)
                    ),
                )
                .label("expected a mapping");
            self.push(d);
            return;
        }
        let entries = self.tree.entries(node);
        if entries.is_empty() {
            return;
        }
        nonempty.push((kind, key_span));
        // Istio keys with and without `spiffe://` name the same identity (A16).
        let mut istio_seen: HashMap<&str, Span> = HashMap::new();
        for (k, v) in entries {
            let span = self.tree.span(k);
            let Some(text) = self.tree.scalar(k) else {
                let d = self
                    .error(
                        span,
                        Refuser::Gcloud,
                        &format!("a `{}` key must be a string", kind.field()),
                    )
                    .label("complex key");
                self.push(d);
                continue;
            };
            self.placeholder_check(span, text, "rule key");
            let has_placeholder = placeholder(text).is_some();
            match kind {
                RuleKind::Cluster => {
                    if let Some(problem) = cluster_key_problem(text) {
                        let help = if RULE_KEYS.iter().any(|f| text.starts_with(f)) {
                            format!(
                                "`{text}` looks like a rule field: it is probably mis-indented \
                                 and belongs under a `LOCATION.NAME:` key"
                            )
                        } else {
                            "cluster keys are the cluster's location (zone or region) and name \
                             joined by `.`"
                                .to_string()
                        };
                        let d = self
                            .error(
                                span,
                                Refuser::Server,
                                &format!(
                                    "cluster key `{text}` is not of the form `LOCATION.NAME`: {problem}"
                                ),
                            )
                            .label("expected e.g. `us-central1-a.prod-cluster`")
                            .help(help);
                        self.push(d);
                    }
                }
                RuleKind::ServiceAccount => {
                    if let Some(problem) = service_account_key_problem(text) {
                        let d = self
                            .error(
                                span,
                                Refuser::Server,
                                &format!(
                                    "service account key `{text}` is not of the form \
                                     `NAMESPACE:NAME`: {problem}"
                                ),
                            )
                            .label("expected e.g. `prod:deployer`");
                        self.push(d);
                    }
                }
                RuleKind::Namespace => {
                    if !has_placeholder && !is_dns_label(text) {
                        let d = self
                            .warning(
                                "policy-namespace-key",
                                span,
                                format!(
                                    "namespace key `{text}` is not a valid Kubernetes namespace \
                                     name (lower-case letters, digits and `-`, at most 63), so \
                                     it can never match a pod"
                                ),
                            )
                            .label("not a namespace name");
                        self.push(d);
                    }
                }
                RuleKind::Istio => {
                    let identity = text.strip_prefix("spiffe://").unwrap_or(text);
                    if let Some(first) = istio_seen.get(identity) {
                        let d = self
                            .error(
                                span,
                                Refuser::Linter,
                                &format!(
                                    "Istio identity `{identity}` is written twice (with and \
                                     without `spiffe://`; first at line {})",
                                    first.start.line
                                ),
                            )
                            .label("duplicate identity");
                        self.push(d);
                    } else {
                        istio_seen.insert(identity, span);
                    }
                    let d = self
                        .warning(
                            "policy-istio-rule",
                            span,
                            format!(
                                "Istio service identity rule `{text}` is not applied by GKE pod \
                                 admission (only Cloud Service Mesh uses it); pods it names are \
                                 judged by the default rule"
                            ),
                        )
                        .label("not applied to GKE pods");
                    self.push(d);
                }
                RuleKind::Default => {}
            }
            if let Some(rule) = self.rule(kind, text, span, v) {
                parts.specific.push(rule);
            }
        }
    }

    /// `admissionWhitelistPatterns`.
    fn allowlist(&mut self, key_span: Span, node: NodeId) -> Vec<AllowPattern> {
        let items: Vec<NodeId> = if self.tree.is_null(node) {
            Vec::new()
        } else if let Some(items) = self.tree.seq(node) {
            items.to_vec()
        } else if self.tree.map(node).is_some() {
            let d = self
                .warning(
                    "policy-lenient-form",
                    value_or_key(self.tree, key_span, node),
                    "`admissionWhitelistPatterns` is a single mapping, not a list; gcloud reads \
                     it as a one-item list, so the policy imports, but write a list"
                        .to_string(),
                )
                .label("a mapping, not a list")
                .help("put `- ` before `namePattern:`");
            self.push(d);
            vec![node]
        } else {
            let d = self
                .error(
                    value_or_key(self.tree, key_span, node),
                    Refuser::Gcloud,
                    &format!(
                        "`admissionWhitelistPatterns` must be a list of `namePattern:` \
                         mappings, found {}",
                        describe(self.tree, node)
                    ),
                )
                .label("expected a list")
                .help("write `- namePattern: REGISTRY/PATH*` items");
            self.push(d);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let item_span = self.tree.span(item);
            if self.tree.map(item).is_none() {
                let d = self
                    .error(
                        if self.tree.is_null(item) {
                            key_span
                        } else {
                            item_span
                        },
                        Refuser::Gcloud,
                        &format!(
                            "an allowlist entry must be a mapping `namePattern: ...`, found {}",
                            describe(self.tree, item)
                        ),
                    )
                    .label("expected `namePattern: ...`");
                self.push(d);
                continue;
            }
            let mut pattern: Option<(NodeId, Span)> = None;
            for (k, v) in self.tree.entries(item) {
                match self.key_text(k) {
                    "namePattern" => pattern = Some((v, self.tree.span(k))),
                    other => self.unknown_key(
                        k,
                        other,
                        "an `admissionWhitelistPatterns` entry",
                        PATTERN_KEYS,
                    ),
                }
            }
            let (text, span) = match pattern {
                Some((v, key)) => match self.string_value("namePattern", key, v) {
                    Some(text) => (text, self.tree.span(v)),
                    None if self.tree.is_null(v) => ("", key),
                    None => continue,
                },
                None => ("", item_span),
            };
            match Pattern::compile(text) {
                Ok(pattern) => {
                    self.placeholder_check(span, text, "allowlist pattern");
                    if pattern.is_at_star() {
                        let d = self
                            .warning(
                                "policy-pattern-tag-digest",
                                span,
                                format!(
                                    "`{text}` matches only references by digest (`…@sha256:…`); \
                                     `*` is a plain suffix wildcard, so tags (`{}:TAG`) are not \
                                     matched although the documentation says \"all versions and \
                                     tags\"",
                                    pattern.prefix().trim_end_matches('@')
                                ),
                            )
                            .label("does not match tags")
                            .help(format!(
                                "add `{}:*` to exempt tagged references too",
                                pattern.prefix().trim_end_matches('@')
                            ));
                        self.push(d);
                    }
                    let source = Some(self.policy_ref(span, format!("allowlist pattern {text}")));
                    out.push(AllowPattern { pattern, source });
                }
                Err(err) => {
                    let sub = self.sub_span(span, text, err.start, err.end);
                    let d = self
                        .error(
                            sub,
                            Refuser::Server,
                            &format!("invalid allowlist pattern `{text}`: {}", err.message),
                        )
                        .label("wildcards go at the end, after `registry/`")
                        .help(
                            "use a trailing `*` (one path segment) or `**` (any depth), e.g. \
                             `gcr.io/my-project/*`",
                        );
                    self.push(d);
                }
            }
        }
        out
    }

    /// The columns of `text[start..end]` inside the scalar written at `span`, when the scalar
    /// is on one line and has no escapes (otherwise the whole scalar).
    fn sub_span(&self, span: Span, text: &str, start: usize, end: usize) -> Span {
        let width = span.end.column.saturating_sub(span.start.column);
        let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        let quote = if width == chars {
            0
        } else if width == chars.saturating_add(2) {
            1
        } else {
            return span;
        };
        if span.start.line != span.end.line || start > end {
            return span;
        }
        let (Some(before), Some(inner)) = (text.get(..start), text.get(start..end)) else {
            return span;
        };
        let col = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let first = span.start.column + quote + col(before.chars().count());
        Span {
            start: Pos {
                line: span.start.line,
                column: first,
            },
            end: Pos {
                line: span.start.line,
                column: first + col(inner.chars().count()),
            },
        }
    }

    fn placeholder_check(&mut self, span: Span, text: &str, what: &str) {
        if self.mode == Mode::System {
            return;
        }
        if let Some(found) = placeholder(text) {
            let d = self
                .warning(
                    "policy-placeholder",
                    span,
                    format!(
                        "{what} `{text}` contains the unresolved placeholder `{found}`; it can \
                         only match once the placeholder is replaced"
                    ),
                )
                .label("placeholder")
                .help("substitute the value (e.g. with `envsubst`) before importing or linting");
            self.push(d);
        }
    }
}

/// Find an unresolved template placeholder: `${VAR}`, `$VAR`, `<...>`, `YOUR_...`, or an
/// all-caps `PROJECT_ID`-style token (real project ids, cluster names and attestor names
/// are lower-case).
pub(super) fn placeholder(text: &str) -> Option<&str> {
    if let Some(rest) = text.find('$').and_then(|start| text.get(start..)) {
        if rest.starts_with("${") {
            let end = rest.find('}').map_or(rest.len(), |e| e + 1);
            return rest.get(..end);
        }
        let after = rest.get(1..).unwrap_or("");
        let name_len = after
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return rest.get(..=name_len);
        }
    }
    if let (Some(open), Some(close)) = (text.find('<'), text.rfind('>'))
        && open < close
    {
        return text.get(open..=close);
    }
    // `project-id-here`, `my-project-id`: template text, not a real id.
    if let Some(segment) = text.split(['/', '.', ':', '@']).find(|s| {
        s.to_ascii_lowercase()
            .replace('_', "-")
            .contains("project-id")
    }) {
        return Some(segment);
    }
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|token| {
            token.contains("YOUR_")
                || token.starts_with("YOUR")
                || (token.contains('_')
                    && token.chars().any(|c| c.is_ascii_uppercase())
                    && !token.chars().any(|c| c.is_ascii_lowercase()))
        })
        .filter(|t| !t.is_empty())
}

/// Why an attestor name is not `projects/PROJECT/attestors/NAME`.
fn attestor_name_problem(name: &str) -> Option<&'static str> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "attestors", attestor] => {
            if project.is_empty() {
                Some("the project is empty")
            } else if attestor.is_empty() {
                Some("the attestor name is empty")
            } else if name.contains(char::is_whitespace) {
                Some("it contains whitespace")
            } else {
                None
            }
        }
        _ => Some("expected `projects/PROJECT/attestors/NAME`"),
    }
}

/// Why a cluster key is not `LOCATION.NAME`.
fn cluster_key_problem(key: &str) -> Option<&'static str> {
    if key.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') {
        return Some("it contains whitespace, `/` or `:`");
    }
    match key.split_once('.') {
        None => Some("there is no `.` between location and name"),
        Some(("", _)) => Some("the location is empty"),
        Some((_, "")) => Some("the cluster name is empty"),
        Some((_, name)) if name.contains('.') => {
            Some("there is more than one `.`; neither locations nor cluster names contain one")
        }
        Some(_) => None,
    }
}

/// Why a service-account key is not `NAMESPACE:NAME`.
pub(super) fn service_account_key_problem(key: &str) -> Option<&'static str> {
    if key.contains(|c: char| c.is_whitespace() || c == '/') {
        return Some("it contains whitespace or `/`");
    }
    match key.split_once(':') {
        None => Some("there is no `:` between namespace and service account"),
        Some(("", _)) => Some("the namespace is empty"),
        Some((_, "")) => Some("the service account is empty"),
        Some((_, sa)) if sa.contains(':') => Some("there is more than one `:`"),
        Some(_) => None,
    }
}

/// A Kubernetes namespace name (DNS-1123 label), spec A17.
pub(super) fn is_dns_label(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            placeholder("projects/${PROJECT}/attestors/a"),
            Some("${PROJECT}")
        );
        assert_eq!(placeholder("gcr.io/$PROJECT_ID/x*"), Some("$PROJECT_ID"));
        assert_eq!(placeholder("gcr.io/<project>/x*"), Some("<project>"));
        assert_eq!(
            placeholder("projects/YOUR_PROJECT_ID/attestors/a"),
            Some("YOUR_PROJECT_ID")
        );
        assert_eq!(
            placeholder("projects/PROJECT_ID/attestors/a"),
            Some("PROJECT_ID")
        );
        assert_eq!(
            placeholder("projects/_PROJECT_ID_/attestors/a"),
            Some("_PROJECT_ID_")
        );
        assert_eq!(placeholder("gcr.io/my-project/nginx*"), None);
        assert_eq!(placeholder("gcr.io/PROJ/nginx*"), None);
        assert_eq!(placeholder("us-central1-a.prod"), None);
        assert_eq!(placeholder("costs $5"), None);
        assert_eq!(
            placeholder("us-central1-docker.pkg.dev/project-id-here/**"),
            Some("project-id-here")
        );
    }

    #[test]
    fn key_formats() {
        assert!(cluster_key_problem("us-central1-a.prod").is_none());
        assert!(cluster_key_problem("${ZONE}.${CLUSTER}").is_none());
        assert!(cluster_key_problem("staging-cluster").is_some());
        assert!(cluster_key_problem(".x").is_some());
        assert!(cluster_key_problem("a.b.c").is_some());
        assert!(service_account_key_problem("prod:deployer").is_none());
        assert!(service_account_key_problem("prod/deployer").is_some());
        assert!(service_account_key_problem(":x").is_some());
        assert!(attestor_name_problem("projects/p/attestors/a").is_none());
        assert!(attestor_name_problem("projects//attestors/a").is_some());
        assert!(attestor_name_problem("attestors/a").is_some());
        assert!(is_dns_label("kube-system"));
        assert!(!is_dns_label("Prod"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("admissionAllowlistPatterns", TOP_KEYS.iter().copied()),
            Some("admissionWhitelistPatterns")
        );
        assert_eq!(
            suggest(
                "REQUIRE_ATTESTATIONS",
                EVALUATION_MODES.iter().map(|(n, _)| *n)
            ),
            Some("REQUIRE_ATTESTATION")
        );
        assert_eq!(
            suggest("always_deny", EVALUATION_MODES.iter().map(|(n, _)| *n)),
            Some("ALWAYS_DENY")
        );
        assert_eq!(suggest("zzz", TOP_KEYS.iter().copied()), None);
    }
}
