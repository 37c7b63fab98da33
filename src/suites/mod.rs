//! Policy test suites (`binauthz-lint test`, contract §16): files of cases that say what the
//! policy must admit ("this signed image in `payments` on the prod cluster is admitted; an
//! unsigned one is denied; break-glass admits it"), checked against what `scan` decides.
//!
//! `load` reads a `*.binauthz-test.yaml` strictly (every unknown key, wrong type, duplicate
//! case name or bad enum value is an error at its `file:line:column`); `run` evaluates each
//! case through the scan path (`evaluate::scan` under one `FileContext`: no second
//! evaluator) and maps the workload entry to a decision (`outcome`); `render` writes the
//! human table, the JSON of §16 and JUnit XML.

pub mod load;
pub mod outcome;
pub mod render;
pub mod run;

use crate::yaml::Span;
use std::path::{Path, PathBuf};

pub use load::{SuiteError, load_suite};
pub use outcome::{Actual, Decision};
pub use run::{CaseResult, SuiteResult, run_case};

/// The file name suffixes of a suite, found by [`discover`].
pub const SUFFIXES: [&str; 2] = [".binauthz-test.yaml", ".binauthz-test.yml"];

/// A path written in a suite, resolved against the suite's folder, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuitePath {
    pub path: PathBuf,
    /// As written in the suite (for messages).
    pub written: String,
    pub span: Span,
}

/// One suite file, validated.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The report path of the suite (relative to the current directory when under it).
    pub display: String,
    /// `policy:` (any source the policy loader accepts); `None` is the built-in default.
    pub policy: Option<SuitePath>,
    /// `platformPolicy:` (continuous validation, contract §15), needed by `cv` expectations.
    pub platform_policy: Option<SuitePath>,
    /// `systemPolicy:` (an exported Google system policy), like `scan --system-policy`.
    pub system_policy: Option<SuitePath>,
    pub attestors: Option<SuitePath>,
    pub attestations: Option<SuitePath>,
    pub cases: Vec<Case>,
}

/// What a case evaluates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `image:` one container in a synthetic pod (a Pod on GKE, a Knative Service on Cloud
    /// Run) built from the case's fields.
    Image(String),
    /// `object:` every workload of a manifest file.
    Object(SuitePath),
}

/// `platform:` of a case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CasePlatform {
    #[default]
    Gke,
    CloudRun,
}

impl CasePlatform {
    pub const NAMES: [&'static str; 2] = ["gke", "cloudrun"];

    pub fn as_str(self) -> &'static str {
        match self {
            CasePlatform::Gke => "gke",
            CasePlatform::CloudRun => "cloudrun",
        }
    }

    fn parse(text: &str) -> Option<CasePlatform> {
        match text {
            "gke" => Some(CasePlatform::Gke),
            "cloudrun" => Some(CasePlatform::CloudRun),
            _ => None,
        }
    }
}

/// `cv:` of a case: the continuous-validation verdict of the pod (contract §15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CvVerdict {
    Conformant,
    NonConformant,
    Undecided,
}

impl CvVerdict {
    pub const NAMES: [&'static str; 3] = ["conformant", "non-conformant", "undecided"];

    pub fn as_str(self) -> &'static str {
        match self {
            CvVerdict::Conformant => "conformant",
            CvVerdict::NonConformant => "non-conformant",
            CvVerdict::Undecided => "undecided",
        }
    }

    pub fn parse(text: &str) -> Option<CvVerdict> {
        match text {
            "conformant" => Some(CvVerdict::Conformant),
            "non-conformant" => Some(CvVerdict::NonConformant),
            "undecided" => Some(CvVerdict::Undecided),
            _ => None,
        }
    }
}

/// One case, validated.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// Where the case's `name` is written (its line goes into messages).
    pub span: Span,
    pub subject: Subject,
    pub platform: CasePlatform,
    /// `platform:` was written (an object case then checks every workload's platform).
    pub platform_written: bool,
    /// `cluster:` the Binary Authorization cluster key `LOCATION.NAME`.
    pub cluster: Option<String>,
    /// `namespace:` the pod's namespace (image cases), or the namespace of objects that name
    /// none (object cases). Default `default`.
    pub namespace: String,
    /// `serviceAccount:` (image cases). Default `default`.
    pub service_account: String,
    /// `breakglass: true`: the GKE label on the pod, or a Cloud Run justification (image
    /// cases; an object carries its own).
    pub breakglass: bool,
    pub expect: Decision,
    /// `rule:` the deciding image's `images[].rule`, or its reason (`allowlist`,
    /// `system-policy`) when it is exempt.
    pub rule: Option<String>,
    pub cv: Option<CvVerdict>,
    /// Per-case `attestors:` / `attestations:` (instead of the suite's).
    pub attestors: Option<SuitePath>,
    pub attestations: Option<SuitePath>,
}

impl Case {
    /// The stable, unique id of a case in reports: `FILE::NAME` (names are unique per file).
    pub fn id(&self, suite_display: &str) -> String {
        format!("{suite_display}::{}", self.name)
    }
}

/// True for a file name that marks a suite.
pub fn is_suite_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| SUFFIXES.iter().any(|s| n.len() > s.len() && n.ends_with(s)))
}

/// Every suite under `paths`: a folder is walked (`.gitignore` honoured inside git work
/// trees, hidden files and folders skipped, symlinks not followed) for `*.binauthz-test.yaml`;
/// a file given explicitly is a suite whatever its name. Sorted by path, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut found: Vec<PathBuf> = Vec::new();
    for arg in paths {
        let meta = std::fs::metadata(arg).map_err(|e| format!("{}: {e}", arg.display()))?;
        if !meta.is_dir() {
            found.push(arg.clone());
            continue;
        }
        let walker = ignore::WalkBuilder::new(arg)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .ignore(false)
            .parents(true)
            .require_git(true)
            .follow_links(false)
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_suite_name(entry.path()) {
                found.push(entry.path().to_path_buf());
            }
        }
    }
    // The same suite reached through two arguments (`test . suites/`) runs once.
    let mut keyed: Vec<(PathBuf, PathBuf)> = found
        .into_iter()
        .map(|p| {
            let key = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            (key, p)
        })
        .collect();
    keyed.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut seen = std::collections::BTreeSet::new();
    Ok(keyed
        .into_iter()
        .filter(|(key, _)| seen.insert(key.clone()))
        .map(|(_, p)| p)
        .collect())
}
