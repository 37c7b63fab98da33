//! The rule-level checks of the policy loader: admission rules, attestor lists, the
//! specific-rule maps and the allowlist (split from `load.rs` to keep files short).

use std::collections::HashMap;

use crate::yaml::{NodeId, Span};

use super::super::pattern::Pattern;
use super::super::{AdmissionRule, AllowPattern, EvaluationMode, RuleKind};
use super::checks::{
    attestor_name_problem, cluster_key_problem, describe, is_dns_label, is_string, placeholder,
    service_account_key_problem, value_or_key,
};
use super::{ENFORCEMENT_MODES, EVALUATION_MODES, Loader, Mode, PATTERN_KEYS, Parts, RULE_KEYS};
use crate::policy::Refuser;

impl Loader<'_> {
    /// One admission rule mapping.
    pub(super) fn rule(
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
    pub(super) fn rule_map(
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
    pub(super) fn allowlist(&mut self, key_span: Span, node: NodeId) -> Vec<AllowPattern> {
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
                    let sub = span.within_scalar(text, err.start, err.end);
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
