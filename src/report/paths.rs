//! Report paths → repository-relative paths and RFC 3986 URIs (SARIF, GitHub annotations).
//!
//! Report paths are relative to the current directory (contract §2) or absolute when the file
//! is outside it; code scanning wants them relative to the repository root. [`RepoPaths`]
//! does that conversion with path arithmetic only (no file system access), so renderers stay
//! pure; [`find_repo_root`] is the one function here that looks at the disk.

use std::path::{Component, Path, PathBuf};

/// The report's name for standard input.
pub const STDIN_DISPLAY: &str = "<stdin>";

/// The placeholder URI of standard input (a relative reference with no base, so it can never
/// be mistaken for a file in the repository).
pub const STDIN_URI: &str = "stdin";

/// The directories that report paths are resolved against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoPaths {
    /// The directory report paths are relative to (the process's current directory).
    pub cwd: PathBuf,
    /// The repository root: URIs are relative to it.
    pub root: PathBuf,
}

/// Where a report path lives, relative to the repository root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Standard input.
    Stdin,
    /// Under the repository root: the relative path with `/` separators (never empty).
    InRoot(String),
    /// Outside the repository root: the absolute, normalised path.
    Outside(PathBuf),
}

impl RepoPaths {
    /// Both directories are made absolute (against `cwd`) and normalised lexically.
    pub fn new(cwd: &Path, root: &Path) -> RepoPaths {
        let cwd = normalize(cwd);
        let root = normalize(&cwd.join(root));
        RepoPaths { cwd, root }
    }

    /// Resolve one report path (`Location::file`).
    pub fn resolve(&self, file: &str) -> Resolved {
        if file == STDIN_DISPLAY {
            return Resolved::Stdin;
        }
        let absolute = normalize(&self.cwd.join(file));
        match absolute.strip_prefix(&self.root) {
            Ok(rel) if rel.components().next().is_some() => {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                Resolved::InRoot(parts.join("/"))
            }
            _ => Resolved::Outside(absolute),
        }
    }

    /// The path to show or hash: repository-relative when under the root, else absolute
    /// (with `/` separators), `<stdin>` for standard input.
    pub fn repo_relative(&self, file: &str) -> String {
        match self.resolve(file) {
            Resolved::Stdin => STDIN_DISPLAY.to_string(),
            Resolved::InRoot(rel) => rel,
            Resolved::Outside(abs) => slash_path(&abs),
        }
    }

    /// The `file://` URI of the repository root, with a final `/` (SARIF
    /// `originalUriBaseIds`).
    pub fn root_uri(&self) -> String {
        let mut uri = file_uri(&self.root);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        uri
    }
}

/// Lexical normalisation: drop `.`, resolve `..` against the preceding component. Relative
/// input stays relative (leading `..` are kept).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// Walk up from `start` (a file or folder) to the nearest folder holding a `.git` entry
/// (a folder in a normal clone, a file in a worktree or submodule). Does not run git.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    let start = normalize(start);
    let first = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    first
        .ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// The repository root for a scan: the git work-tree root containing the first scanned path
/// (`-` does not count), else the current directory.
pub fn scan_root(paths: &[PathBuf], cwd: &Path) -> PathBuf {
    paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .find_map(|p| find_repo_root(&normalize(&cwd.join(p))))
        .unwrap_or_else(|| normalize(cwd))
}

/// A path with `/` separators (for display and hashing).
fn slash_path(path: &Path) -> String {
    let mut out = String::new();
    for component in path.components() {
        match component {
            Component::RootDir => {
                if !out.ends_with('/') {
                    out.push('/');
                }
            }
            Component::Prefix(p) => out.push_str(&p.as_os_str().to_string_lossy()),
            other => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    out
}

/// Percent-encode one path segment (RFC 3986): everything except unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) is encoded as UTF-8 bytes. Encoding more than strictly required
/// (sub-delims, `:` and `@` are legal in a segment) keeps every consumer happy: a `:` in the
/// first segment of a relative reference would otherwise read as a scheme.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encode a relative path with `/` separators, segment by segment.
pub fn encode_relative(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// The `file://` URI of an absolute path (`file:///home/x`, `file:///C:/x` on Windows).
pub fn file_uri(path: &Path) -> String {
    let mut segments: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(p) => {
                // `C:` stays readable; other prefixes (UNC, verbatim) are encoded.
                let text = p.as_os_str().to_string_lossy();
                let bytes = text.as_bytes();
                if bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
                    segments.push(text.into_owned());
                } else {
                    segments.push(encode_segment(&text));
                }
            }
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => segments.push("..".to_string()),
            Component::Normal(s) => segments.push(encode_segment(&s.to_string_lossy())),
        }
    }
    format!("file:///{}", segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lexically() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(normalize(Path::new("/..")), Path::new("/"));
        assert_eq!(normalize(Path::new("../a/../b")), Path::new("../b"));
    }

    #[test]
    fn resolves_against_the_root() {
        let paths = RepoPaths::new(Path::new("/repo/sub"), Path::new("/repo"));
        assert_eq!(
            paths.resolve("apps/web.yaml"),
            Resolved::InRoot("sub/apps/web.yaml".to_string())
        );
        assert_eq!(
            paths.resolve("../policy.yaml"),
            Resolved::InRoot("policy.yaml".to_string())
        );
        assert_eq!(
            paths.resolve("/repo/x/y.yaml"),
            Resolved::InRoot("x/y.yaml".to_string())
        );
        assert_eq!(
            paths.resolve("../../etc/policy.yaml"),
            Resolved::Outside(PathBuf::from("/etc/policy.yaml"))
        );
        assert_eq!(
            paths.resolve("/repository/x.yaml"),
            Resolved::Outside(PathBuf::from("/repository/x.yaml"))
        );
        assert_eq!(paths.resolve("<stdin>"), Resolved::Stdin);
        assert_eq!(paths.repo_relative("../../etc/p.yaml"), "/etc/p.yaml");
        assert_eq!(paths.root_uri(), "file:///repo/");
    }

    #[test]
    fn percent_encodes_per_rfc3986() {
        assert_eq!(
            encode_relative("team ä/50% canary.yaml"),
            "team%20%C3%A4/50%25%20canary.yaml"
        );
        assert_eq!(
            encode_relative("a:b/c#d?e[f]/x+y,z@w"),
            "a%3Ab/c%23d%3Fe%5Bf%5D/x%2By%2Cz%40w"
        );
        assert_eq!(encode_relative("ok-._~/AZaz09"), "ok-._~/AZaz09");
        assert_eq!(file_uri(Path::new("/a b/ü")), "file:///a%20b/%C3%BC");
    }

    #[test]
    fn finds_the_git_root_without_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("a/b")).unwrap();
        std::fs::write(repo.join("a/b/x.yaml"), "").unwrap();
        assert_eq!(find_repo_root(&repo.join("a/b/x.yaml")), None);
        // A worktree's `.git` is a file.
        std::fs::write(repo.join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(find_repo_root(&repo.join("a/b/x.yaml")), Some(repo.clone()));
        assert_eq!(find_repo_root(&repo.join("a")), Some(repo.clone()));
        assert_eq!(
            scan_root(&[PathBuf::from("-"), PathBuf::from("a/b")], &repo),
            repo
        );
        let elsewhere = dir.path().join("plain");
        std::fs::create_dir_all(&elsewhere).unwrap();
        assert_eq!(scan_root(&[PathBuf::from("x")], &elsewhere), elsewhere);
    }
}
