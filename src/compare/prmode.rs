//! PR mode (`scan --since REV`, contract §8): evaluate the tree at `git merge-base REV HEAD`
//! in full, from git objects, so that its findings can be compared with the work tree's by
//! fingerprint v1. Nothing is checked out and nothing is written into the repository.

use crate::evaluate::scan::FileResult;
use crate::inputs::discover;
use crate::inputs::git::{GitError, Repo};
use crate::report::Report;
use crate::settings::scope::Scopes;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The base side of a pull request: a commit and the scanned paths inside its tree.
pub struct BaseTree {
    pub repo: Repo,
    pub commit: String,
    /// Repository-relative prefixes of the scanned paths (`""` = the whole repository).
    prefixes: Vec<String>,
}

/// `path` made absolute and lexically normalised (no `.`/`..`).
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    crate::report::paths::normalize(&cwd.join(path))
}

fn repo_relative(path: &Path, repo: &Repo) -> Option<String> {
    let top = crate::report::paths::normalize(&repo.toplevel);
    let rel = path.strip_prefix(&top).ok()?;
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    Some(parts.join("/"))
}

/// A commit's tree written to a temporary folder (see [`BaseTree::export`]).
pub struct Export {
    root: PathBuf,
}

impl Export {
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for Export {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl BaseTree {
    /// Resolve REV's merge base with HEAD in the repository containing the scanned paths.
    pub fn open(rev: &str, paths: &[PathBuf], cwd: &Path) -> Result<BaseTree, GitError> {
        if paths.iter().any(|p| p.as_os_str() == "-") {
            return Err(GitError(
                "`--since` compares two trees of a repository: standard input has no base; use `--baseline FILE`".to_string(),
            ));
        }
        let first = paths
            .first()
            .map(|p| absolute(p, cwd))
            .unwrap_or_else(|| cwd.to_path_buf());
        let start = if first.is_dir() {
            first.clone()
        } else {
            first
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(first.clone())
        };
        let repo = Repo::discover(&start)?;
        let commit = repo.merge_base(rev)?;
        let mut prefixes = Vec::new();
        for path in paths {
            let abs = absolute(path, cwd);
            match repo_relative(&abs, &repo) {
                Some(rel) => prefixes.push(rel),
                None => {
                    return Err(GitError(format!(
                        "{}: outside the git work tree {}; `--since` scans paths of one repository",
                        path.display(),
                        repo.toplevel.display()
                    )));
                }
            }
        }
        if prefixes.is_empty() {
            prefixes.push(repo_relative(cwd, &repo).unwrap_or_default());
        }
        Ok(BaseTree {
            repo,
            commit,
            prefixes,
        })
    }

    /// The repository-relative path of a file on disk, when it is in this repository.
    pub fn relative(&self, path: &Path, cwd: &Path) -> Option<String> {
        repo_relative(&absolute(path, cwd), &self.repo)
    }

    /// The base version of a repository file (a policy or config), `None` when absent.
    /// Write the commit's whole tree (regular files up to `max_size` bytes; symlinks and
    /// submodules are not files of a tree listing) into a new temporary folder outside the
    /// repository, for renderers that need files on disk. Nothing is checked out and the
    /// repository is not touched; the folder is removed when the [`Export`] is dropped.
    pub fn export(&self, max_size: u64) -> Result<Export, GitError> {
        let files = self.repo.tree_files(&self.commit)?;
        let files: Vec<_> = files.into_iter().filter(|f| f.size <= max_size).collect();
        let oids: Vec<String> = files.iter().map(|f| f.oid.clone()).collect();
        let blobs = self.repo.read_blobs(&oids)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let root =
            std::env::temp_dir().join(format!("binauthz-lint-base-{}-{nanos}", std::process::id()));
        let export = Export { root };
        let io = |e: std::io::Error| GitError(format!("cannot export the base commit: {e}"));
        std::fs::create_dir(&export.root).map_err(io)?;
        for (file, bytes) in files.iter().zip(blobs) {
            // Git paths are relative and `/`-separated; refuse anything that would leave
            // the export folder.
            let safe = !file.path.is_empty()
                && file
                    .path
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..");
            if !safe {
                continue;
            }
            let target = export.root.join(&file.path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&target, bytes).map_err(io)?;
        }
        Ok(export)
    }

    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, GitError> {
        self.repo.read_path(&self.commit, rel)
    }

    fn covers(&self, path: &str) -> bool {
        self.prefixes.iter().any(|p| {
            p.is_empty()
                || path == p
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }

    /// The texts of the base tree's candidate files under the scanned paths (as `scan`
    /// selects them) that pass `keep`, by repository-relative path: what GitOps descriptor
    /// discovery reads on this side (contract §14).
    pub fn texts(
        &self,
        max_size: u64,
        keep: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<(String, String)>, GitError> {
        let files = self.repo.tree_files(&self.commit)?;
        let selected: Vec<_> = files
            .iter()
            .filter(|f| self.covers(&f.path) && f.size <= max_size)
            .filter(|f| {
                discover::is_candidate_name(Path::new(&f.path))
                    && !f.path.split('/').any(|part| part.starts_with('.'))
            })
            .collect();
        let oids: Vec<String> = selected.iter().map(|f| f.oid.clone()).collect();
        let blobs = self.repo.read_blobs(&oids)?;
        Ok(selected
            .iter()
            .zip(blobs)
            .filter_map(|(f, bytes)| {
                let text = crate::inputs::read::decode_text(bytes).ok()?;
                keep(&f.path, &text).then(|| (f.path.clone(), text))
            })
            .collect())
    }

    /// Scan the base tree the way discovery scans a work tree: `.yaml`/`.yml`/`.json` files
    /// under the scanned paths (an explicitly named file whatever its extension), hidden files
    /// and folders skipped, Helm chart templates skipped, every file counted.
    pub fn scan(&self, cwd: &Path, scopes: &Scopes<'_, '_>) -> Result<Report, GitError> {
        let settings = &scopes.top().settings;
        let files = self.repo.tree_files(&self.commit)?;
        let charts: BTreeSet<&str> = files
            .iter()
            .filter_map(|f| {
                let (dir, name) = f.path.rsplit_once('/').unwrap_or(("", f.path.as_str()));
                matches!(name, "Chart.yaml" | "Chart.yml").then_some(dir)
            })
            .collect();
        // How many components below its nearest chart folder a path is (None: no chart).
        let in_chart = |path: &str| {
            let mut dir = path;
            let mut depth = 0usize;
            while let Some((parent, _)) = dir.rsplit_once('/') {
                depth += 1;
                if charts.contains(parent) {
                    return Some(depth);
                }
                dir = parent;
            }
            charts.contains("").then_some(depth + 1)
        };
        let selected: Vec<_> = files
            .iter()
            .filter(|f| self.covers(&f.path))
            .filter(|f| {
                let explicit = self.prefixes.iter().any(|p| p == &f.path);
                explicit
                    || (discover::is_candidate_name(Path::new(&f.path))
                        && !f.path.split('/').any(|part| part.starts_with('.')))
            })
            .collect();
        let top = &self.repo.toplevel;
        let display = |path: &str| discover::display_path(&top.join(path), cwd);
        // Kustomizations are accounted for as in the work tree (patches skipped, raw-mode
        // findings), so that an unchanged overlay gives unchanged findings.
        let candidates: discover::Candidates = selected
            .iter()
            .map(|f| {
                (
                    display(&f.path),
                    discover::Candidate::Read {
                        path: top.join(&f.path),
                        size: f.size,
                    },
                )
            })
            .collect();
        let tree = CommitFiles::new(self, &files);
        let prepared = crate::inputs::render::kustomize::prepare_with(
            &candidates,
            cwd,
            scopes,
            &crate::inputs::render::RenderOptions::default(),
            &tree,
        );
        let (small, large): (Vec<_>, Vec<_>) = selected
            .into_iter()
            .partition(|f| f.size <= settings.max_file_size);
        let oids: Vec<String> = small.iter().map(|f| f.oid.clone()).collect();
        let blobs = self.repo.read_blobs(&oids)?;
        let mut results: Vec<(String, FileResult)> = small
            .iter()
            .zip(blobs)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(file, bytes)| {
                let shown = display(&file.path);
                let abs = top.join(&file.path);
                let indices = scopes.indices_for(Some(&abs));
                let not_utf8 = crate::inputs::read::find_not_utf8(&bytes);
                let result = match crate::inputs::read::decode_text(bytes) {
                    _ if scopes.config.is_some_and(|c| c.is_excluded(&abs)) => {
                        FileResult::skipped(&shown, "excluded")
                    }
                    Err("not-utf8") => match &not_utf8 {
                        Some(at) => FileResult::not_utf8(&shown, at),
                        None => FileResult::skipped(&shown, "not-utf8"),
                    },
                    Err(reason) => FileResult::skipped(&shown, reason),
                    Ok(text) if text.contains("{{") && in_chart(&file.path).is_some() => {
                        FileResult::helm_template(&shown, in_chart(&file.path).unwrap_or(1))
                    }
                    Ok(text) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        crate::evaluate::scan::scan_in_scopes(
                            &shown,
                            &text,
                            Some(&abs),
                            &indices,
                            scopes,
                        )
                    }))
                    .unwrap_or_else(|_| FileResult::skipped(&shown, "unreadable")),
                };
                (shown, result)
            })
            .collect();
        for file in large {
            let shown = display(&file.path);
            let result = FileResult::skipped(&shown, "too-large");
            results.push((shown, result));
        }
        results.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(crate::evaluate::run::assemble_prepared(
            results.into_iter().map(|(_, r)| r).collect(),
            scopes.top().policy,
            prepared,
        ))
    }
}

/// The base commit's files, as the kustomize analysis reads them (absolute paths in the
/// work tree's place).
struct CommitFiles<'a> {
    base: &'a BaseTree,
    top: PathBuf,
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
}

impl<'a> CommitFiles<'a> {
    fn new(base: &'a BaseTree, listed: &[crate::inputs::git::TreeFile]) -> CommitFiles<'a> {
        let files: BTreeSet<String> = listed.iter().map(|f| f.path.clone()).collect();
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        dirs.insert(String::new());
        for path in &files {
            let mut dir = path.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                dirs.insert(parent.to_string());
                dir = parent;
            }
        }
        CommitFiles {
            base,
            top: crate::report::paths::normalize(&base.repo.toplevel),
            files,
            dirs,
        }
    }

    fn rel(&self, path: &Path) -> Option<String> {
        repo_relative(&crate::report::paths::normalize(path), &self.base.repo)
            .filter(|_| path.starts_with(&self.top))
    }
}

impl crate::inputs::render::Files for CommitFiles<'_> {
    fn key(&self, path: &Path) -> PathBuf {
        crate::report::paths::normalize(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.rel(path).is_some_and(|rel| self.dirs.contains(&rel))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.rel(path).is_some_and(|rel| self.files.contains(&rel))
    }

    fn read(&self, path: &Path, max: u64) -> Option<String> {
        let rel = self.rel(path)?;
        let bytes = self.base.read(&rel).ok()??;
        if bytes.len() as u64 > max {
            return None;
        }
        crate::inputs::read::decode_text(bytes).ok()
    }
}
