//! Which files a descriptor's path deploys: a folder (all of it, or only its own files), a
//! file, or — when the folder holds a kustomization — the files and folders its
//! `resources`, `bases` and `components` reach (a base shared by two overlays is deployed by
//! both; this is how one file falls in several contexts).

use super::RepoFile;
use crate::yaml::{self, Limits};
use std::collections::{BTreeMap, BTreeSet};

/// A part of the repository a context deploys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    /// Repository-relative (`` is the root).
    pub path: String,
    /// `None` for a file; for a folder, whether sub-folders are included.
    pub recursive: Option<bool>,
}

impl Cover {
    pub fn matches(&self, rel: &str) -> bool {
        match self.recursive {
            None => rel == self.path,
            Some(true) => is_below(rel, &self.path),
            Some(false) => parent(rel) == self.path,
        }
    }
}

/// True when `rel` is `folder` or below it (`` holds everything).
pub fn is_below(rel: &str, folder: &str) -> bool {
    folder.is_empty()
        || rel == folder
        || rel
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub(crate) fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(p, _)| p)
}

/// `base` joined with a relative path, `.` and `..` resolved; `None` when it leaves the
/// repository.
pub(crate) fn join(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// How a folder without a kustomization is deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Every manifest below it (Flux generates such a kustomization; Argo `recurse: true`;
    /// a Helm chart or Config Sync folder).
    Recursive,
    /// Only its own files (an Argo CD directory source without `recurse`).
    TopLevel,
}

/// The scanned files, by repository-relative path, and the folders that hold them.
pub(crate) struct FileTree<'f> {
    files: BTreeMap<&'f str, &'f RepoFile>,
    dirs: BTreeSet<String>,
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

impl<'f> FileTree<'f> {
    pub fn new(files: &'f [RepoFile]) -> FileTree<'f> {
        let mut dirs = BTreeSet::new();
        for f in files {
            let mut dir = parent(&f.rel);
            loop {
                if !dirs.insert(dir.to_string()) || dir.is_empty() {
                    break;
                }
                dir = parent(dir);
            }
        }
        FileTree {
            files: files.iter().map(|f| (f.rel.as_str(), f)).collect(),
            dirs,
        }
    }

    pub fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    /// Every folder that holds a scanned file (and its parents), sorted.
    pub fn dirs(&self) -> impl Iterator<Item = &str> {
        self.dirs.iter().map(String::as_str)
    }

    fn kustomization(&self, dir: &str) -> Option<&'f RepoFile> {
        KUSTOMIZATION_FILES.iter().find_map(|name| {
            let rel = if dir.is_empty() {
                (*name).to_string()
            } else {
                format!("{dir}/{name}")
            };
            self.files.get(rel.as_str()).copied()
        })
    }

    /// What deploying `path` (a folder or a file, repository-relative) deploys.
    pub fn deploys(&self, path: &str, walk: Walk) -> Vec<Cover> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.walk(path, walk, &mut out, &mut seen);
        out
    }

    fn walk(&self, path: &str, walk: Walk, out: &mut Vec<Cover>, seen: &mut BTreeSet<String>) {
        if !seen.insert(path.to_string()) {
            return;
        }
        if self.is_file(path) {
            out.push(Cover {
                path: path.to_string(),
                recursive: None,
            });
            return;
        }
        let Some(kustomization) = self.kustomization(path) else {
            out.push(Cover {
                path: path.to_string(),
                recursive: Some(walk == Walk::Recursive),
            });
            return;
        };
        out.push(Cover {
            path: kustomization.rel.clone(),
            recursive: None,
        });
        for entry in local_entries(kustomization) {
            if let Some(target) = join(path, &entry) {
                // A folder a kustomization lists holds a kustomization of its own.
                self.walk(&target, Walk::Recursive, out, seen);
            }
        }
    }
}

/// The local `resources`, `bases` and `components` of a kustomization file (remote entries
/// are never fetched).
fn local_entries(file: &RepoFile) -> Vec<String> {
    let Some(text) = file.text.as_deref() else {
        return Vec::new();
    };
    let tree = yaml::parse(text, &Limits::default());
    let Some(root) = tree.documents.first().and_then(|d| d.root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["resources", "bases", "components"] {
        for item in tree
            .get(root, key)
            .and_then(|n| tree.seq(n))
            .unwrap_or_default()
        {
            if let Some(entry) = tree.string(*item) {
                let remote = entry.contains("://")
                    || entry.contains("?ref=")
                    || entry.starts_with("github.com/")
                    || entry.starts_with("git@");
                if !remote {
                    out.push(entry.to_string());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_resolves_dots_and_refuses_to_leave_the_repository() {
        assert_eq!(
            join("apps/production", "../base/podinfo").as_deref(),
            Some("apps/base/podinfo")
        );
        assert_eq!(join("", "./apps/").as_deref(), Some("apps"));
        assert_eq!(join("apps", "../../x"), None);
    }

    #[test]
    fn folders_cover_their_files() {
        let top = Cover {
            path: "apps".into(),
            recursive: Some(false),
        };
        assert!(top.matches("apps/a.yaml"));
        assert!(!top.matches("apps/b/a.yaml"));
        let all = Cover {
            path: "".into(),
            recursive: Some(true),
        };
        assert!(all.matches("apps/b/a.yaml"));
    }
}
