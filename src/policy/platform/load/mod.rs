//! Platform policy file → validated [`PlatformPolicy`], with diagnostics located in the
//! file and rendered like the project policy's (same rule ids, same "who refuses it").
//!
//! What gcloud's client-side decoder does with a platform policy was checked with the
//! decoder itself (`DictToMessageWithErrorCheck(…, PlatformPolicy)`, Google Cloud CLI 528),
//! and the loader mirrors it: unknown fields, wrong scalar types, lower-case or null enum
//! names, a float where an integer goes and null list items are refused; a single string
//! where a list of strings goes, a single mapping where a list of messages goes and a quoted
//! integer are accepted (warnings `policy-lenient-form`, the same decision as for the
//! project policy's `requireAttestationsBy`). The documented server rules (scope order and
//! catch-all, one kind per check, pattern grammars, `maxUploadAgeDays > 0`, required fields,
//! at most 10 projects) are errors "the server rejects".

mod kinds;

use crate::yaml::{self, Limits, NodeId, ScalarKind, Span, Tree};

use super::super::decision::PolicyRef;
use super::super::load::{
    describe, is_dns_label, is_string, placeholder, service_account_key_problem, sort, suggest,
    value_or_key,
};
use super::super::{Pattern, PolicyDiagnostic, Refuser, Severity};
use super::{Allowlist, Check, CheckKind, CheckSet, PlatformPolicy, Scope};

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "gkePolicy",
    "cloudRunPolicy",
    "updateTime",
    "etag",
];
const GKE_KEYS: &[&str] = &["imageAllowlist", "checkSets"];
const SET_KEYS: &[&str] = &["displayName", "scope", "imageAllowlist", "checks"];
const SCOPE_KEYS: &[&str] = &["kubernetesNamespace", "kubernetesServiceAccount"];
const ALLOWLIST_KEYS: &[&str] = &["allowPattern"];
const KIND_KEYS: &[&str] = &[
    "alwaysDeny",
    "imageFreshnessCheck",
    "simpleSigningAttestationCheck",
    "slsaCheck",
    "trustedDirectoryCheck",
    "vulnerabilityCheck",
    "sigstoreSignatureCheck",
];
const CHECK_KEYS: &[&str] = &[
    "displayName",
    "imageAllowlist",
    "alwaysDeny",
    "imageFreshnessCheck",
    "simpleSigningAttestationCheck",
    "slsaCheck",
    "trustedDirectoryCheck",
    "vulnerabilityCheck",
    "sigstoreSignatureCheck",
];
const SEVERITIES: &[&str] = &[
    "BLOCK_ALL",
    "MINIMAL",
    "LOW",
    "MEDIUM",
    "HIGH",
    "CRITICAL",
    "ALLOW_ALL",
];
const SIGNATURE_ALGORITHMS: &[&str] = &[
    "RSA_PSS_2048_SHA256",
    "RSA_SIGN_PSS_2048_SHA256",
    "RSA_PSS_3072_SHA256",
    "RSA_SIGN_PSS_3072_SHA256",
    "RSA_PSS_4096_SHA256",
    "RSA_SIGN_PSS_4096_SHA256",
    "RSA_PSS_4096_SHA512",
    "RSA_SIGN_PSS_4096_SHA512",
    "RSA_SIGN_PKCS1_2048_SHA256",
    "RSA_SIGN_PKCS1_3072_SHA256",
    "RSA_SIGN_PKCS1_4096_SHA256",
    "RSA_SIGN_PKCS1_4096_SHA512",
    "ECDSA_P256_SHA256",
    "EC_SIGN_P256_SHA256",
    "ECDSA_P384_SHA384",
    "EC_SIGN_P384_SHA384",
    "ECDSA_P521_SHA512",
    "EC_SIGN_P521_SHA512",
];
/// Project-policy fields: their presence means the wrong kind of policy was passed.
const PROJECT_KEYS: &[&str] = &[
    "defaultAdmissionRule",
    "admissionWhitelistPatterns",
    "clusterAdmissionRules",
    "globalPolicyEvaluationMode",
];
/// "Maximum number of `container_analysis_…_projects` allowed … is 10."
const MAX_PROJECTS: usize = 10;

/// Validate `text`; the policy when no error was found, and every diagnostic, sorted.
pub(super) fn load(text: &str, display: &str) -> (Option<PlatformPolicy>, Vec<PolicyDiagnostic>) {
    let tree = yaml::parse(text, &Limits::default());
    let mut loader = Loader {
        tree: &tree,
        file: display,
        diags: Vec::new(),
    };
    let policy = loader.policy(display);
    let mut diags = loader.diags;
    sort(&mut diags);
    let ok = !diags.iter().any(|d| d.severity == Severity::Error);
    (policy.filter(|_| ok), diags)
}

/// A mapping entry: key text, key span, value.
type Field<'t> = (&'static str, Span, NodeId);

/// What a check set contributes to the order checks.
struct ScopeSite {
    scope: Scope,
    /// The set's mapping (for "only the last set may be unscoped").
    set: Span,
    /// The `scope` key, or the set when there is none.
    key: Span,
    /// The namespace or service-account value.
    value: Span,
}

struct Loader<'t> {
    tree: &'t Tree<'t>,
    file: &'t str,
    diags: Vec<PolicyDiagnostic>,
}

impl<'t> Loader<'t> {
    fn error(&mut self, span: Span, refuser: Refuser, message: &str, label: &str) {
        let mut d = PolicyDiagnostic::new(
            Severity::Error,
            "policy-invalid",
            self.file,
            span,
            format!("{message} ({})", refuser.phrase()),
        )
        .label(label);
        d.refuser = Some(refuser);
        self.diags.push(d);
    }

    fn error_help(&mut self, span: Span, refuser: Refuser, message: &str, label: &str, help: &str) {
        self.error(span, refuser, message, label);
        if let Some(last) = self.diags.pop() {
            self.diags.push(last.help(help));
        }
    }

    fn lenient(&mut self, span: Span, message: String, label: &str, help: String) {
        let d = PolicyDiagnostic::new(
            Severity::Warning,
            "policy-lenient-form",
            self.file,
            span,
            message,
        )
        .label(label)
        .help(help);
        self.diags.push(d);
    }

    /// `policy-placeholder`: template text (`${PROJECT}`, `PROJECT_ID`, `project-id-here`)
    /// that can never match until it is substituted.
    fn placeholder_check(&mut self, span: Span, text: &str, what: &str) {
        if let Some(found) = placeholder(text) {
            let d = PolicyDiagnostic::new(
                Severity::Warning,
                "policy-placeholder",
                self.file,
                span,
                format!(
                    "{what} `{text}` contains the unresolved placeholder `{found}`; it can only \
                     match once the placeholder is replaced"
                ),
            )
            .label("placeholder")
            .help(
                "substitute the value (e.g. with `envsubst`) before creating the policy or linting",
            );
            self.diags.push(d);
        }
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

    fn text(&self, node: NodeId) -> &'t str {
        self.tree.scalar(node).unwrap_or("")
    }

    /// The single document's root mapping, or `None` after reporting why not.
    fn root(&mut self) -> Option<NodeId> {
        if let Some(err) = &self.tree.error {
            let at = Span {
                start: err.pos,
                end: err.pos,
            };
            let message = format!("not valid YAML or JSON: {}", err.message);
            self.error(at, Refuser::Gcloud, &message, "parsing stopped here");
            return None;
        }
        if let Some(second) = self.tree.documents.get(1) {
            let span = second.root.map(|r| self.tree.span(r)).unwrap_or_default();
            let message = format!(
                "a platform policy file holds one YAML document; this one has {}",
                self.tree.documents.len()
            );
            self.error(span, Refuser::Gcloud, &message, "second document");
            return None;
        }
        let root = self.tree.documents.first().and_then(|d| d.root);
        let Some(root) = root.filter(|r| !self.tree.is_null(*r)) else {
            self.error_help(
                Span::default(),
                Refuser::Linter,
                "the platform policy file is empty",
                "",
                "write `gkePolicy:` with `checkSets` (an empty `gkePolicy: {}` allows every image)",
            );
            return None;
        };
        if self.tree.map(root).is_none() {
            let message = format!(
                "a platform policy is a mapping of fields, not {}",
                describe(self.tree, root)
            );
            self.error(
                self.tree.span(root),
                Refuser::Gcloud,
                &message,
                "expected `gkePolicy:`",
            );
            return None;
        }
        Some(root)
    }

    fn policy(&mut self, display: &str) -> Option<PlatformPolicy> {
        let root = self.root()?;
        for dup in &self.tree.duplicates {
            let d = PolicyDiagnostic::new(
                Severity::Warning,
                "policy-duplicate-key",
                self.file,
                dup.span,
                format!(
                    "`{}` is repeated (first at line {}); gcloud keeps only the last value",
                    dup.key, dup.first.start.line
                ),
            )
            .label("repeated key");
            self.diags.push(d);
        }
        let root_span = self.tree.span(root);
        let at_start = Span {
            start: root_span.start,
            end: root_span.start,
        };
        if self.tree.get(root, "gkePolicy").is_none()
            && let Some((key, _)) = PROJECT_KEYS
                .iter()
                .find_map(|k| self.tree.get_entry(root, k))
        {
            let message = format!(
                "`{}` belongs to a project policy (`gcloud container binauthz policy export`), \
                     not a platform policy",
                self.text(key)
            );
            self.error_help(
                self.tree.span(key),
                Refuser::Gcloud,
                &message,
                "project policy field",
                "pass project policies with `--policy`; `--platform-policy` takes the file of \
                     `gcloud beta container binauthz policy create --platform=gke --policy-file`",
            );
            return None;
        }
        let mut name = None;
        let mut gke: Option<(Span, NodeId)> = None;
        for (key, key_span, value) in
            self.fields(root, "the platform policy's top level", TOP_KEYS)?
        {
            match key {
                "name" => name = self.string(key, key_span, value),
                "description" | "updateTime" | "etag" => {
                    self.string(key, key_span, value);
                }
                "gkePolicy" => gke = Some((key_span, value)),
                _ => {
                    // `cloudRunPolicy`
                    self.error_help(
                        key_span,
                        Refuser::Linter,
                        "this platform policy has a `cloudRunPolicy`; continuous validation on GKE \
                         reads `gkePolicy`, and Cloud Run platform policies are evaluated online only",
                        "not a GKE policy",
                        "pass the policy of `gcloud beta container binauthz policy create --platform=gke`",
                    );
                }
            }
        }
        let Some((gke_key, gke)) = gke else {
            if self.tree.get(root, "cloudRunPolicy").is_none() {
                self.error_help(
                    at_start,
                    Refuser::Server,
                    "the platform policy has no `gkePolicy`",
                    "missing `gkePolicy`",
                    "add `gkePolicy:` with `checkSets` (`gkePolicy: {}` allows every image)",
                );
            }
            return None;
        };
        let mut policy = PlatformPolicy {
            source: display.to_string(),
            name,
            allowlist: Vec::new(),
            check_sets: Vec::new(),
        };
        let mut sites = Vec::new();
        for (key, key_span, value) in self.fields_of(gke_key, gke, "`gkePolicy`", GKE_KEYS)? {
            if key == "imageAllowlist" {
                policy.allowlist = self.allowlist(key_span, value);
            } else {
                for (index, set) in self
                    .message_list("checkSets", key_span, value, "a check set")
                    .into_iter()
                    .enumerate()
                {
                    if let Some((set, site)) = self.check_set(index, set) {
                        policy.check_sets.push(set);
                        sites.push(site);
                    }
                }
            }
        }
        self.order(&sites);
        Some(policy)
    }

    /// The entries of a mapping, with unknown keys reported; `None` after a type error.
    fn fields(
        &mut self,
        node: NodeId,
        what: &str,
        known: &[&'static str],
    ) -> Option<Vec<Field<'t>>> {
        let span = self.tree.span(node);
        self.fields_of(span, node, what, known)
    }

    /// [`Loader::fields`] of a value whose key is at `key_span` (null → no entries).
    fn fields_of(
        &mut self,
        key_span: Span,
        node: NodeId,
        what: &str,
        known: &[&'static str],
    ) -> Option<Vec<Field<'t>>> {
        if self.tree.is_null(node) {
            return Some(Vec::new());
        }
        if self.tree.map(node).is_none() {
            let message = format!(
                "{what} must be a mapping, found {}",
                describe(self.tree, node)
            );
            let span = value_or_key(self.tree, key_span, node);
            self.error(span, Refuser::Gcloud, &message, "expected a mapping");
            return None;
        }
        let mut out = Vec::new();
        for (k, v) in self.tree.entries(node) {
            let key_span = self.tree.span(k);
            let text = self.text(k);
            if let Some(known_key) = known.iter().find(|known| **known == text) {
                out.push((*known_key, key_span, v));
                continue;
            }
            let message = format!("unknown field `{text}` in {what}");
            let help = match suggest(text, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known fields: {}", known.join(", ")),
            };
            self.error_help(key_span, Refuser::Gcloud, &message, "unknown field", &help);
        }
        Some(out)
    }

    /// A string field; `None` for null or after a type error.
    fn string(&mut self, field: &str, key_span: Span, node: NodeId) -> Option<String> {
        if self.tree.is_null(node) {
            return None;
        }
        if is_string(self.tree, node) {
            return self.tree.scalar(node).map(str::to_string);
        }
        let message = format!(
            "`{field}` must be a string, found {}",
            describe(self.tree, node)
        );
        let span = value_or_key(self.tree, key_span, node);
        self.error(span, Refuser::Gcloud, &message, "expected a string");
        None
    }

    fn boolean(&mut self, field: &str, key_span: Span, node: NodeId) -> Option<bool> {
        if self.tree.scalar_kind(node) == Some(ScalarKind::Bool) {
            let text = self.text(node).to_ascii_lowercase();
            return Some(matches!(text.as_str(), "true" | "yes" | "on" | "y"));
        }
        if self.tree.is_null(node) {
            return None;
        }
        let message = format!(
            "`{field}` must be a boolean, found {}",
            describe(self.tree, node)
        );
        let span = value_or_key(self.tree, key_span, node);
        self.error_help(
            span,
            Refuser::Gcloud,
            &message,
            "expected `true` or `false`",
            "write `true` or `false` without quotes",
        );
        None
    }

    /// An integer field (`None` when null or invalid). A quoted number is a lenient form.
    fn integer(&mut self, field: &str, key_span: Span, node: NodeId) -> Option<i64> {
        let span = value_or_key(self.tree, key_span, node);
        let text = self.text(node).trim();
        match self.tree.scalar_kind(node) {
            Some(ScalarKind::Null) => None,
            Some(ScalarKind::Int) => match parse_int(text) {
                Some(n) => Some(n),
                None => {
                    let message = format!("`{field}` is too large: {text}");
                    self.error(span, Refuser::Gcloud, &message, "out of range");
                    None
                }
            },
            Some(ScalarKind::Str) if parse_int(text).is_some() => {
                self.lenient(
                    span,
                    format!(
                        "`{field}` is a string, not an integer; gcloud converts it, so the \
                         policy is accepted, but write a number"
                    ),
                    "a quoted number",
                    format!("write `{field}: {text}` without quotes"),
                );
                parse_int(text)
            }
            _ => {
                let message = format!(
                    "`{field}` must be an integer, found {}",
                    describe(self.tree, node)
                );
                self.error(span, Refuser::Gcloud, &message, "expected an integer");
                None
            }
        }
    }

    /// An enum field (case-sensitive names; `*_UNSPECIFIED` is refused by the server, a
    /// number by us: exported files use names).
    fn enumeration(
        &mut self,
        field: &str,
        key_span: Span,
        node: NodeId,
        names: &[&'static str],
        unspecified: &str,
    ) -> Option<&'static str> {
        let span = value_or_key(self.tree, key_span, node);
        let valid = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if !is_string(self.tree, node) {
            let (refuser, what) = match self.tree.scalar_kind(node) {
                Some(ScalarKind::Int) => (Refuser::Linter, "a number".to_string()),
                _ => (Refuser::Gcloud, describe(self.tree, node).to_string()),
            };
            let message = format!("`{field}` must be one of {valid}, found {what}");
            self.error(span, refuser, &message, "expected an enum name");
            return None;
        }
        let text = self.text(node);
        if let Some(name) = names.iter().find(|n| **n == text) {
            return Some(name);
        }
        if text == unspecified {
            let message =
                format!("`{field}: {unspecified}` is a \"do not use\" value; write one of {valid}");
            self.error(span, Refuser::Server, &message, "unspecified value");
            return None;
        }
        let message = format!("`{text}` is not a valid `{field}`; expected one of {valid}");
        match suggest(text, names.iter().copied()) {
            Some(s) => self.error_help(
                span,
                Refuser::Gcloud,
                &message,
                "unknown value",
                &format!("did you mean `{s}`? enum names are case-sensitive"),
            ),
            None => self.error(span, Refuser::Gcloud, &message, "unknown value"),
        }
        None
    }

    /// A repeated string field: a list of strings, or (lenient) a single string.
    fn string_list(&mut self, field: &str, key_span: Span, node: NodeId) -> Vec<(String, Span)> {
        let items: Vec<NodeId> = if self.tree.is_null(node) {
            Vec::new()
        } else if let Some(items) = self.tree.seq(node) {
            items.to_vec()
        } else if is_string(self.tree, node) {
            let text = self.text(node);
            self.lenient(
                self.tree.span(node),
                format!(
                    "`{field}` is a single string, not a list; gcloud reads it as a one-item \
                     list, so the policy is accepted, but write a list"
                ),
                "a string, not a list",
                format!("write `{field}:` followed by `- {text}` on the next line"),
            );
            vec![node]
        } else {
            let message = format!(
                "`{field}` must be a list of strings, found {}",
                describe(self.tree, node)
            );
            let span = value_or_key(self.tree, key_span, node);
            self.error(
                span,
                Refuser::Gcloud,
                &message,
                "expected a list of strings",
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if is_string(self.tree, item) {
                out.push((self.text(item).to_string(), self.tree.span(item)));
            } else {
                let message = format!(
                    "an entry of `{field}` must be a string, found {}",
                    describe(self.tree, item)
                );
                let span = value_or_key(self.tree, key_span, item);
                self.error(span, Refuser::Gcloud, &message, "expected a string");
            }
        }
        out
    }

    /// A repeated message field: a list of mappings, or (lenient) a single mapping.
    fn message_list(
        &mut self,
        field: &str,
        key_span: Span,
        node: NodeId,
        item: &str,
    ) -> Vec<NodeId> {
        let items: Vec<NodeId> = if self.tree.is_null(node) {
            Vec::new()
        } else if let Some(items) = self.tree.seq(node) {
            items.to_vec()
        } else if self.tree.map(node).is_some() {
            self.lenient(
                self.tree.span(node),
                format!(
                    "`{field}` is a single mapping, not a list; gcloud reads it as a one-item \
                     list, so the policy is accepted, but write a list"
                ),
                "a mapping, not a list",
                "put `- ` before the first field".to_string(),
            );
            vec![node]
        } else {
            let message = format!(
                "`{field}` must be a list, found {}",
                describe(self.tree, node)
            );
            let span = value_or_key(self.tree, key_span, node);
            self.error(span, Refuser::Gcloud, &message, "expected a list");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for node in items {
            if self.tree.map(node).is_some() {
                out.push(node);
            } else {
                let message = format!(
                    "{item} must be a mapping, found {}",
                    describe(self.tree, node)
                );
                let span = value_or_key(self.tree, key_span, node);
                self.error(span, Refuser::Gcloud, &message, "expected a mapping");
            }
        }
        out
    }

    /// An `imageAllowlist` (policy, check set or check level).
    fn allowlist(&mut self, key_span: Span, node: NodeId) -> Allowlist {
        let Some(fields) = self.fields_of(key_span, node, "an `imageAllowlist`", ALLOWLIST_KEYS)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, key_span, value) in fields {
            for (text, span) in self.string_list(key, key_span, value) {
                match Pattern::compile(&text) {
                    Ok(pattern) => {
                        self.placeholder_check(span, &text, "allow pattern");
                        out.push(pattern);
                    }
                    Err(err) => {
                        let sub = span.within_scalar(&text, err.start, err.end);
                        self.error_help(
                            sub,
                            Refuser::Linter,
                            &format!(
                                "invalid allow pattern `{text}`: {} (`allowPattern` has no \
                                 documented grammar; binauthz-lint applies the `namePattern` \
                                 rules)",
                                err.message
                            ),
                            "wildcards go at the end, after `registry/`",
                            "use a trailing `*` (one path segment) or `**` (any depth)",
                        );
                    }
                }
            }
        }
        out
    }

    fn check_set(&mut self, index: usize, node: NodeId) -> Option<(CheckSet, ScopeSite)> {
        let set_span = self.tree.span(node);
        let what = format!("check set {index}");
        let fields = self.fields(node, &what, SET_KEYS)?;
        let mut set = CheckSet {
            display_name: None,
            scope: Scope::All,
            allowlist: Vec::new(),
            checks: Vec::new(),
            source: self.policy_ref(set_span, format!("check set {index}")),
        };
        let mut site = ScopeSite {
            scope: Scope::All,
            set: set_span,
            key: set_span,
            value: set_span,
        };
        let mut ok = true;
        for (key, key_span, value) in fields {
            match key {
                "displayName" => set.display_name = self.string(key, key_span, value),
                "scope" => match self.scope(key_span, value) {
                    Some((scope, value_span)) => {
                        site.key = key_span;
                        site.value = value_span;
                        site.scope = scope.clone();
                        set.scope = scope;
                    }
                    None => ok = false,
                },
                "imageAllowlist" => set.allowlist = self.allowlist(key_span, value),
                _ => {
                    for check in self.message_list("checks", key_span, value, "a check") {
                        match self.check(check) {
                            Some(check) => set.checks.push(check),
                            None => ok = false,
                        }
                    }
                }
            }
        }
        ok.then_some((set, site))
    }

    /// A `scope`: the scope and the span of the value that names it.
    fn scope(&mut self, key_span: Span, node: NodeId) -> Option<(Scope, Span)> {
        let fields = self.fields_of(key_span, node, "a `scope`", SCOPE_KEYS)?;
        let mut namespace = None;
        let mut account = None;
        for (key, key_span, value) in fields {
            let text = self.string(key, key_span, value).filter(|t| !t.is_empty());
            let span = value_or_key(self.tree, key_span, value);
            if key == "kubernetesNamespace" {
                namespace = text.map(|t| (t, span));
            } else {
                account = text.map(|t| (t, span));
            }
        }
        match (namespace, account) {
            (Some(_), Some(_)) => {
                self.error_help(
                    value_or_key(self.tree, key_span, node),
                    Refuser::Server,
                    "a scope names only one of `kubernetesNamespace` and `kubernetesServiceAccount`",
                    "two scopes",
                    "a service account scope (`NAMESPACE:NAME`) already implies its namespace",
                );
                None
            }
            (Some((ns, span)), None) => {
                self.namespace_check(span, &ns);
                Some((Scope::Namespace(ns), span))
            }
            (None, Some((sa, span))) => {
                if let Some(problem) = service_account_key_problem(&sa) {
                    let message = format!(
                        "service account scope `{sa}` is not of the form `NAMESPACE:NAME`: {problem}"
                    );
                    self.error(
                        span,
                        Refuser::Server,
                        &message,
                        "expected e.g. `prod:deployer`",
                    );
                    return None;
                }
                let (ns, name) = sa.split_once(':').unwrap_or((sa.as_str(), ""));
                self.namespace_check(span, ns);
                Some((
                    Scope::ServiceAccount {
                        namespace: ns.to_string(),
                        name: name.to_string(),
                    },
                    span,
                ))
            }
            (None, None) => Some((Scope::All, value_or_key(self.tree, key_span, node))),
        }
    }

    /// `policy-namespace-key`: a scope namespace no Kubernetes namespace can have (spec A17).
    fn namespace_check(&mut self, span: Span, namespace: &str) {
        if is_dns_label(namespace) || placeholder(namespace).is_some() {
            return;
        }
        let d = PolicyDiagnostic::new(
            Severity::Warning,
            "policy-namespace-key",
            self.file,
            span,
            format!(
                "namespace `{namespace}` is not a valid Kubernetes namespace name (lower-case \
                 letters, digits and `-`, at most 63), so this scope can never match a pod"
            ),
        )
        .label("not a namespace name");
        self.diags.push(d);
    }

    /// Server-side ordering rules of `checkSets` (sources-wave3 §1.2 point 2).
    fn order(&mut self, sites: &[ScopeSite]) {
        let Some((last, rest)) = sites.split_last() else {
            return;
        };
        for (index, site) in rest.iter().enumerate() {
            if site.scope == Scope::All {
                let message = format!(
                    "only the last check set may be unscoped: check set {index} has no `scope`, \
                     so the check sets after it are never selected"
                );
                self.error_help(
                    site.set,
                    Refuser::Server,
                    &message,
                    "catch-all before the end",
                    "move the unscoped check set to the end of `checkSets`",
                );
            }
        }
        if last.scope != Scope::All {
            self.error_help(
                last.key,
                Refuser::Server,
                "the last check set must have no `scope`: a non-empty `checkSets` ends with a \
                 catch-all for the pods no other check set matches",
                "scoped last check set",
                "add `- checks: [{alwaysDeny: true}]` (deny the rest) or `- {}` (allow the rest) \
                 at the end",
            );
        }
        for (later, site) in sites.iter().enumerate() {
            for (earlier, before) in sites.iter().enumerate().take(later) {
                if site.scope == Scope::All {
                    continue;
                }
                if before.scope == site.scope {
                    let message = format!(
                        "check set {later} is never selected: check set {earlier} has the same \
                         scope and comes first"
                    );
                    self.error(site.value, Refuser::Server, &message, "repeated scope");
                    break;
                }
                if let (Scope::Namespace(ns), Scope::ServiceAccount { namespace, name }) =
                    (&before.scope, &site.scope)
                    && ns == namespace
                {
                    let message = format!(
                        "check set {later} (service account `{namespace}:{name}`) comes after \
                         check set {earlier} (namespace `{ns}`): check sets must be listed in \
                         decreasing specificity, a service account before the namespace it is in"
                    );
                    self.error_help(
                        site.value,
                        Refuser::Server,
                        &message,
                        "less specific scope first",
                        &format!("move check set {later} before check set {earlier}"),
                    );
                    break;
                }
            }
        }
    }

    fn check(&mut self, node: NodeId) -> Option<Check> {
        let check_span = self.tree.span(node);
        let errors_before = self.error_count();
        let fields = self.fields(node, "a check", CHECK_KEYS)?;
        // A misspelt kind is already an unknown field: do not also say the kind is missing.
        let misspelt = self.error_count() > errors_before;
        let kinds: Vec<&Field<'t>> = fields
            .iter()
            .filter(|(key, _, _)| KIND_KEYS.contains(key))
            .collect();
        let mut check = Check {
            display_name: None,
            allowlist: Vec::new(),
            kind: CheckKind::AlwaysDeny,
            source: self.policy_ref(check_span, String::new()),
        };
        let mut ok = true;
        for (key, key_span, value) in &fields {
            match *key {
                "displayName" => check.display_name = self.string(key, *key_span, *value),
                "imageAllowlist" => check.allowlist = self.allowlist(*key_span, *value),
                _ => {}
            }
        }
        match kinds.as_slice() {
            [] if misspelt => ok = false,
            [] => {
                self.error_help(
                    check_span,
                    Refuser::Server,
                    "this check has no check kind",
                    "no check kind",
                    &format!("add one of {}", KIND_KEYS.join(", ")),
                );
                ok = false;
            }
            [(key, key_span, value)] => match self.kind(key, *key_span, *value) {
                Some(kind) => check.kind = kind,
                None => ok = false,
            },
            [(first, _, _), rest @ ..] => {
                for (key, key_span, _) in rest {
                    let message = format!(
                        "one kind per check: `{first}` and `{key}` are both set in this check"
                    );
                    self.error_help(
                        *key_span,
                        Refuser::Server,
                        &message,
                        "second check kind",
                        "split them into two checks of the check set (every check must pass)",
                    );
                }
                ok = false;
            }
        }
        ok.then_some(check)
    }
}

/// A decimal integer as YAML writes it (`30`, `+30`, `-3`); `None` when out of range.
fn parse_int(text: &str) -> Option<i64> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.is_empty()
        || !text
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    text.parse().ok()
}
