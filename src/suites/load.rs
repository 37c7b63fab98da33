//! Strict loading of a suite file, over the project's own YAML front end (spans on every
//! node). Like the config loader: a misspelt key (`expct:`) or an enum value of another tool
//! (`expect: pass`) would otherwise make a case test nothing, so every unknown key, wrong
//! type, duplicate case name or bad enum value is an error at its `file:line:column`, with a
//! "did you mean" where one is close. Paths are relative to the suite's folder.

use super::{Case, CasePlatform, CvVerdict, Decision, Subject, Suite, SuitePath};
use crate::policy::{PolicyDiagnostic, Severity, render_diagnostics};
use crate::yaml::{self, Limits, NodeId, Span, Tree};
use std::collections::BTreeMap;
use std::path::Path;

/// The rule id of every suite diagnostic (they stop the run: exit 2).
pub const INVALID: &str = "suite-invalid";

const TOP_KEYS: &[&str] = &[
    "version",
    "policy",
    "platformPolicy",
    "systemPolicy",
    "attestors",
    "attestations",
    "cases",
];
const CASE_KEYS: &[&str] = &[
    "name",
    "image",
    "object",
    "platform",
    "cluster",
    "namespace",
    "serviceAccount",
    "breakglass",
    "expect",
    "rule",
    "cv",
    "attestors",
    "attestations",
];

/// A suite that cannot be used (exit code 2), with every problem found.
#[derive(Clone, Debug)]
pub struct SuiteError {
    pub diagnostics: Vec<PolicyDiagnostic>,
    pub source_text: String,
}

impl SuiteError {
    pub fn render(&self, color: bool) -> String {
        render_diagnostics(&self.diagnostics, &self.source_text, color)
    }

    fn unreadable(display: &str, message: String) -> SuiteError {
        SuiteError {
            diagnostics: vec![PolicyDiagnostic::new(
                Severity::Error,
                INVALID,
                display,
                Span::default(),
                message,
            )],
            source_text: String::new(),
        }
    }
}

/// Largest suite file read; real ones are a few kilobytes.
const MAX_SUITE_BYTES: u64 = 16 * 1024 * 1024;

/// Read and validate the suite at `path` (`display` is its report path, `cwd` anchors a
/// relative `path`).
pub fn load_suite(path: &Path, display: &str, cwd: &Path) -> Result<Suite, SuiteError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        SuiteError::unreadable(display, format!("{display}: cannot read the suite: {e}"))
    })?;
    if meta.len() > MAX_SUITE_BYTES {
        return Err(SuiteError::unreadable(
            display,
            format!(
                "{display} is {} bytes; a suite is at most {MAX_SUITE_BYTES} bytes",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        SuiteError::unreadable(display, format!("{display}: cannot read the suite: {e}"))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| SuiteError::unreadable(display, format!("{display}: not UTF-8 text")))?;
    let abs = crate::report::paths::normalize(&cwd.join(path));
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone());
    suite_from_text(&text, display, &dir)
}

/// Validate suite text; relative paths inside are resolved against `dir`.
pub fn suite_from_text(text: &str, display: &str, dir: &Path) -> Result<Suite, SuiteError> {
    let tree = yaml::parse(text, &Limits::default());
    let mut loader = Loader {
        tree: &tree,
        file: display,
        dir,
        diags: Vec::new(),
    };
    let suite = loader.load();
    let mut diags = loader.diags;
    diags.sort_by_key(|d| (d.line, d.column));
    match suite {
        Some(suite) if diags.is_empty() => Ok(suite),
        _ => Err(SuiteError {
            diagnostics: diags,
            source_text: text.to_string(),
        }),
    }
}

struct Loader<'t> {
    tree: &'t Tree<'t>,
    file: &'t str,
    dir: &'t Path,
    diags: Vec<PolicyDiagnostic>,
}

impl<'t> Loader<'t> {
    fn error(&mut self, span: Span, message: String, label: &str) -> &mut PolicyDiagnostic {
        let d =
            PolicyDiagnostic::new(Severity::Error, INVALID, self.file, span, message).label(label);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Check every key of a mapping against `known`; returns the known entries.
    fn entries(&mut self, map: NodeId, known: &[&str], what: &str) -> Vec<(&'t str, Span, NodeId)> {
        let mut out = Vec::new();
        for (k, v) in self.tree.entries(map) {
            let key = self.tree.scalar(k).unwrap_or("");
            let span = self.tree.span(k);
            if known.contains(&key) {
                out.push((key, span, v));
            } else {
                let help = crate::policy::suggest(key, known.iter().copied());
                let d = self.error(
                    span,
                    format!("unknown key `{key}` in {what}"),
                    "unknown key",
                );
                d.help = Some(match help {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys: {}", known.join(", ")),
                });
            }
        }
        out
    }

    fn wrong_type(&mut self, node: NodeId, key: &str, expected: &str) {
        let found = crate::policy::describe(self.tree, node);
        let span = self.tree.span(node);
        self.error(
            span,
            format!("`{key}` must be {expected}, not {found}"),
            "wrong type",
        );
    }

    /// A non-empty string; YAML's `yes`, `1.10` or `null` are not strings (quote them).
    fn string(&mut self, node: NodeId, key: &str) -> Option<String> {
        let Some(s) = self.tree.string(node) else {
            self.wrong_type(node, key, "a string");
            if let Some(text) = self.tree.scalar(node).filter(|t| !t.is_empty()) {
                let help = format!("quote it: `\"{text}\"`");
                if let Some(last) = self.diags.last_mut() {
                    last.help = Some(help);
                }
            }
            return None;
        };
        if s.trim().is_empty() {
            let span = self.tree.span(node);
            self.error(span, format!("`{key}` must not be empty"), "empty");
            return None;
        }
        Some(s.to_string())
    }

    fn bool(&mut self, node: NodeId, key: &str) -> Option<bool> {
        match self.tree.scalar_full(node) {
            Some(("true", yaml::Style::Plain, None)) => Some(true),
            Some(("false", yaml::Style::Plain, None)) => Some(false),
            _ => {
                self.wrong_type(node, key, "`true` or `false`");
                None
            }
        }
    }

    /// One of `names`, or an error with the closest name.
    fn one_of<T>(
        &mut self,
        node: NodeId,
        key: &str,
        names: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.string(node, key)?;
        if let Some(value) = parse(&text) {
            return Some(value);
        }
        let help = crate::policy::suggest(&text, names.iter().copied());
        let span = self.tree.span(node);
        let d = self.error(
            span,
            format!(
                "`{key}` must be one of {}, not `{text}`",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "unknown value",
        );
        if let Some(s) = help {
            d.help = Some(format!("did you mean `{s}`?"));
        }
        None
    }

    /// A path relative to the suite's folder. A file that does not exist is an error here,
    /// at the line that names it, rather than a failing case later.
    fn path(&mut self, node: NodeId, key: &str) -> Option<SuitePath> {
        let written = self.string(node, key)?;
        let span = self.tree.span(node);
        let mut path = crate::report::paths::normalize(&self.dir.join(&written));
        let mut found = path.exists();
        // A policy source may name one resource of a file or folder: `SOURCE#ADDRESS`
        // (contract §13). The source must exist; the address is the policy loader's to check.
        if !found
            && key == "policy"
            && let Some((source, address)) = written.rsplit_once('#')
            && !source.is_empty()
        {
            let source_path = crate::report::paths::normalize(&self.dir.join(source));
            if source_path.exists() {
                let mut with_address = source_path.into_os_string();
                with_address.push(format!("#{address}"));
                path = with_address.into();
                found = true;
            }
        }
        if !found {
            let d = self.error(
                span,
                format!(
                    "`{key}`: `{written}` does not exist (paths are relative to the suite's folder)"
                ),
                "not found",
            );
            d.help = Some(format!("resolved to {}", path.display()));
            return None;
        }
        Some(SuitePath {
            path,
            written,
            span,
        })
    }

    fn load(&mut self) -> Option<Suite> {
        let tree = self.tree;
        let root = tree.single_document_root("suite", |span, message, label| {
            self.error(span, message, label);
        })?;
        let Some(root) = root.filter(|r| self.tree.map(*r).is_some()) else {
            let span = root.map(|r| self.tree.span(r)).unwrap_or_default();
            let found = root.map_or("nothing", |r| crate::policy::describe(self.tree, r));
            let d = self.error(
                span,
                format!("a test suite is a mapping with `version: 1` and `cases:`, not {found}"),
                "not a suite",
            );
            d.help = Some(
                "see `binauthz-lint test --help` and the README's \"Testing a policy\"".to_string(),
            );
            return None;
        };
        let mut suite = Suite {
            display: self.file.to_string(),
            policy: None,
            platform_policy: None,
            system_policy: None,
            attestors: None,
            attestations: None,
            cases: Vec::new(),
        };
        let mut cases_node = None;
        for (key, _, value) in self.entries(root, TOP_KEYS, "the suite") {
            match key {
                "version" => match self.tree.scalar_full(value) {
                    Some(("1", yaml::Style::Plain, None)) => {}
                    _ => {
                        let span = self.tree.span(value);
                        let d = self.error(
                            span,
                            "unsupported suite `version`: this binauthz-lint reads version 1"
                                .to_string(),
                            "unsupported version",
                        );
                        d.help = Some("write `version: 1`".to_string());
                    }
                },
                "policy" => suite.policy = self.path(value, key),
                "platformPolicy" => suite.platform_policy = self.path(value, key),
                "systemPolicy" => suite.system_policy = self.path(value, key),
                "attestors" => suite.attestors = self.path(value, key),
                "attestations" => suite.attestations = self.path(value, key),
                _ => cases_node = Some((value, self.tree.span(value))),
            }
        }
        let Some((cases_node, cases_span)) = cases_node else {
            let span = self.tree.span(root);
            let d = self.error(
                Span {
                    start: span.start,
                    end: span.start,
                },
                "the suite has no `cases:`: a suite without cases tests nothing".to_string(),
                "no cases",
            );
            d.help = Some("add `cases:` with at least one `- name: … expect: …`".to_string());
            return None;
        };
        let Some(items) = self.tree.seq(cases_node).map(<[NodeId]>::to_vec) else {
            self.wrong_type(cases_node, "cases", "a list of cases");
            return None;
        };
        if items.is_empty() {
            self.error(
                cases_span,
                "`cases` is empty: a suite without cases tests nothing".to_string(),
                "no cases",
            );
        }
        // Names are checked on every case, valid or not, so a duplicate is reported with
        // the case's other problems.
        let mut names: BTreeMap<String, u32> = BTreeMap::new();
        for item in items {
            let written = self
                .tree
                .get(item, "name")
                .and_then(|n| Some((self.tree.string(n)?.to_string(), self.tree.span(n))));
            let mut duplicate = false;
            if let Some((name, span)) = written {
                if let Some(first) = names.get(&name) {
                    let message = format!(
                        "case name `{name}` is used twice (first at line {first}); names must be unique in a suite (they name the JUnit test case `FILE::NAME`)"
                    );
                    self.error(span, message, "duplicate name");
                    duplicate = true;
                } else {
                    names.insert(name, span.start.line);
                }
            }
            let has_platform_policy = suite.platform_policy.is_some();
            if let Some(case) = self.case(item, has_platform_policy)
                && !duplicate
            {
                suite.cases.push(case);
            }
        }
        Some(suite)
    }

    fn case(&mut self, node: NodeId, has_platform_policy: bool) -> Option<Case> {
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "cases[]",
                "a mapping (`name`, `image` or `object`, `expect`, …)",
            );
            return None;
        }
        let item_span = self.tree.span(node);
        let mut name: Option<(String, Span)> = None;
        let mut image: Option<(String, Span)> = None;
        let mut object: Option<SuitePath> = None;
        let mut platform: Option<(CasePlatform, Span)> = None;
        let mut cluster = None;
        let mut namespace = None;
        let mut service_account: Option<(String, Span)> = None;
        let mut breakglass: Option<(bool, Span)> = None;
        let mut expect = None;
        let mut rule = None;
        let mut cv: Option<(CvVerdict, Span)> = None;
        let mut attestors = None;
        let mut attestations = None;
        let mut ok = true;
        for (key, key_span, value) in self.entries(node, CASE_KEYS, "a case") {
            let before = self.diags.len();
            match key {
                "name" => {
                    name = self.string(value, key).and_then(|n| {
                        if n.chars().any(char::is_control) {
                            let span = self.tree.span(value);
                            self.error(
                                span,
                                "a case name is one line of text without control characters (it names a JUnit test case)".to_string(),
                                "control character",
                            );
                            None
                        } else {
                            Some((n, self.tree.span(value)))
                        }
                    })
                }
                "image" => image = self.string(value, key).map(|s| (s, key_span)),
                "object" => object = self.path(value, key),
                "platform" => {
                    platform = self
                        .one_of(value, key, &CasePlatform::NAMES, CasePlatform::parse)
                        .map(|p| (p, key_span))
                }
                "cluster" => cluster = self.cluster(value),
                "namespace" => namespace = self.string(value, key),
                "serviceAccount" => {
                    service_account = self.string(value, key).map(|s| (s, key_span))
                }
                "breakglass" => breakglass = self.bool(value, key).map(|b| (b, key_span)),
                "expect" => expect = self.one_of(value, key, &Decision::NAMES, Decision::parse),
                "rule" => rule = self.string(value, key),
                "cv" => {
                    cv = self
                        .one_of(value, key, &CvVerdict::NAMES, CvVerdict::parse)
                        .map(|v| (v, key_span))
                }
                "attestors" => attestors = self.path(value, key),
                _ => attestations = self.path(value, key),
            }
            ok &= self.diags.len() == before;
        }
        let start = Span {
            start: item_span.start,
            end: item_span.start,
        };
        let Some((name, name_span)) = name else {
            if ok {
                self.error(start, "a case needs a `name`".to_string(), "no name");
            }
            return None;
        };
        let subject = match (image, object) {
            (Some((image, _)), None) => Some(Subject::Image(image)),
            (None, Some(object)) => Some(Subject::Object(object)),
            (Some((_, image_span)), Some(_)) => {
                let d = self.error(
                    image_span,
                    format!("case `{name}` has both `image` and `object`"),
                    "one of image/object",
                );
                d.help = Some("write one case per subject".to_string());
                None
            }
            (None, None) => {
                if ok {
                    let d = self.error(
                        name_span,
                        format!("case `{name}` has neither `image` nor `object`"),
                        "nothing to evaluate",
                    );
                    d.help = Some(
                        "`image: REF` evaluates one container in a pod; `object: FILE` every workload of a manifest".to_string(),
                    );
                }
                None
            }
        };
        if expect.is_none() && ok {
            let d = self.error(
                name_span,
                format!("case `{name}` has no `expect`"),
                "no expectation",
            );
            d.help = Some(format!(
                "add `expect:` with one of {}",
                Decision::NAMES.join(", ")
            ));
        }
        if let Some(Subject::Object(_)) = &subject {
            // An object carries its own pod metadata: a value here would be silently unused.
            for (what, span) in [
                ("serviceAccount", service_account.as_ref().map(|s| s.1)),
                // `breakglass: false` adds nothing to an object: harmless, accepted.
                ("breakglass", breakglass.filter(|b| b.0).map(|b| b.1)),
            ] {
                if let Some(span) = span {
                    let d = self.error(
                        span,
                        format!(
                            "`{what}` applies to `image` cases; an object's pods carry their own"
                        ),
                        "not for objects",
                    );
                    d.help = Some("set it in the manifest, or use an `image` case".to_string());
                }
            }
        }
        if let Some((_, span)) = cv
            && !has_platform_policy
        {
            let d = self.error(
                span,
                "`cv` needs the suite's `platformPolicy:` (continuous validation evaluates a platform policy)".to_string(),
                "no platform policy",
            );
            d.help = Some("add `platformPolicy: FILE` at the top of the suite".to_string());
        }
        let subject = subject?;
        Some(Case {
            name,
            span: name_span,
            subject,
            platform: platform.map(|p| p.0).unwrap_or_default(),
            platform_written: platform.is_some(),
            cluster,
            namespace: namespace.unwrap_or_else(|| "default".to_string()),
            service_account: service_account
                .map(|s| s.0)
                .unwrap_or_else(|| "default".to_string()),
            breakglass: breakglass.is_some_and(|b| b.0),
            expect: expect?,
            rule,
            cv: cv.map(|c| c.0),
            attestors,
            attestations,
        })
    }

    /// `cluster:` is a Binary Authorization cluster key, `LOCATION.NAME` (as `--cluster`).
    fn cluster(&mut self, node: NodeId) -> Option<String> {
        let value = self.string(node, "cluster")?;
        let valid = !value.contains(char::is_whitespace)
            && value
                .split_once('.')
                .is_some_and(|(location, name)| !location.is_empty() && !name.is_empty());
        if valid {
            return Some(value);
        }
        let span = self.tree.span(node);
        let d = self.error(
            span,
            format!("`cluster` must be a cluster key `LOCATION.NAME`, not `{value}`"),
            "not LOCATION.NAME",
        );
        d.help = Some("e.g. `us-central1.prod`: the key of `clusterAdmissionRules`".to_string());
        None
    }
}
