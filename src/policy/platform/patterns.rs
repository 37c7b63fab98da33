//! The two documented pattern grammars of platform policies (sources-wave3 §1.3):
//! `trustedDirPatterns` of a trusted-directory check and `trustedSourceRepoPatterns` of a
//! SLSA rule. (`allowPattern` has no documented grammar; it uses `policy::Pattern`.)

/// A compiled `trustedDirPatterns` entry: `registry/path/to/directory`, where the registry
/// is two or more dot-separated words, optionally behind one leading `*` that ranges over
/// a subdomain part (`*-docker.pkg.dev/p/r`, `*.gcr.io/p`), and the path may end in `*`
/// (one directory level) or `**` (any depth).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedDirPattern {
    pub text: String,
    /// A leading `*`: the registry's first label is any non-empty text without `.`/`/`
    /// followed by `registry_rest`.
    leading_star: bool,
    /// The literal text after the leading `*` (if any) up to the trailing wildcard.
    literal: String,
    tail: Tail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tail {
    /// `registry/path`: exactly that directory.
    Exact,
    /// `registry/path/*` (or `…/prefix*`): one more level, without `/`.
    Segment,
    /// `registry/path/**`: anything below, the directory itself included.
    Any,
}

impl TrustedDirPattern {
    /// Compile a pattern, or say which documented rule it breaks.
    pub fn compile(text: &str) -> Result<TrustedDirPattern, String> {
        if text.is_empty() {
            return Err("the pattern is empty".into());
        }
        if text.contains(char::is_whitespace) {
            return Err("the pattern contains whitespace".into());
        }
        if text.contains("://") {
            return Err("a pattern is `registry/path/to/directory`, without a scheme".into());
        }
        let (body, tail) = if let Some(b) = text.strip_suffix("**") {
            (b, Tail::Any)
        } else if let Some(b) = text.strip_suffix('*') {
            (b, Tail::Segment)
        } else {
            (text, Tail::Exact)
        };
        let (leading_star, literal) = match body.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        if literal.starts_with('*') {
            return Err("only one leading `*` is allowed, and it cannot match `/`".into());
        }
        if literal.contains('*') {
            return Err(
                "`*` is only allowed as a leading registry-subdomain wildcard or at the end, \
                 after `registry/`"
                    .into(),
            );
        }
        let (registry, path) = match literal.split_once('/') {
            Some((registry, path)) => (registry, Some(path)),
            None => (literal, None),
        };
        if leading_star && !(registry.starts_with('-') || registry.starts_with('.')) {
            return Err(
                "a leading `*` can only stand for a subdomain part: follow it with `.` or `-` \
                 (`*.gcr.io`, `*-docker.pkg.dev`)"
                    .into(),
            );
        }
        let host = registry.trim_start_matches(['.', '-']);
        let words: Vec<&str> = host.split('.').collect();
        let word_ok = |w: &&str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')
        };
        if words.len() < 2 || !words.iter().all(word_ok) {
            return Err(format!(
                "the registry `{registry}` is not two or more dot-separated words (e.g. `gcr.io`, `us-docker.pkg.dev`)"
            ));
        }
        if tail != Tail::Exact && path.is_none() {
            return Err("a trailing wildcard is only allowed after `registry/`".into());
        }
        let Some(path) = path else {
            return Err("a pattern needs a path after the registry: `registry/path`".into());
        };
        // Before a trailing wildcard the path may end in `/` (`gcr.io/p/*`) or be empty
        // (`gcr.io/**`); otherwise every segment must be non-empty.
        let segments = if tail == Tail::Exact {
            path
        } else {
            path.strip_suffix('/').unwrap_or(path)
        };
        if (tail == Tail::Exact || !segments.is_empty()) && segments.split('/').any(str::is_empty) {
            return Err("the path has an empty segment (`//` or a trailing `/`)".into());
        }
        Ok(TrustedDirPattern {
            text: text.to_string(),
            leading_star,
            literal: literal.to_string(),
            tail,
        })
    }

    /// Is an image (exactly as written) in a directory this pattern trusts? The directory
    /// is the image's repository without its last segment (the image name), tag and digest.
    pub fn trusts(&self, image: &str) -> bool {
        let Some(directory) = image_directory(image) else {
            return false;
        };
        // Compare with a trailing `/` so that `a/**` covers the directory `a` itself.
        let directory = format!("{directory}/");
        let rest = if self.leading_star {
            // The star stands for the non-empty start of the first registry label.
            let Some(at) = directory.find(self.literal.as_str()) else {
                return false;
            };
            let star = &directory[..at];
            if star.is_empty() || star.contains(['.', '/']) {
                return false;
            }
            &directory[at + self.literal.len()..]
        } else {
            match directory.strip_prefix(self.literal.as_str()) {
                Some(rest) => rest,
                None => return false,
            }
        };
        match self.tail {
            Tail::Exact => rest == "/",
            // `literal` ends where the wildcard starts: one non-empty level, then the end.
            Tail::Segment => {
                let level = rest.strip_suffix('/').unwrap_or(rest);
                !level.is_empty() && !level.contains('/')
            }
            Tail::Any => true,
        }
    }
}

/// `registry/dir/name[:tag][@digest]` → `registry/dir`; `None` for an image without a `/`
/// (a Docker Hub short name has no registry directory to trust).
pub(crate) fn image_directory(image: &str) -> Option<&str> {
    let repository = image.split('@').next().unwrap_or(image);
    let name_start = repository.rfind('/')?;
    Some(&repository[..name_start])
}

/// A compiled `trustedSourceRepoPatterns` entry: a repository URL without scheme, exact or
/// ending in `/*` or `/**` (wildcards are only allowed there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRepoPattern {
    pub text: String,
}

impl SourceRepoPattern {
    pub fn compile(text: &str) -> Result<SourceRepoPattern, String> {
        if text.is_empty() {
            return Err("the pattern is empty".into());
        }
        if text.contains(char::is_whitespace) {
            return Err("the pattern contains whitespace".into());
        }
        if text.contains("://") {
            return Err("patterns must not include a scheme (`https://`)".into());
        }
        let body = text
            .strip_suffix("/**")
            .or_else(|| text.strip_suffix("/*"))
            .unwrap_or(text);
        if body.contains('*') {
            return Err(
                "`*` and `**` can only occur at the end of the pattern, after a `/`".into(),
            );
        }
        let host = body.split('/').next().unwrap_or("");
        if host.is_empty() {
            return Err("the pattern needs a host (`github.com/org/repo`)".into());
        }
        Ok(SourceRepoPattern {
            text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_trusted_dir_examples() {
        for ok in [
            "gcr.io/my-project/my-repo",
            "*-docker.pkg.dev/my-project/my-repo",
            "*.gcr.io/my-project",
            "gcr.io/my-project/*",
            "gcr.io/my-project/**",
        ] {
            assert!(TrustedDirPattern::compile(ok).is_ok(), "{ok}");
        }
        for bad in [
            "gcr.i*",
            "sub*domain.gcr.io/nginx",
            "*pkg.dev/my-project/my-repo",
            "**-docker.pkg.dev",
            "gcr.io/*/repo",
            "localhost/repo",
            "gcr.io",
            "",
        ] {
            assert!(TrustedDirPattern::compile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trust() {
        let t = |p: &str, i: &str| TrustedDirPattern::compile(p).unwrap().trusts(i);
        assert!(t("gcr.io/p/r", "gcr.io/p/r/app:1"));
        assert!(!t("gcr.io/p/r", "gcr.io/p/r/sub/app:1"));
        assert!(!t("gcr.io/p/r", "gcr.io/p/rr/app:1"));
        assert!(t("gcr.io/p/*", "gcr.io/p/r/app"));
        assert!(!t("gcr.io/p/*", "gcr.io/p/app"));
        assert!(!t("gcr.io/p/*", "gcr.io/p/a/b/app"));
        assert!(t("gcr.io/p/**", "gcr.io/p/a/b/app"));
        assert!(t("gcr.io/p/**", "gcr.io/p/app"));
        assert!(!t("gcr.io/p/**", "gcr.io/pp/app"));
        assert!(t(
            "*-docker.pkg.dev/p/r",
            "us-central1-docker.pkg.dev/p/r/app@sha256:1"
        ));
        assert!(!t("*-docker.pkg.dev/p/r", "docker.pkg.dev/p/r/app"));
        assert!(t("*.gcr.io/p", "eu.gcr.io/p/app"));
        assert!(!t("*.gcr.io/p", "gcr.io/p/app"));
        assert!(!t("*.gcr.io/p", "a/b.gcr.io/p/app"));
        assert!(!t("gcr.io/p/r", "nginx"));
    }

    #[test]
    fn source_repo_patterns() {
        for ok in ["github.com/a/b", "github.com/a/*", "github.com/**"] {
            assert!(SourceRepoPattern::compile(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://github.com/a/b",
            "github.com/a*/b",
            "github.com/a/b*",
            "",
        ] {
            assert!(SourceRepoPattern::compile(bad).is_err(), "{bad}");
        }
    }
}
