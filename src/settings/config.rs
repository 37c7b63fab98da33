//! `.binauthz-lint.yaml` (contract §5, §7, §11): discovery, strict validation with located
//! diagnostics (rendered like policy errors), per-path contexts and approved exceptions.
//!
//! Strictness is deliberate: a misspelt key in a file that decides which cluster rules apply
//! would silently change verdicts, so every unknown key, wrong type, bad date, duplicate id
//! or unknown alias is an error (exit 2), with a "did you mean" where one is close.

use crate::policy::{PolicyDiagnostic, Severity, render_diagnostics};
use crate::rules::Level;
use crate::settings::platform::PlatformSetting;
use crate::yaml::{self, Limits, NodeId, Span, Tree};
use globset::{GlobBuilder, GlobMatcher};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

mod gitops;
pub use gitops::{ClusterIdentities, Family, GitopsSettings, normalize_folder};

/// The file names looked for, in this order.
pub const FILE_NAMES: [&str; 2] = [".binauthz-lint.yaml", ".binauthz-lint.yml"];

/// The rule id of every config diagnostic (they stop the run: exit 2).
pub const INVALID: &str = "config-invalid";

/// `failOn` in the file (the same values as `--fail-on`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    /// The lowest level that fails the run; `None` for `never`.
    pub fn threshold(self) -> Option<Level> {
        match self {
            FailOn::Error => Some(Level::Error),
            FailOn::Warning => Some(Level::Warning),
            FailOn::Note => Some(Level::Note),
            FailOn::Never => None,
        }
    }
}

/// A path-valued setting, resolved against the config's folder, with where it was written.
#[derive(Clone, Debug)]
pub struct PathSetting {
    pub path: PathBuf,
    pub span: Span,
}

/// One entry of `contexts:`.
#[derive(Clone, Debug)]
pub struct Context {
    pub name: String,
    pub patterns: Vec<String>,
    matchers: Vec<GlobMatcher>,
    /// The Binary Authorization cluster key (an alias is already resolved).
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub policy: Option<PathSetting>,
    /// `platformPolicies`: the platform policies bound to this context's cluster
    /// (contract §15); `None` inherits the top level's.
    pub platform_policies: Option<Vec<PathSetting>>,
    /// `platform:` (contract §12): how its Knative Services are read.
    pub platform: Option<PlatformSetting>,
    pub span: Span,
}

/// `match:` of an exception: every given key must match.
#[derive(Clone, Debug, Default)]
pub struct ExceptionMatch {
    pub kind: Option<String>,
    pub name: Option<GlobMatcher>,
    pub namespace: Option<String>,
    pub context: Option<String>,
    pub path: Option<GlobMatcher>,
    pub container: Option<String>,
    pub image: Option<String>,
}

/// A calendar date (UTC), for `expires` and `--today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// `YYYY-MM-DD`, a real calendar day.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let year: i32 = text.get(0..4)?.parse().ok()?;
        let month: u32 = text.get(5..7)?.parse().ok()?;
        let day: u32 = text.get(8..10)?.parse().ok()?;
        if !text.get(0..4)?.bytes().all(|c| c.is_ascii_digit())
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01 (`civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_days(secs.div_euclid(86_400))
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// One entry of `exceptions:` (contract §7).
#[derive(Clone, Debug)]
pub struct Exception {
    pub id: String,
    pub rules: Vec<String>,
    pub matcher: ExceptionMatch,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    pub expires: Date,
    /// The entry (its `- ` item) in the config file.
    pub span: Span,
}

/// `render:` (contract §9).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderSettings {
    pub kustomize: bool,
    pub helm: bool,
    /// `render.helmValues`: chart folder → values files passed to `helm template -f`, in
    /// order. Both resolved against the config's folder and normalised.
    pub helm_values: Vec<HelmValues>,
}

/// One entry of `render.helmValues`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelmValues {
    pub chart_dir: PathBuf,
    pub files: Vec<PathBuf>,
}

impl RenderSettings {
    /// The values files configured for a chart folder (absolute, normalised), in order.
    pub fn values_for(&self, chart_dir: &Path) -> &[PathBuf] {
        self.helm_values
            .iter()
            .find(|v| v.chart_dir == chart_dir)
            .map(|v| v.files.as_slice())
            .unwrap_or_default()
    }
}

/// A loaded, valid configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file as given or found.
    pub file: PathBuf,
    /// The file's report path (relative to the current directory when under it).
    pub display: String,
    /// Its folder, absolute and normalised: every path and glob inside is relative to it.
    pub dir: PathBuf,
    pub text: String,
    pub policy: Option<PathSetting>,
    pub system_policy: Option<PathSetting>,
    pub attestors: Option<PathSetting>,
    pub attestations: Option<PathSetting>,
    /// `platformPolicies` (contract §15): platform policies for every file.
    pub platform_policies: Vec<PathSetting>,
    pub namespace: Option<String>,
    pub fail_on: Option<FailOn>,
    pub exclude: Vec<String>,
    exclude_matcher: Option<Gitignore>,
    /// Alias → cluster key.
    pub clusters: BTreeMap<String, String>,
    pub contexts: Vec<Context>,
    pub exceptions: Vec<Exception>,
    pub render: RenderSettings,
    /// `platform:` (contract §12), for files no context covers and contexts without one.
    pub platform: Option<PlatformSetting>,
    /// `discover:`, `repository:` and the cluster identities of `clusters:` (contract §14).
    pub gitops: GitopsSettings,
}

/// A config that cannot be used (exit code 2), with every problem found.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub diagnostics: Vec<PolicyDiagnostic>,
    pub source_text: String,
}

impl ConfigError {
    pub fn render(&self, color: bool) -> String {
        render_diagnostics(&self.diagnostics, &self.source_text, color)
    }

    fn unreadable(display: &str, message: String) -> ConfigError {
        ConfigError {
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

/// Where to look for the config when `--config` is not given: the current directory, then
/// the root of the git work tree that contains it (found by its `.git` entry; git is not run).
pub fn discover(cwd: &Path) -> Option<PathBuf> {
    let in_dir = |dir: &Path| {
        FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    };
    in_dir(cwd).or_else(|| {
        let root = crate::report::paths::find_repo_root(cwd)?;
        in_dir(&root)
    })
}

fn normalize_abs(path: &Path, cwd: &Path) -> PathBuf {
    crate::report::paths::normalize(&cwd.join(path))
}

/// `/`-joined components of `path` below `dir`, or `None` when it is not below it.
pub fn relative_path(path: &Path, dir: &Path) -> Option<String> {
    relative_to(path, dir)
}

fn relative_to(path: &Path, dir: &Path) -> Option<String> {
    let rel = path.strip_prefix(dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    Some(parts.join("/"))
}

impl Config {
    /// Read and validate `path` (as given; `display` is its report path).
    pub fn load(path: &Path, display: &str, cwd: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
                ConfigError::unreadable(display, format!("{display}: not valid UTF-8 text"))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::unreadable(
                    display,
                    format!("{display}: config file not found"),
                ));
            }
            Err(e) => {
                return Err(ConfigError::unreadable(
                    display,
                    format!("{display}: cannot read the config file: {e}"),
                ));
            }
        };
        Config::from_text(text, path, display, cwd)
    }

    /// Validate config text; `path` is where it lives (its folder anchors relative paths).
    pub fn from_text(
        text: String,
        path: &Path,
        display: &str,
        cwd: &Path,
    ) -> Result<Config, ConfigError> {
        let abs = normalize_abs(path, cwd);
        let dir = abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone());
        let tree = yaml::parse(&text, &Limits::default());
        let mut loader = Loader {
            tree: &tree,
            file: display,
            dir: &dir,
            diags: Vec::new(),
        };
        let parts = loader.load();
        let mut diags = loader.diags;
        diags.sort_by_key(|d| (d.line, d.column));
        match parts {
            Some(parts) if diags.iter().all(|d| d.severity != Severity::Error) => Ok(Config {
                file: path.to_path_buf(),
                display: display.to_string(),
                dir,
                text,
                policy: parts.policy,
                system_policy: parts.system_policy,
                attestors: parts.attestors,
                attestations: parts.attestations,
                platform_policies: parts.platform_policies,
                namespace: parts.namespace,
                fail_on: parts.fail_on,
                exclude: parts.exclude,
                exclude_matcher: parts.exclude_matcher,
                clusters: parts.clusters,
                contexts: parts.contexts,
                exceptions: parts.exceptions,
                render: parts.render,
                platform: parts.platform,
                gitops: parts.gitops,
            }),
            _ => Err(ConfigError {
                diagnostics: diags,
                source_text: text,
            }),
        }
    }

    /// The path of a file below the config's folder (`/` separators), if it is below it.
    pub fn relative(&self, abs_path: &Path) -> Option<String> {
        relative_to(abs_path, &self.dir)
    }

    /// The index of the first context whose `paths` match the file (absolute path).
    pub fn context_of(&self, abs_path: &Path) -> Option<usize> {
        let rel = self.relative(abs_path)?;
        self.contexts.iter().position(|c| c.matches(&rel))
    }

    /// True when `exclude` covers the file (absolute path), gitignore-style.
    pub fn is_excluded(&self, abs_path: &Path) -> bool {
        let Some(matcher) = &self.exclude_matcher else {
            return false;
        };
        // `matched_path_or_any_parents` requires a path under the matcher's root.
        if abs_path.strip_prefix(&self.dir).is_err() {
            return false;
        }
        matcher
            .matched_path_or_any_parents(abs_path, false)
            .is_ignore()
    }

    /// Resolve a cluster value (alias or literal `LOCATION.NAME`), as `--cluster` or a
    /// context gives it.
    pub fn resolve_cluster(&self, value: &str) -> Result<String, String> {
        resolve_cluster(&self.clusters, value)
    }

    /// The index of the context named `name`.
    pub fn context_named(&self, name: &str) -> Option<usize> {
        self.contexts.iter().position(|c| c.name == name)
    }
}

/// A value with a `.` is a literal key; one without is an alias that `clusters:` defines.
pub fn resolve_cluster(clusters: &BTreeMap<String, String>, value: &str) -> Result<String, String> {
    if value.contains('.') {
        return Ok(value.to_string());
    }
    match clusters.get(value) {
        Some(key) => Ok(key.clone()),
        None => {
            let hint = crate::policy::suggest(value, clusters.keys().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(if clusters.is_empty() {
                format!(
                    "`{value}` is neither a cluster key `LOCATION.NAME` (e.g. us-central1-a.prod) nor an alias: no `clusters:` aliases are defined"
                )
            } else {
                format!(
                    "`{value}` is not a cluster alias defined in `clusters:` (nor a literal `LOCATION.NAME` key){hint}"
                )
            })
        }
    }
}

/// A cluster key `LOCATION.NAME` as written in `clusters:`; an error at `span` otherwise.
fn resolve_cluster_key(loader: &mut Loader<'_>, key: &str, span: Span) -> Option<String> {
    match key.split_once('.') {
        Some((location, name)) if !location.is_empty() && !name.is_empty() => Some(key.to_string()),
        _ => {
            loader.error(
                span,
                format!("`{key}` is not a cluster key `LOCATION.NAME` (e.g. us-central1-a.prod)"),
                "not LOCATION.NAME",
            );
            None
        }
    }
}

impl Context {
    /// A context matches a file when one of its globs matches the file or a folder above it
    /// (so `clusters/prod` covers everything below, like a gitignore line).
    fn matches(&self, rel: &str) -> bool {
        let mut candidate = rel;
        loop {
            if self.matchers.iter().any(|m| m.is_match(candidate)) {
                return true;
            }
            match candidate.rsplit_once('/') {
                Some((parent, _)) => candidate = parent,
                None => return false,
            }
        }
    }
}

impl ExceptionMatch {
    /// `image` is a repository prefix on whole path segments (contract §11.5).
    pub fn image_matches(prefix: &str, image: &str) -> bool {
        let repository = crate::report::fingerprint::image_repository(image);
        let prefix = prefix.trim_end_matches('/');
        repository == prefix
            || repository
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    pub fn name_matches(&self, name: &str) -> bool {
        self.name.as_ref().is_none_or(|m| m.is_match(name))
    }

    pub fn path_matches(&self, rel_path: Option<&str>) -> bool {
        match (&self.path, rel_path) {
            (None, _) => true,
            (Some(m), Some(p)) => m.is_match(p),
            (Some(_), None) => false,
        }
    }
}

#[derive(Default)]
struct Parts {
    policy: Option<PathSetting>,
    system_policy: Option<PathSetting>,
    attestors: Option<PathSetting>,
    attestations: Option<PathSetting>,
    platform_policies: Vec<PathSetting>,
    namespace: Option<String>,
    fail_on: Option<FailOn>,
    exclude: Vec<String>,
    exclude_matcher: Option<Gitignore>,
    clusters: BTreeMap<String, String>,
    contexts: Vec<Context>,
    exceptions: Vec<Exception>,
    render: RenderSettings,
    platform: Option<PlatformSetting>,
    gitops: GitopsSettings,
}

struct Loader<'t> {
    tree: &'t Tree<'t>,
    file: &'t str,
    dir: &'t Path,
    diags: Vec<PolicyDiagnostic>,
}

const TOP_KEYS: &[&str] = &[
    "version",
    "policy",
    "systemPolicy",
    "attestors",
    "attestations",
    "platformPolicies",
    "namespace",
    "failOn",
    "exclude",
    "clusters",
    "contexts",
    "exceptions",
    "render",
    "platform",
    "discover",
    "repository",
];
const CONTEXT_KEYS: &[&str] = &[
    "name",
    "paths",
    "cluster",
    "namespace",
    "policy",
    "platformPolicies",
    "platform",
];
const PLATFORMS: &[&str] = &["auto", "gke", "cloudrun"];
const EXCEPTION_KEYS: &[&str] = &[
    "id", "rules", "match", "reason", "owner", "ticket", "expires",
];
const MATCH_KEYS: &[&str] = &[
    "kind",
    "name",
    "namespace",
    "context",
    "path",
    "container",
    "image",
];
const RENDER_KEYS: &[&str] = &["kustomize", "helm", "helmValues"];
const FAIL_ON: &[&str] = &["error", "warning", "note", "never"];

/// A context or exception before aliases and context names can be checked (they may be
/// defined after their use in the file).
struct PendingCluster {
    context: usize,
    value: String,
    span: Span,
}

impl<'t> Loader<'t> {
    fn error(&mut self, span: Span, message: String, label: &str) -> &mut PolicyDiagnostic {
        let d =
            PolicyDiagnostic::new(Severity::Error, INVALID, self.file, span, message).label(label);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn key(&self, node: NodeId) -> &'t str {
        self.tree.scalar(node).unwrap_or("")
    }

    /// Check every key of a mapping against `known`; returns the known entries.
    fn entries(&mut self, map: NodeId, known: &[&str], what: &str) -> Vec<(&'t str, Span, NodeId)> {
        let mut out = Vec::new();
        for (k, v) in self.tree.entries(map) {
            let key = self.key(k);
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

    fn string(&mut self, node: NodeId, key: &str) -> Option<String> {
        match self.tree.string(node) {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong_type(node, key, "a string");
                // YAML reads `N`, `yes`, `1.10` as a boolean or a number: quoting keeps text.
                if let Some(text) = self.tree.scalar(node) {
                    let help = format!("quote it: `\"{text}\"`");
                    if let Some(last) = self.diags.last_mut() {
                        last.help = Some(help);
                    }
                }
                None
            }
        }
    }

    fn non_empty_string(&mut self, node: NodeId, key: &str) -> Option<String> {
        let s = self.string(node, key)?;
        if s.trim().is_empty() {
            let span = self.tree.span(node);
            self.error(span, format!("`{key}` must not be empty"), "empty");
            return None;
        }
        Some(s)
    }

    fn path(&mut self, node: NodeId, key: &str) -> Option<PathSetting> {
        let s = self.non_empty_string(node, key)?;
        Some(PathSetting {
            path: crate::report::paths::normalize(&self.dir.join(s)),
            span: self.tree.span(node),
        })
    }

    /// A list of paths (a single path is accepted as a one-item list).
    fn paths(&mut self, node: NodeId, key: &str) -> Vec<PathSetting> {
        if self.tree.seq(node).is_none() {
            return self.path(node, key).into_iter().collect();
        }
        self.strings(node, key)
            .into_iter()
            .map(|(s, span)| PathSetting {
                path: crate::report::paths::normalize(&self.dir.join(s)),
                span,
            })
            .collect()
    }

    fn strings(&mut self, node: NodeId, key: &str) -> Vec<(String, Span)> {
        let Some(items) = self.tree.seq(node).map(<[NodeId]>::to_vec) else {
            self.wrong_type(node, key, "a list of strings");
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|item| {
                let s = self.non_empty_string(item, &format!("{key}[]"))?;
                Some((s, self.tree.span(item)))
            })
            .collect()
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

    /// A `/`-aware glob: `*` stays within a folder, `**` crosses folders.
    fn glob(&mut self, pattern: &str, span: Span, key: &str) -> Option<GlobMatcher> {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        match GlobBuilder::new(trimmed).literal_separator(true).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    span,
                    format!("`{key}`: invalid glob `{pattern}`: {}", e.kind()),
                    "invalid glob",
                );
                None
            }
        }
    }

    fn load(&mut self) -> Option<Parts> {
        if let Some(err) = &self.tree.error {
            let at = Span {
                start: err.pos,
                end: err.pos,
            };
            let message = format!("not valid YAML: {}", err.message);
            self.error(at, message, "parsing stopped here");
            return None;
        }
        for dup in &self.tree.duplicates {
            let message = format!(
                "`{}` is repeated (first at line {}); say it once",
                dup.key, dup.first.start.line
            );
            self.error(dup.span, message, "repeated key");
        }
        if self.tree.documents.len() > 1 {
            let span = self
                .tree
                .documents
                .get(1)
                .and_then(|d| d.root)
                .map(|r| self.tree.span(r))
                .unwrap_or_default();
            self.error(
                span,
                "a config file holds one YAML document".to_string(),
                "second document",
            );
            return None;
        }
        let root = self.tree.documents.first().and_then(|d| d.root);
        let Some(root) = root.filter(|r| !self.tree.is_null(*r)) else {
            // An empty file is a valid config with every default.
            return Some(Parts::default());
        };
        if self.tree.map(root).is_none() {
            let found = crate::policy::describe(self.tree, root);
            let span = self.tree.span(root);
            self.error(
                span,
                format!("a config is a mapping of settings, not {found}"),
                "not a mapping",
            );
            return None;
        }
        let mut parts = Parts::default();
        let mut pending_clusters: Vec<PendingCluster> = Vec::new();
        let mut pending_contexts: Vec<(usize, String, Span)> = Vec::new();
        let mut exception_nodes: Vec<NodeId> = Vec::new();
        for (key, key_span, value) in self.entries(root, TOP_KEYS, "the config") {
            match key {
                "version" => match self.tree.scalar_full(value) {
                    Some(("1", yaml::Style::Plain, None)) => {}
                    _ => {
                        let span = self.tree.span(value);
                        let d = self.error(
                            span,
                            "unsupported config `version`: this binauthz-lint reads version 1"
                                .to_string(),
                            "unsupported version",
                        );
                        d.help = Some("write `version: 1`".to_string());
                    }
                },
                "policy" => parts.policy = self.path(value, key),
                "platformPolicies" => parts.platform_policies = self.paths(value, key),
                "systemPolicy" => parts.system_policy = self.path(value, key),
                "attestors" => parts.attestors = self.path(value, key),
                "attestations" => parts.attestations = self.path(value, key),
                "namespace" => parts.namespace = self.namespace(value),
                "failOn" => parts.fail_on = self.fail_on(value),
                "platform" => parts.platform = self.platform(value),
                "exclude" => {
                    let patterns = self.strings(value, key);
                    let mut builder = GitignoreBuilder::new(self.dir);
                    for (pattern, span) in &patterns {
                        if let Err(e) = builder.add_line(None, pattern) {
                            self.error(
                                *span,
                                format!("`exclude`: invalid pattern `{pattern}`: {e}"),
                                "invalid pattern",
                            );
                        }
                    }
                    parts.exclude = patterns.into_iter().map(|(p, _)| p).collect();
                    parts.exclude_matcher = builder.build().ok();
                }
                "clusters" => {
                    parts.clusters = self.clusters(value, &mut parts.gitops.clusters);
                }
                "discover" => parts.gitops.discover = self.discover(value),
                "repository" => parts.gitops.repository = self.repository(value),
                "contexts" => {
                    parts.contexts = self.contexts(value, &mut pending_clusters);
                }
                "exceptions" => match self.tree.seq(value) {
                    Some(items) => exception_nodes = items.to_vec(),
                    None => self.wrong_type(value, key, "a list of exception entries"),
                },
                "render" => parts.render = self.render(value),
                _ => {
                    // `entries` only returns known keys.
                    let _ = key_span;
                }
            }
        }
        for pending in pending_clusters {
            match resolve_cluster(&parts.clusters, &pending.value) {
                Ok(key) => {
                    if let Some(context) = parts.contexts.get_mut(pending.context) {
                        context.cluster = Some(key);
                    }
                }
                Err(message) => {
                    self.error(pending.span, message, "unknown cluster alias");
                }
            }
        }
        let context_names: BTreeSet<String> =
            parts.contexts.iter().map(|c| c.name.clone()).collect();
        let mut ids: BTreeMap<String, u32> = BTreeMap::new();
        for node in exception_nodes {
            if let Some(exception) = self.exception(node, &mut pending_contexts) {
                let line = exception.span.start.line;
                if let Some(first) = ids.get(&exception.id) {
                    let message = format!(
                        "exception id `{}` is used twice (first at line {first}); ids must be unique",
                        exception.id
                    );
                    let span = self.id_span(node).unwrap_or(exception.span);
                    self.error(span, message, "duplicate id");
                } else {
                    ids.insert(exception.id.clone(), line);
                }
                parts.exceptions.push(exception);
            }
        }
        for (_, name, span) in pending_contexts {
            // `Kind/namespace/name[@cluster]`: a context derived from a GitOps descriptor
            // (contract §14), known only once the tree is read.
            let descriptor_name = name.matches('/').count() >= 2;
            if !context_names.contains(&name) && !descriptor_name {
                let help = crate::policy::suggest(&name, context_names.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                let d = self.error(
                    span,
                    format!("`match.context`: no context is named `{name}`"),
                    "unknown context",
                );
                d.help = help;
            }
        }
        Some(parts)
    }

    fn id_span(&self, entry: NodeId) -> Option<Span> {
        self.tree.get(entry, "id").map(|v| self.tree.span(v))
    }

    fn namespace(&mut self, node: NodeId) -> Option<String> {
        let ns = self.non_empty_string(node, "namespace")?;
        let valid = ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid {
            let span = self.tree.span(node);
            self.error(
                span,
                format!("`{ns}` is not a Kubernetes namespace name (lowercase letters, digits and `-`, at most 63)"),
                "invalid namespace",
            );
            return None;
        }
        Some(ns)
    }

    fn platform(&mut self, node: NodeId) -> Option<PlatformSetting> {
        let value = self.string(node, "platform")?;
        let parsed = PlatformSetting::parse(&value);
        if parsed.is_none() {
            let span = self.tree.span(node);
            let help = crate::policy::suggest(&value, PLATFORMS.iter().copied());
            let d = self.error(
                span,
                format!(
                    "`platform` must be one of {}, not `{value}`",
                    PLATFORMS.join(", ")
                ),
                "unknown platform",
            );
            d.help = help.map(|s| format!("did you mean `{s}`?"));
        }
        parsed
    }

    fn fail_on(&mut self, node: NodeId) -> Option<FailOn> {
        let value = self.string(node, "failOn")?;
        let parsed = match value.as_str() {
            "error" => Some(FailOn::Error),
            "warning" => Some(FailOn::Warning),
            "note" => Some(FailOn::Note),
            "never" => Some(FailOn::Never),
            _ => None,
        };
        if parsed.is_none() {
            let span = self.tree.span(node);
            let help = FAIL_ON
                .iter()
                .copied()
                .find(|known| !value.is_empty() && known.starts_with(value.as_str()))
                .or_else(|| crate::policy::suggest(&value, FAIL_ON.iter().copied()));
            let d = self.error(
                span,
                format!(
                    "`failOn` must be one of {}, not `{value}`",
                    FAIL_ON.join(", ")
                ),
                "unknown level",
            );
            d.help = help.map(|s| format!("did you mean `{s}`?"));
        }
        parsed
    }

    /// `clusters:`: `alias: LOCATION.NAME` (v1.1), or `alias: {key, argocd, flux,
    /// configSync}` (contract §14), whose identities go to `identities`.
    fn clusters(
        &mut self,
        node: NodeId,
        identities: &mut Vec<ClusterIdentities>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if self.tree.map(node).is_none() {
            self.wrong_type(node, "clusters", "a mapping of alias: LOCATION.NAME");
            return out;
        }
        for (k, v) in self.tree.entries(node) {
            let alias = self.key(k).to_string();
            let span = self.tree.span(k);
            if alias.is_empty() || alias.contains('.') {
                self.error(
                    span,
                    format!("cluster alias `{alias}` must be a name without `.` (a value with a `.` is a literal cluster key)"),
                    "invalid alias",
                );
                continue;
            }
            if self.tree.map(v).is_some() {
                if let Some(entry) = self.cluster_object(&alias, v, span) {
                    out.insert(alias, entry.key.clone());
                    identities.push(entry);
                }
                continue;
            }
            let Some(key) = self.non_empty_string(v, &format!("clusters.{alias}")) else {
                continue;
            };
            if let Some(key) = resolve_cluster_key(self, &key, self.tree.span(v)) {
                identities.push(ClusterIdentities {
                    alias: alias.clone(),
                    key: key.clone(),
                    argocd: Vec::new(),
                    flux: Vec::new(),
                    config_sync: Vec::new(),
                    span,
                });
                out.insert(alias, key);
            }
        }
        out
    }

    fn contexts(&mut self, node: NodeId, pending: &mut Vec<PendingCluster>) -> Vec<Context> {
        let Some(items) = self.tree.seq(node).map(<[NodeId]>::to_vec) else {
            self.wrong_type(node, "contexts", "a list of contexts");
            return Vec::new();
        };
        let mut out: Vec<Context> = Vec::new();
        let mut names: BTreeMap<String, u32> = BTreeMap::new();
        for item in items {
            let span = self.tree.span(item);
            if self.tree.map(item).is_none() {
                self.wrong_type(item, "contexts[]", "a mapping with `name` and `paths`");
                continue;
            }
            let mut context = Context {
                name: String::new(),
                patterns: Vec::new(),
                matchers: Vec::new(),
                cluster: None,
                namespace: None,
                policy: None,
                platform_policies: None,
                platform: None,
                span,
            };
            let mut has_paths = false;
            let mut has_name = false;
            let mut name_span = span;
            for (key, _, value) in self.entries(item, CONTEXT_KEYS, "a context") {
                match key {
                    "name" => {
                        has_name = true;
                        name_span = self.tree.span(value);
                        context.name = self.non_empty_string(value, "name").unwrap_or_default();
                    }
                    "paths" => {
                        has_paths = true;
                        let globs = self.strings(value, "paths");
                        if globs.is_empty() && self.tree.seq(value).is_some() {
                            let vspan = self.tree.span(value);
                            self.error(
                                vspan,
                                "`paths` is empty: the context would match no file".to_string(),
                                "empty list",
                            );
                        }
                        for (pattern, pspan) in globs {
                            if let Some(m) = self.glob(&pattern, pspan, "paths") {
                                context.matchers.push(m);
                            }
                            context.patterns.push(pattern);
                        }
                    }
                    "cluster" => {
                        if let Some(value_text) = self.non_empty_string(value, "cluster") {
                            pending.push(PendingCluster {
                                context: out.len(),
                                value: value_text,
                                span: self.tree.span(value),
                            });
                        }
                    }
                    "namespace" => context.namespace = self.namespace(value),
                    "policy" => context.policy = self.path(value, "policy"),
                    "platformPolicies" => {
                        context.platform_policies = Some(self.paths(value, "platformPolicies"));
                    }
                    "platform" => context.platform = self.platform(value),
                    _ => {}
                }
            }
            if !has_name {
                self.error(span, "a context needs a `name`".to_string(), "no name");
            }
            if !has_paths {
                self.error(
                    span,
                    format!(
                        "context `{}` needs `paths` (globs relative to the config's folder)",
                        context.name
                    ),
                    "no paths",
                );
            }
            if !context.name.is_empty() {
                if let Some(first) = names.get(&context.name) {
                    let message = format!(
                        "context name `{}` is used twice (first at line {first}); names must be unique",
                        context.name
                    );
                    self.error(name_span, message, "duplicate name");
                } else {
                    names.insert(context.name.clone(), name_span.start.line);
                }
            }
            out.push(context);
        }
        out
    }

    fn render(&mut self, node: NodeId) -> RenderSettings {
        let mut out = RenderSettings::default();
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "render",
                "a mapping (`kustomize`, `helm`, `helmValues`)",
            );
            return out;
        }
        for (key, _, value) in self.entries(node, RENDER_KEYS, "`render`") {
            match key {
                "kustomize" => out.kustomize = self.bool(value, key).unwrap_or(false),
                "helm" => out.helm = self.bool(value, key).unwrap_or(false),
                "helmValues" => out.helm_values = self.helm_values(value),
                _ => {}
            }
        }
        out
    }

    /// `render.helmValues: {CHART_DIR: [values files]}`. A chart folder must hold a
    /// `Chart.yaml` (an entry for another folder would silently do nothing), and a values
    /// file must be a local path: `helm template -f` also fetches URLs, and rendering never
    /// uses the network.
    fn helm_values(&mut self, node: NodeId) -> Vec<HelmValues> {
        let key = "render.helmValues";
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                key,
                "a mapping of chart folders to lists of values files",
            );
            return Vec::new();
        }
        let mut out: Vec<HelmValues> = Vec::new();
        for (k, v) in self.tree.entries(node) {
            let Some(chart) = self.non_empty_string(k, "render.helmValues key") else {
                continue;
            };
            let chart_dir = crate::report::paths::normalize(&self.dir.join(&chart));
            if !chart_dir.join("Chart.yaml").is_file() {
                let span = self.tree.span(k);
                let d = self.error(
                    span,
                    format!("`{key}`: `{chart}` is not a Helm chart folder (no Chart.yaml in it)"),
                    "not a chart",
                );
                d.help = Some("chart folders are relative to the config file's folder".to_string());
                continue;
            }
            let mut files = Vec::new();
            for (file, span) in self.strings(v, &format!("{key}.{chart}")) {
                if file.contains("://") {
                    self.error(
                        span,
                        format!("`{key}.{chart}`: `{file}` is a URL; values files must be local files (rendering never uses the network)"),
                        "URL",
                    );
                    continue;
                }
                files.push(crate::report::paths::normalize(&self.dir.join(&file)));
            }
            out.push(HelmValues { chart_dir, files });
        }
        out
    }

    fn exception(
        &mut self,
        node: NodeId,
        pending_contexts: &mut Vec<(usize, String, Span)>,
    ) -> Option<Exception> {
        let span = self.tree.span(node);
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "exceptions[]",
                "a mapping (`id`, `rules`, `match`, `reason`, `expires`)",
            );
            return None;
        }
        let errors_before = self.error_count();
        let mut id = None;
        let mut rules = None;
        let mut matcher = None;
        let mut reason = None;
        let mut owner = None;
        let mut ticket = None;
        let mut expires = None;
        for (key, _, value) in self.entries(node, EXCEPTION_KEYS, "an exception") {
            match key {
                "id" => id = self.non_empty_string(value, "id"),
                "rules" => rules = Some(self.rule_ids(value)),
                "match" => matcher = self.exception_match(value, pending_contexts),
                "reason" => reason = self.non_empty_string(value, "reason"),
                "owner" => owner = self.string(value, "owner"),
                "ticket" => ticket = self.string(value, "ticket"),
                "expires" => expires = self.date(value),
                _ => {}
            }
        }
        let present = |k: &str| self.tree.get(node, k).is_some();
        let missing: Vec<&str> = ["id", "rules", "match", "reason", "expires"]
            .into_iter()
            .filter(|k| !present(k))
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
            let message = format!(
                "this exception lacks {} (required: id, rules, match, reason, expires)",
                names.join(", ")
            );
            self.error(span, message, "incomplete exception");
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Exception {
            id: id?,
            rules: rules?,
            matcher: matcher?,
            reason: reason?,
            owner,
            ticket,
            expires: expires?,
            span,
        })
    }

    fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    fn rule_ids(&mut self, node: NodeId) -> Vec<String> {
        let ids = self.strings(node, "rules");
        if ids.is_empty() && self.tree.seq(node).is_some() {
            let span = self.tree.span(node);
            self.error(
                span,
                "`rules` is empty: name the rule ids this exception covers".to_string(),
                "empty list",
            );
        }
        let known: Vec<&str> = crate::rules::RULES.iter().map(|r| r.id).collect();
        let mut out = Vec::new();
        for (id, span) in ids {
            if crate::rules::find(&id).is_none() {
                let help = crate::policy::suggest(&id, known.iter().copied());
                let d = self.error(span, format!("unknown rule id `{id}`"), "unknown rule");
                d.help = Some(match help {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`binauthz-lint rules` lists them".to_string(),
                });
            } else {
                out.push(id);
            }
        }
        out
    }

    fn date(&mut self, node: NodeId) -> Option<Date> {
        let text = self.tree.scalar(node).map(str::to_string);
        match text.as_deref().and_then(Date::parse) {
            Some(date) if self.tree.map(node).is_none() && self.tree.seq(node).is_none() => {
                Some(date)
            }
            _ => {
                let span = self.tree.span(node);
                let shown =
                    text.unwrap_or_else(|| crate::policy::describe(self.tree, node).to_string());
                let d = self.error(
                    span,
                    format!("`expires` must be a date YYYY-MM-DD, not `{shown}`"),
                    "bad date",
                );
                d.help = Some(
                    "for example `expires: 2026-12-15` (valid through that day, UTC)".to_string(),
                );
                None
            }
        }
    }

    fn exception_match(
        &mut self,
        node: NodeId,
        pending_contexts: &mut Vec<(usize, String, Span)>,
    ) -> Option<ExceptionMatch> {
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "match",
                "a mapping (kind, name, namespace, context, path, container, image)",
            );
            return None;
        }
        let mut m = ExceptionMatch::default();
        let entries = self.entries(node, MATCH_KEYS, "`match`");
        if entries.is_empty() && self.tree.entries(node).is_empty() {
            let span = self.tree.span(node);
            self.error(
                span,
                "`match` is empty: an exception must name what it covers".to_string(),
                "empty match",
            );
            return None;
        }
        for (key, _, value) in entries {
            let label = format!("match.{key}");
            let Some(text) = self.non_empty_string(value, &label) else {
                continue;
            };
            let span = self.tree.span(value);
            match key {
                "kind" => m.kind = Some(text),
                "name" => m.name = self.glob(&text, span, &label),
                "namespace" => m.namespace = Some(text),
                "context" => {
                    pending_contexts.push((0, text.clone(), span));
                    m.context = Some(text);
                }
                "path" => m.path = self.glob(&text, span, &label),
                "container" => m.container = Some(text),
                "image" => m.image = Some(text),
                _ => {}
            }
        }
        Some(m)
    }
}

#[cfg(test)]
mod helm_values_tests {
    use super::*;

    /// Load `text` as `.binauthz-lint.yaml` in a folder holding a chart `charts/web`.
    fn load(text: &str) -> (tempfile::TempDir, Result<Config, ConfigError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let chart = dir.path().join("charts/web");
        std::fs::create_dir_all(&chart).expect("mkdir");
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        )
        .expect("write");
        let path = dir.path().join(".binauthz-lint.yaml");
        let loaded = Config::from_text(text.to_string(), &path, ".binauthz-lint.yaml", dir.path());
        (dir, loaded)
    }

    fn messages(result: Result<Config, ConfigError>) -> Vec<String> {
        match result {
            Ok(_) => panic!("expected an invalid config"),
            Err(err) => err.diagnostics.into_iter().map(|d| d.message).collect(),
        }
    }

    #[test]
    fn values_files_resolve_against_the_config_folder_in_order() {
        let (dir, loaded) = load(
            "render:\n  helm: true\n  helmValues:\n    charts/web: [values-prod.yaml, ./charts/web/extra.yaml]\n",
        );
        let config = loaded.expect("valid config");
        assert!(config.render.helm);
        let root = crate::report::paths::normalize(dir.path());
        assert_eq!(
            config.render.values_for(&root.join("charts/web")),
            [
                root.join("values-prod.yaml"),
                root.join("charts/web/extra.yaml")
            ]
        );
        assert!(
            config
                .render
                .values_for(&root.join("charts/other"))
                .is_empty()
        );
    }

    #[test]
    fn a_folder_without_chart_yaml_is_refused() {
        let (_dir, loaded) = load("render:\n  helmValues:\n    charts/api: [v.yaml]\n");
        let messages = messages(loaded);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("`charts/api` is not a Helm chart folder"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_url_values_file_is_refused() {
        let (_dir, loaded) =
            load("render:\n  helmValues:\n    charts/web: [\"https://example.com/v.yaml\"]\n");
        let messages = messages(loaded);
        assert!(messages[0].contains("is a URL"), "{messages:?}");
    }

    #[test]
    fn wrong_shapes_are_refused() {
        let (_dir, loaded) = load("render:\n  helmValues: [charts/web]\n");
        assert!(messages(loaded)[0].contains("`render.helmValues` must be a mapping"));
        let (_dir, loaded) = load("render:\n  helmValues:\n    charts/web: values.yaml\n");
        assert!(messages(loaded)[0].contains("must be a list of strings"));
        let (_dir, loaded) = load("render:\n  helmValues:\n    charts/web: [\"\"]\n");
        assert!(messages(loaded)[0].contains("must not be empty"));
        let (_dir, loaded) = load("render:\n  helmValue: {}\n");
        let messages = messages(loaded);
        assert!(
            messages[0].contains("unknown key `helmValue`"),
            "{messages:?}"
        );
    }
}
