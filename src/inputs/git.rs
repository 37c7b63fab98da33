//! Reading a repository's history for PR mode (`scan --since REV`), from git objects only.
//!
//! We run the user's `git` binary rather than an in-process library: `gix` with the features
//! needed here (rev-parse, merge-base, tree and blob reading) adds ~150 crates and minutes of
//! build time, while the `git` that made the checkout is on every CI runner. Every command is
//! read-only plumbing (`rev-parse`, `merge-base`, `ls-tree`, `cat-file`) and runs with every
//! configuration that could run code neutralised:
//! - no system or global configuration (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL`, a `HOME`
//!   and `XDG_CONFIG_HOME` that do not exist), so only the repository's own config is read,
//!   and what in it could run a program is overridden on the command line
//!   (`core.fsmonitor=false`, `core.hooksPath` to a path that does not exist, no pager, no
//!   external diff, no credential helper, no untracked cache);
//! - no optional locks (`GIT_OPTIONAL_LOCKS=0`): nothing is written into the repository;
//! - inherited `GIT_*` variables that would redirect git (`GIT_DIR`, `GIT_WORK_TREE`,
//!   `GIT_INDEX_FILE`, `GIT_EXTERNAL_DIFF`, ...) are removed;
//! - `cat-file` without `--textconv`/`--filters`, so no filter driver runs.
//!
//! The work tree, the index, refs and the stash are never touched; nothing is checked out.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A path that does not exist, for `HOME`, `XDG_CONFIG_HOME` and `core.hooksPath`.
const NOWHERE: &str = "/nonexistent/binauthz-lint";

#[cfg(windows)]
const NULL_DEVICE: &str = "NUL";
#[cfg(not(windows))]
const NULL_DEVICE: &str = "/dev/null";

/// A git failure, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitError(pub String);

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One file of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Repository-relative path, `/` separators.
    pub path: String,
    pub oid: String,
    pub size: u64,
}

/// A git work tree, found from a folder inside it.
#[derive(Debug, Clone)]
pub struct Repo {
    pub toplevel: PathBuf,
}

/// A neutralised `git` command run in `dir`.
fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", NULL_DEVICE)
        .env("HOME", NOWHERE)
        .env("XDG_CONFIG_HOME", NOWHERE)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("LC_ALL", "C")
        .args([
            "--no-pager",
            "-c",
            "core.fsmonitor=false",
            "-c",
            &format!("core.hooksPath={NOWHERE}"),
            "-c",
            "core.untrackedCache=false",
            "-c",
            "core.pager=cat",
            "-c",
            "diff.external=",
            "-c",
            "credential.helper=",
            "-c",
            "protocol.allow=never",
        ])
        .stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = git(dir)
        .args(args)
        .output()
        .map_err(|e| GitError(format!("cannot run git: {e}")))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitError(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ))
    }
}

fn trimmed(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

impl Repo {
    /// The work tree that contains `dir`.
    pub fn discover(dir: &Path) -> Result<Repo, GitError> {
        let top = run(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| {
            GitError(format!(
                "{} is not inside a git work tree ({e}); PR mode reads the base from git history — run it in a clone (`git clone` / actions/checkout with `fetch-depth: 0`), or use `--baseline FILE`",
                dir.display()
            ))
        })?;
        Ok(Repo {
            toplevel: PathBuf::from(trimmed(top)),
        })
    }

    /// The commit a revision names (`rev-parse --verify REV^{commit}`).
    pub fn commit(&self, rev: &str) -> Result<String, GitError> {
        let fetch = format!(
            "`git fetch --no-tags origin {rev}` (in a shallow clone also `git fetch --unshallow origin`, or check out with `fetch-depth: 0`)"
        );
        if rev.starts_with('-') {
            return Err(GitError(format!("invalid revision `{rev}`")));
        }
        run(
            &self.toplevel,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .map(trimmed)
        .ok()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            GitError(format!(
                "revision `{rev}` is not in this clone; fetch it with {fetch}"
            ))
        })
    }

    /// The commit `git merge-base REV HEAD`: the base a pull request is compared with.
    pub fn merge_base(&self, rev: &str) -> Result<String, GitError> {
        let fetch = format!(
            "`git fetch --no-tags origin {rev}` (in a shallow clone also `git fetch --unshallow origin`, or check out with `fetch-depth: 0`)"
        );
        let commit = self.commit(rev)?;
        run(&self.toplevel, &["merge-base", &commit, "HEAD"])
            .map(trimmed)
            .or_else(|e| {
                // A shallow clone (actions/checkout's default depth 1, with the PR's base
                // fetched at depth 1) has no common history: compare with REV itself. On a
                // pull_request checkout HEAD is the merge commit, whose base is REV.
                if self.is_shallow() {
                    Ok(commit.clone())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| {
                GitError(format!(
                    "no merge base of `{rev}` and HEAD ({e}); the history between them is missing — fetch it with {fetch}"
                ))
            })
    }

    /// True in a shallow clone.
    pub fn is_shallow(&self) -> bool {
        run(&self.toplevel, &["rev-parse", "--is-shallow-repository"])
            .map(trimmed)
            .is_ok_and(|out| out == "true")
    }

    /// Every regular file of `commit`'s tree (symlinks and submodules are not files).
    pub fn tree_files(&self, commit: &str) -> Result<Vec<TreeFile>, GitError> {
        let out = run(
            &self.toplevel,
            &["ls-tree", "-r", "-z", "-l", "--full-tree", commit],
        )?;
        let mut files = Vec::new();
        for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let Some((meta, path)) = record.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split_whitespace().collect();
            let [mode, kind, oid, size] = fields.as_slice() else {
                continue;
            };
            if *kind != "blob" || !matches!(*mode, "100644" | "100755") {
                continue;
            }
            files.push(TreeFile {
                path: path.to_string(),
                oid: (*oid).to_string(),
                size: size.parse().unwrap_or(u64::MAX),
            });
        }
        Ok(files)
    }

    /// The blob at `commit:path`, or `None` when the path is not in that tree.
    pub fn read_path(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let spec = format!("{commit}:{path}");
        match run(&self.toplevel, &["cat-file", "-e", &spec]) {
            Ok(_) => run(&self.toplevel, &["cat-file", "blob", &spec]).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The contents of many blobs, in order, through one `git cat-file --batch`.
    pub fn read_blobs(&self, oids: &[String]) -> Result<Vec<Vec<u8>>, GitError> {
        let mut child = git(&self.toplevel)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| GitError("git cat-file: no stdin".to_string()))?;
        let requests: Vec<u8> = oids
            .iter()
            .flat_map(|o| format!("{o}\n").into_bytes())
            .collect();
        // Write from another thread: git answers while we are still asking.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&requests);
        });
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| GitError("git cat-file: no stdout".to_string()))?;
        let mut reader = BufReader::new(stdout);
        let mut blobs = Vec::with_capacity(oids.len());
        for oid in oids {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|e| GitError(format!("git cat-file: {e}")))?;
            let parts: Vec<&str> = header.split_whitespace().collect();
            let size: usize = match parts.as_slice() {
                [_, "blob", size] => size.parse().map_err(|_| {
                    GitError(format!("git cat-file: bad header `{}`", header.trim()))
                })?,
                _ => return Err(GitError(format!("git cat-file: object {oid} is missing"))),
            };
            let mut blob = vec![0u8; size];
            reader
                .read_exact(&mut blob)
                .map_err(|e| GitError(format!("git cat-file: {e}")))?;
            let mut newline = [0u8; 1];
            reader
                .read_exact(&mut newline)
                .map_err(|e| GitError(format!("git cat-file: {e}")))?;
            blobs.push(blob);
        }
        let _ = writer.join();
        let _ = child.wait();
        Ok(blobs)
    }
}
