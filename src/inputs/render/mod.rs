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

/// What a rendering tool printed, and how it ended.
pub(crate) struct ToolOutput {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Wait for a started rendering tool (`helm`, `kubectl kustomize`) with piped output: both
/// pipes are drained on their own threads (at most `limits` bytes each, so a large output
/// never blocks the tool), and the tool is killed when `timeout` passes (`Ok(None)`).
///
/// The end of standard output marks the moment the tool is done (it closes its pipes when
/// it exits), so waiting for it adds no latency per root; the exit status is then polled
/// with short pauses. On a timeout the readers are left to finish on their own: a process
/// the tool started could keep the pipes open long after the tool was killed.
pub(crate) fn wait_bounded(
    mut child: std::process::Child,
    limits: (u64, u64),
    timeout: Duration,
) -> std::io::Result<Option<ToolOutput>> {
    use std::io::Read;
    fn drain(
        pipe: Option<impl Read + Send + 'static>,
        limit: u64,
        done: Option<std::sync::mpsc::Sender<()>>,
    ) -> Option<std::thread::JoinHandle<Vec<u8>>> {
        pipe.map(|pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.take(limit).read_to_end(&mut bytes);
                if let Some(done) = done {
                    let _ = done.send(());
                }
                bytes
            })
        })
    }
    let (done, closed) = std::sync::mpsc::channel();
    let stdout = drain(child.stdout.take(), limits.0, Some(done));
    let stderr = drain(child.stderr.take(), limits.1, None);
    let deadline = std::time::Instant::now() + timeout;
    let _ = closed.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()));
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait()? {
            Some(status) => break status,
            None if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            None => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
        }
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Some(ToolOutput {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    }))
}
