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
mod load;

pub use gitops::{ClusterIdentities, Family, GitopsSettings, normalize_folder};
use load::*;

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
