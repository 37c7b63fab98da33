//! The check kinds of a platform policy: each kind's fields, required values, pattern
//! grammars and keys (split from the loader to keep files short; same `Loader`).

use crate::yaml::{NodeId, Span};

use super::super::super::load::value_or_key;
use super::super::{CheckKind, SourceRepoPattern, TrustedDirPattern};
use super::{Loader, MAX_PROJECTS, SEVERITIES, SIGNATURE_ALGORITHMS};
use crate::policy::{Refuser, Severity};

impl Loader<'_> {
    pub(super) fn kind(&mut self, key: &str, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let before = self.error_count();
        let kind = match key {
            "alwaysDeny" => match self.boolean(key, key_span, value) {
                Some(true) => Some(CheckKind::AlwaysDeny),
                Some(false) => {
                    self.error_help(
                        value_or_key(self.tree, key_span, value),
                        Refuser::Linter,
                        "`alwaysDeny: false` checks nothing: an always-deny check is written \
                         `alwaysDeny: true`",
                        "a check that never runs",
                        "remove the check, or write `alwaysDeny: true`",
                    );
                    None
                }
                None => None,
            },
            "imageFreshnessCheck" => self.freshness(key_span, value),
            "simpleSigningAttestationCheck" => self.simple_signing(key_span, value),
            "slsaCheck" => self.slsa(key_span, value),
            "trustedDirectoryCheck" => self.trusted_directory(key_span, value),
            "vulnerabilityCheck" => self.vulnerability(key_span, value),
            _ => self.sigstore(key_span, value),
        };
        kind.filter(|_| self.error_count() == before)
    }

    pub(super) fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// A required field that is missing, reported at the check kind's key.
    fn required(&mut self, at: Span, field: &str, what: &str) {
        let message = format!("`{field}` is required in {what}");
        self.error(at, Refuser::Server, &message, &format!("missing `{field}`"));
    }

    fn freshness(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(
            key_span,
            value,
            "`imageFreshnessCheck`",
            &["maxUploadAgeDays"],
        )?;
        let Some((key, field_span, node)) = fields.first().copied() else {
            self.required(key_span, "maxUploadAgeDays", "`imageFreshnessCheck`");
            return None;
        };
        let days = self.integer(key, field_span, node);
        let span = value_or_key(self.tree, field_span, node);
        match days {
            Some(days) if days <= 0 => {
                let message = format!("`maxUploadAgeDays` must be greater than 0, found {days}");
                self.error(
                    span,
                    Refuser::Server,
                    &message,
                    "not a positive number of days",
                );
                None
            }
            Some(days) if days > i64::from(i32::MAX) => {
                let message = format!("`maxUploadAgeDays` is at most {}, found {days}", i32::MAX);
                self.error(span, Refuser::Server, &message, "out of range");
                None
            }
            Some(days) => Some(CheckKind::ImageFreshness {
                max_upload_age_days: days,
            }),
            None if self.tree.is_null(node) => {
                self.required(key_span, "maxUploadAgeDays", "`imageFreshnessCheck`");
                None
            }
            None => None,
        }
    }

    fn vulnerability(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(
            key_span,
            value,
            "`vulnerabilityCheck`",
            &[
                "maximumFixableSeverity",
                "maximumUnfixableSeverity",
                "allowedCves",
                "blockedCves",
                "containerAnalysisVulnerabilityProjects",
            ],
        )?;
        let mut seen = Vec::new();
        for (key, field_span, node) in fields {
            match key {
                "maximumFixableSeverity" | "maximumUnfixableSeverity" => {
                    seen.push(key);
                    self.enumeration(
                        key,
                        field_span,
                        node,
                        SEVERITIES,
                        "MAXIMUM_ALLOWED_SEVERITY_UNSPECIFIED",
                    );
                }
                "containerAnalysisVulnerabilityProjects" => {
                    self.projects(key, field_span, node);
                }
                _ => {
                    self.string_list(key, field_span, node);
                }
            }
        }
        for required in ["maximumFixableSeverity", "maximumUnfixableSeverity"] {
            if !seen.contains(&required) {
                self.required(key_span, required, "`vulnerabilityCheck`");
            }
        }
        Some(CheckKind::Vulnerability)
    }

    /// `containerAnalysis…Projects`: `projects/PROJECT_ID`, at most 10.
    fn projects(&mut self, field: &str, key_span: Span, node: NodeId) -> Vec<String> {
        let list = self.string_list(field, key_span, node);
        if list.len() > MAX_PROJECTS {
            let message = format!(
                "`{field}` lists {} projects; at most {MAX_PROJECTS} are allowed",
                list.len()
            );
            self.error(key_span, Refuser::Server, &message, "too many projects");
        }
        let mut out = Vec::with_capacity(list.len());
        for (text, span) in list {
            let id = text.strip_prefix("projects/").unwrap_or("");
            if id.is_empty() || id.contains(['/', ' ']) {
                let message = format!("`{text}` is not `projects/PROJECT_ID`");
                self.error_help(
                    span,
                    Refuser::Server,
                    &message,
                    "expected `projects/PROJECT_ID`",
                    &format!(
                        "write `projects/{}`",
                        text.rsplit('/').next().unwrap_or(&text)
                    ),
                );
                continue;
            }
            self.placeholder_check(span, &text, "project");
            out.push(text);
        }
        out
    }

    fn trusted_directory(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(
            key_span,
            value,
            "`trustedDirectoryCheck`",
            &["trustedDirPatterns"],
        )?;
        let mut patterns = Vec::new();
        let mut written = 0;
        for (key, field_span, node) in fields {
            let list = self.string_list(key, field_span, node);
            written += list.len();
            for (text, span) in list {
                match TrustedDirPattern::compile(&text) {
                    Ok(p) => {
                        self.placeholder_check(span, &text, "trusted directory pattern");
                        patterns.push(p);
                    }
                    Err(problem) => {
                        let shown = if text.is_empty() { "\"\"" } else { &text };
                        let message = if text.is_empty() {
                            "a trusted directory pattern is empty".to_string()
                        } else {
                            format!("invalid trusted directory pattern `{shown}`: {problem}")
                        };
                        self.error_help(
                            span,
                            Refuser::Server,
                            &message,
                            "expected `registry/path/to/directory`",
                            "e.g. `us-docker.pkg.dev/my-project/my-repo`, `*-docker.pkg.dev/my-project/*`, `gcr.io/my-project/**`",
                        );
                    }
                }
            }
        }
        if written == 0 {
            self.error(
                key_span,
                Refuser::Server,
                "`trustedDirPatterns` is required in `trustedDirectoryCheck`: at least one pattern",
                "missing `trustedDirPatterns`",
            );
            return None;
        }
        Some(CheckKind::TrustedDirectory(patterns))
    }

    fn simple_signing(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(
            key_span,
            value,
            "`simpleSigningAttestationCheck`",
            &[
                "attestationAuthenticators",
                "containerAnalysisAttestationProjects",
            ],
        )?;
        let mut authenticators = Vec::new();
        let mut projects = Vec::new();
        let mut written = 0;
        for (key, field_span, node) in fields {
            if key == "containerAnalysisAttestationProjects" {
                projects = self.projects(key, field_span, node);
                continue;
            }
            let items = self.message_list(key, field_span, node, "an attestation authenticator");
            written += items.len();
            for (index, item) in items.into_iter().enumerate() {
                if let Some(attestor) = self.authenticator(index, item) {
                    authenticators.push(attestor);
                }
            }
        }
        if written == 0 {
            self.error(
                key_span,
                Refuser::Server,
                "`attestationAuthenticators` is required in `simpleSigningAttestationCheck`: at \
                 least one authenticator",
                "missing `attestationAuthenticators`",
            );
            return None;
        }
        Some(CheckKind::SimpleSigning {
            authenticators,
            projects,
        })
    }

    fn authenticator(&mut self, index: usize, node: NodeId) -> Option<crate::attest::Attestor> {
        let span = self.tree.span(node);
        let fields = self.fields(
            node,
            "an attestation authenticator",
            &["displayName", "pkixPublicKeySet"],
        )?;
        let mut display = None;
        let mut keys: Vec<(Option<String>, String, String, Span)> = Vec::new();
        let mut has_set = false;
        for (key, field_span, value) in fields {
            if key == "displayName" {
                display = self.string(key, field_span, value);
                continue;
            }
            has_set = true;
            let set =
                self.fields_of(field_span, value, "`pkixPublicKeySet`", &["pkixPublicKeys"])?;
            let mut written = 0;
            for (key, list_span, list) in set {
                let items = self.message_list(key, list_span, list, "a PKIX public key");
                written += items.len();
                for item in items {
                    keys.extend(self.pkix_key(item));
                }
            }
            if written == 0 {
                let at = match self.tree.get_entry(value, "pkixPublicKeys") {
                    Some((k, v)) => value_or_key(self.tree, self.tree.span(k), v),
                    None => field_span,
                };
                self.error(
                    at,
                    Refuser::Server,
                    "`pkixPublicKeys` needs at least one key",
                    "no keys",
                );
                return None;
            }
        }
        if !has_set {
            self.error_help(
                span,
                Refuser::Linter,
                "an attestation authenticator without `pkixPublicKeySet` can verify nothing",
                "no keys",
                "add `pkixPublicKeySet: {pkixPublicKeys: [{publicKeyPem: ..., signatureAlgorithm: ...}]}`",
            );
            return None;
        }
        let name = match &display {
            Some(d) => format!("authenticator {index} ({d})"),
            None => format!("authenticator {index}"),
        };
        let borrowed: Vec<(Option<&str>, &str, &str)> = keys
            .iter()
            .map(|(id, pem, alg, _)| (id.as_deref(), pem.as_str(), alg.as_str()))
            .collect();
        match crate::attest::Attestor::from_pkix_keys(&name, &borrowed, self.file, span.start.line)
        {
            Ok(attestor) => Some(attestor),
            Err((bad, problem)) => {
                let at = keys.get(bad).map_or(span, |k| k.3);
                let message = format!("`publicKeyPem` is not a usable public key: {problem}");
                self.error(
                    at,
                    Refuser::Server,
                    &message,
                    "expected a `PUBLIC KEY` PEM block",
                );
                None
            }
        }
    }

    /// One `pkixPublicKeys` entry: `(keyId, publicKeyPem, signatureAlgorithm, pem span)`.
    fn pkix_key(&mut self, node: NodeId) -> Option<(Option<String>, String, String, Span)> {
        let span = self.tree.span(node);
        let fields = self.fields(
            node,
            "a PKIX public key",
            &["publicKeyPem", "signatureAlgorithm", "keyId"],
        )?;
        let mut pem = None;
        let mut algorithm = None;
        let mut id = None;
        for (key, field_span, value) in fields {
            match key {
                "publicKeyPem" => {
                    pem = self
                        .string(key, field_span, value)
                        .map(|p| (p, value_or_key(self.tree, field_span, value)));
                }
                "signatureAlgorithm" => {
                    algorithm = self.enumeration(
                        key,
                        field_span,
                        value,
                        SIGNATURE_ALGORITHMS,
                        "SIGNATURE_ALGORITHM_UNSPECIFIED",
                    );
                }
                _ => id = self.string(key, field_span, value),
            }
        }
        let Some((pem, pem_span)) = pem else {
            self.required(span, "publicKeyPem", "a PKIX public key");
            return None;
        };
        let Some(algorithm) = algorithm else {
            if self.tree.get(node, "signatureAlgorithm").is_none() {
                self.required(span, "signatureAlgorithm", "a PKIX public key");
            }
            return None;
        };
        Some((id, pem, algorithm.to_string(), pem_span))
    }

    fn slsa(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(key_span, value, "`slsaCheck`", &["rules"])?;
        for (key, field_span, node) in fields {
            for rule in self.message_list(key, field_span, node, "a SLSA verification rule") {
                let Some(rule_fields) = self.fields(
                    rule,
                    "a SLSA verification rule",
                    &[
                        "trustedBuilder",
                        "attestationSource",
                        "configBasedBuildRequired",
                        "trustedSourceRepoPatterns",
                        "customConstraints",
                    ],
                ) else {
                    continue;
                };
                for (key, field_span, node) in rule_fields {
                    match key {
                        "trustedBuilder" => {
                            self.enumeration(
                                key,
                                field_span,
                                node,
                                &["GOOGLE_CLOUD_BUILD"],
                                "BUILDER_UNSPECIFIED",
                            );
                        }
                        "attestationSource" => {
                            if let Some(source) = self.fields_of(
                                field_span,
                                node,
                                "`attestationSource`",
                                &["containerAnalysisAttestationProjects"],
                            ) {
                                for (key, span, list) in source {
                                    self.projects(key, span, list);
                                }
                            }
                        }
                        "configBasedBuildRequired" => {
                            self.boolean(key, field_span, node);
                        }
                        "trustedSourceRepoPatterns" => {
                            for (text, span) in self.string_list(key, field_span, node) {
                                if let Err(problem) = SourceRepoPattern::compile(&text) {
                                    let message = format!(
                                        "invalid trusted source repository pattern `{text}`: {problem}"
                                    );
                                    self.error_help(
                                        span,
                                        Refuser::Server,
                                        &message,
                                        "expected `host/path`, `host/path/*` or `host/path/**`",
                                        "e.g. `github.com/my-org/my-repo` or `github.com/my-org/*`",
                                    );
                                }
                            }
                        }
                        _ => {
                            self.string(key, field_span, node);
                        }
                    }
                }
            }
        }
        Some(CheckKind::Slsa)
    }

    fn sigstore(&mut self, key_span: Span, value: NodeId) -> Option<CheckKind> {
        let fields = self.fields_of(
            key_span,
            value,
            "`sigstoreSignatureCheck`",
            &["sigstoreAuthorities"],
        )?;
        let mut written = 0;
        for (key, field_span, node) in fields {
            for authority in self.message_list(key, field_span, node, "a sigstore authority") {
                written += 1;
                let Some(authority_fields) = self.fields(
                    authority,
                    "a sigstore authority",
                    &["displayName", "publicKeySet"],
                ) else {
                    continue;
                };
                for (key, span, value) in authority_fields {
                    if key == "displayName" {
                        self.string(key, span, value);
                        continue;
                    }
                    let Some(set) = self.fields_of(span, value, "`publicKeySet`", &["publicKeys"])
                    else {
                        continue;
                    };
                    for (key, list_span, list) in set {
                        for item in self.message_list(key, list_span, list, "a sigstore public key")
                        {
                            let Some(key_fields) =
                                self.fields(item, "a sigstore public key", &["publicKeyPem"])
                            else {
                                continue;
                            };
                            for (key, pem_span, pem) in key_fields {
                                let Some(text) = self.string(key, pem_span, pem) else {
                                    continue;
                                };
                                if let Err(problem) = crate::attest::check_public_key_pem(&text) {
                                    let message = format!(
                                        "`publicKeyPem` is not a usable public key: {problem}"
                                    );
                                    self.error(
                                        value_or_key(self.tree, pem_span, pem),
                                        Refuser::Server,
                                        &message,
                                        "expected a `PUBLIC KEY` PEM block",
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        if written == 0 {
            self.error(
                key_span,
                Refuser::Server,
                "`sigstoreAuthorities` is required in `sigstoreSignatureCheck`: at least one \
                 authority",
                "missing `sigstoreAuthorities`",
            );
            return None;
        }
        Some(CheckKind::SigstoreSignature)
    }
}
