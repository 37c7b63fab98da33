//! The rendered view (contract §9): what the cluster will actually receive from Kustomize
//! roots, and an honest account of what a raw scan of them cannot see.
//!
//! Everything here runs before the per-file scan: it decides which candidate files are
//! replaced (patches, files a rendered root consumes) and by what, and which findings the
//! kustomizations themselves contribute. The scan pipeline (`run::run_prepared`) then merges
//! it all into one deterministic report.

pub mod helm;
pub mod kustomize;
pub mod unseen;

use crate::evaluate::scan::FileResult;
use crate::report::Finding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How (and whether) to render.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// `--render kustomize` or config `render.kustomize: true`.
    pub kustomize: bool,
    /// The program and arguments that build one kustomization folder (its path is
    /// appended): `kubectl kustomize` by default, `--kustomize-command` otherwise.
    pub kustomize_command: Vec<String>,
    /// `--render-remote` (command line only, never the config): remote resources may be
    /// fetched by the kustomize command.
    pub remote: bool,
    /// `--render-timeout`, per root.
    pub timeout: Duration,
    /// Roots rendered at once.
    pub jobs: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            kustomize: false,
            kustomize_command: vec!["kubectl".to_string(), "kustomize".to_string()],
            remote: false,
            timeout: Duration::from_secs(60),
            jobs: 1,
        }
    }
}

/// What rendering (or the raw analysis of kustomizations) contributes to a scan.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// Results that replace the candidate of the same display path (a patch skipped as
    /// `kustomize-patch`, a consumed file skipped as `kustomize-rendered`, a root's
    /// kustomization file holding its rendered objects). A display path that is not a
    /// candidate (a `Kustomization` file without extension) is added as a file.
    pub replaced: BTreeMap<String, FileResult>,
    /// Findings about kustomizations themselves (`kustomize-not-rendered`, `render-failed`,
    /// `breakglass-in-kustomization`).
    pub findings: Vec<Finding>,
    pub kustomize_roots: usize,
    pub rendered_roots: usize,
    /// The roots scanned raw, for the warning about those of which nothing was evaluated
    /// (decided once the scan's workloads are known).
    pub raw_roots: Vec<unseen::RawRoot>,
}

/// How kustomizations and patches are read: the work tree ([`Disk`]), or a commit's tree
/// (PR mode's base side, read from git objects).
pub trait Files: Sync {
    /// The identity paths are compared by (canonical on disk).
    fn key(&self, path: &Path) -> PathBuf;
    fn is_dir(&self, path: &Path) -> bool;
    fn is_file(&self, path: &Path) -> bool;
    /// The text of a file; `None` when missing, larger than `max` bytes, binary or not UTF-8.
    fn read(&self, path: &Path, max: u64) -> Option<String>;
    /// The work tree itself: kustomize can be run on it.
    fn is_disk(&self) -> bool {
        false
    }
}

/// The work tree.
pub struct Disk;

impl Files for Disk {
    fn key(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| crate::report::paths::normalize(path))
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn read(&self, path: &Path, max: u64) -> Option<String> {
        crate::inputs::read::read_file(path, max).ok()
    }

    fn is_disk(&self) -> bool {
        true
    }
}
