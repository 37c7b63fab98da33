//! Records the git commit the binary is built from, for `--version`.
//!
//! In order: `BINAUTHZ_LINT_COMMIT` from the environment (packagers), the `git.sha1` that
//! `cargo package` writes to `.cargo_vcs_info.json` (crates.io installs, no `.git`), the
//! checkout's `HEAD` when this package is the top of a git work tree (a checkout, a git
//! worktree, `cargo install --git`, pre-commit's clone), else `unknown`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `"sha1": "<hex>"` from `.cargo_vcs_info.json`, without a JSON parser.
fn vcs_info_commit(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let after = &text[text.find("\"sha1\"")? + 6..];
    let start = after.find('"')? + 1;
    let hex: String = after[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (hex.len() >= 12).then(|| hex[..12].to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BINAUTHZ_LINT_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    if dir.join(".cargo_vcs_info.json").exists() {
        println!("cargo:rerun-if-changed=.cargo_vcs_info.json");
    }

    let from_git = || {
        // Only this package's own repository: a crate unpacked inside some other work tree
        // (a home directory under git, a vendoring monorepo) must not report that commit.
        let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
        let same = std::fs::canonicalize(&top).ok()? == std::fs::canonicalize(&dir).ok()?;
        if !same {
            return None;
        }
        // Rebuild when HEAD moves; in a git worktree HEAD and refs live elsewhere.
        // Cargo reruns a build script on every build when a watched path does not exist, so
        // only files that exist are watched (`packed-refs` is absent after `git init` and
        // after some git operations).
        for (flag, file) in [("--git-dir", "HEAD"), ("--git-common-dir", "packed-refs")] {
            if let Some(d) = git(&dir, &["rev-parse", flag]) {
                let watched = dir.join(d).join(file);
                if watched.exists() {
                    println!("cargo:rerun-if-changed={}", watched.display());
                }
            }
        }
        if let Some(d) = git(&dir, &["rev-parse", "--git-common-dir"]) {
            let heads = dir.join(d).join("refs/heads");
            if heads.exists() {
                println!("cargo:rerun-if-changed={}", heads.display());
            }
        }
        git(&dir, &["rev-parse", "--short=12", "HEAD"])
    };

    let commit = std::env::var("BINAUTHZ_LINT_COMMIT")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| vcs_info_commit(&dir))
        .or_else(from_git)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=BINAUTHZ_LINT_COMMIT={commit}");
}
