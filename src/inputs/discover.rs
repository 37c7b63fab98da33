//! Discovery: turn command-line paths into candidate files, with a reason for every file that
//! will not be read. Directories are walked in parallel with `ignore` (ripgrep's walker):
//! `.gitignore` inside git repositories, hidden files and folders skipped, symlinks never
//! followed out of the scanned root, FIFOs/sockets/devices never opened.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// What to do with one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Candidate {
    /// Read and scan this file. `size` (bytes, from discovery) orders the work, largest
    /// first; reading re-checks it.
    Read { path: PathBuf, size: u64 },
    /// Standard input.
    Stdin,
    /// Counted, not read, with the contract's `skipped[].reason`.
    Skip { reason: &'static str },
    /// Standard input that is not UTF-8: kubectl refuses it, an error at that place.
    StdinNotUtf8(Box<super::read::NotUtf8>),
}

/// The candidates, keyed and ordered by display path (deterministic, deduplicated).
pub type Candidates = BTreeMap<String, Candidate>;

/// An error that stops the scan (exit code 2): a path that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DiscoverError {
    pub path: String,
    pub message: String,
}

/// Extensions that make a walked file a candidate (`.tf` for its Cloud Run resources; one
/// without any is not counted, see [`TERRAFORM_WITHOUT_CLOUD_RUN`]).
pub fn is_candidate_name(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "yaml" | "yml" | "json" | "tf"
        )
    })
}

/// The skip reason of a `.tf` file without Cloud Run resources: dropped from the report
/// (not counted), so a tree's counts stay what they were before `.tf` files were read.
pub const TERRAFORM_WITHOUT_CLOUD_RUN: &str = "terraform-without-cloud-run";

/// The report's path: relative to the current directory when under it, `/` separators.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let rel = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    let mut parts: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            Component::CurDir => {}
            Component::RootDir => parts.push(String::new()),
            Component::Prefix(p) => parts.push(p.as_os_str().to_string_lossy().into_owned()),
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Discover every candidate under `paths` (`-` is standard input).
pub fn discover(
    paths: &[PathBuf],
    cwd: &Path,
    threads: usize,
) -> Result<Candidates, DiscoverError> {
    let mut out = Candidates::new();
    for arg in paths {
        if arg.as_os_str() == "-" {
            out.insert("<stdin>".to_string(), Candidate::Stdin);
            continue;
        }
        let meta = std::fs::metadata(arg).map_err(|e| DiscoverError {
            path: arg.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            walk(arg, cwd, threads, &mut out);
        } else {
            // Explicit file arguments are always read (whatever their extension), but a FIFO,
            // socket or device is never opened.
            let display = display_path(arg, cwd);
            let candidate = if meta.is_file() {
                Candidate::Read {
                    path: arg.clone(),
                    size: meta.len(),
                }
            } else {
                Candidate::Skip {
                    reason: "not-a-regular-file",
                }
            };
            out.insert(display, candidate);
        }
    }
    Ok(out)
}

fn walk(root: &Path, cwd: &Path, threads: usize, out: &mut Candidates) {
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let found: Mutex<Vec<(String, Candidate)>> = Mutex::new(Vec::new());
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .ignore(false)
        .parents(true)
        .require_git(true)
        .follow_links(false)
        .threads(threads.max(1))
        .build_parallel();
    walker.run(|| {
        let found = &found;
        let canonical_root = &canonical_root;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            let path = entry.path();
            let Some(file_type) = entry.file_type() else {
                return ignore::WalkState::Continue;
            };
            if file_type.is_dir() || !is_candidate_name(path) {
                return ignore::WalkState::Continue;
            }
            let candidate = classify_entry(&entry, file_type, canonical_root);
            if let (Some(candidate), Ok(mut list)) = (candidate, found.lock()) {
                list.push((display_path(path, cwd), candidate));
            }
            ignore::WalkState::Continue
        })
    });
    for (display, candidate) in found.into_inner().unwrap_or_default() {
        out.insert(display, candidate);
    }
}

fn classify_entry(
    entry: &ignore::DirEntry,
    file_type: std::fs::FileType,
    canonical_root: &Path,
) -> Option<Candidate> {
    let path = entry.path();
    if file_type.is_file() {
        return Some(Candidate::Read {
            path: path.to_path_buf(),
            size: entry.metadata().map(|m| m.len()).unwrap_or(0),
        });
    }
    if file_type.is_symlink() {
        // Resolve without following loops forever: canonicalize fails on a loop (ELOOP).
        let target = match std::fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(40) => {
                return Some(Candidate::Skip {
                    reason: "symlink-loop",
                });
            }
            Err(_) => {
                return Some(Candidate::Skip {
                    reason: "broken-symlink",
                });
            }
        };
        if !target.starts_with(canonical_root) {
            return Some(Candidate::Skip {
                reason: "symlink-outside-root",
            });
        }
        return match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => Some(Candidate::Read {
                path: path.to_path_buf(),
                size: m.len(),
            }),
            // A symlink to a directory inside the root: its files are reached directly.
            Ok(m) if m.is_dir() => None,
            Ok(_) => Some(Candidate::Skip {
                reason: "not-a-regular-file",
            }),
            Err(_) => Some(Candidate::Skip {
                reason: "broken-symlink",
            }),
        };
    }
    Some(Candidate::Skip {
        reason: "not-a-regular-file",
    })
}

/// True when some ancestor folder of `path` holds a `Chart.yaml` (a Helm chart).
pub fn is_in_helm_chart(path: &Path) -> bool {
    helm_chart_depth(path).is_some()
}

/// How many path components lead from the nearest chart folder (an ancestor holding a
/// `Chart.yaml`) down to `path`: 2 for `chart/templates/deploy.yaml`. `None` outside charts.
pub fn helm_chart_depth(path: &Path) -> Option<usize> {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .ancestors()
        .skip(1)
        .position(|dir| dir.join("Chart.yaml").is_file() || dir.join("Chart.yml").is_file())
        .map(|i| i + 1)
}

/// The display path of the folder `depth` components above the file shown as `display`
/// (`.` when that is the current directory).
pub fn ancestor_display(display: &str, depth: usize) -> String {
    let mut dir = display;
    for _ in 0..depth {
        match dir.rsplit_once('/') {
            Some(("", _)) => return "/".to_string(),
            Some((parent, _)) => dir = parent,
            None => return ".".to_string(),
        }
    }
    dir.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_folders_are_shown_like_their_files() {
        assert_eq!(
            ancestor_display("charts/web/templates/d.yaml", 2),
            "charts/web"
        );
        assert_eq!(ancestor_display("templates/d.yaml", 2), ".");
        assert_eq!(ancestor_display("/abs/c/templates/d.yaml", 2), "/abs/c");
    }

    #[test]
    fn display_paths() {
        let cwd = Path::new("/repo");
        assert_eq!(display_path(Path::new("./a/b.yaml"), cwd), "a/b.yaml");
        assert_eq!(display_path(Path::new("/repo/a/b.yaml"), cwd), "a/b.yaml");
        assert_eq!(
            display_path(Path::new("/elsewhere/x.yaml"), cwd),
            "/elsewhere/x.yaml"
        );
    }
}
