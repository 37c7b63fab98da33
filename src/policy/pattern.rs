//! `admissionWhitelistPatterns[].namePattern` matching (spec §3).
//!
//! Matching is on the image string exactly as written: no Docker Hub expansion, no case
//! folding (A4, A5). A pattern is compiled once at load time into a prefix and a wildcard
//! kind, so matching an image is a `starts_with` plus, for `*`, one byte scan.

/// What follows the literal prefix of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wildcard {
    /// No wildcard: the image must equal the pattern.
    Exact,
    /// Trailing `*`: any text without `/` (kritis' reference algorithm, S19).
    Segment,
    /// Trailing `**`: any text, `/` included (S1).
    Any,
}

/// A compiled allowlist pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern as written in the policy.
    pub text: String,
    /// Byte length of the literal prefix of `text` (the text before the wildcard).
    prefix_len: usize,
    pub wildcard: Wildcard,
}

/// Why a pattern is invalid (spec §1.4.4, A6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// Byte range of the offending text within the pattern, for underlining.
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl Pattern {
    /// Compile a pattern, refusing the forms the server rejects.
    pub fn compile(text: &str) -> Result<Pattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError {
                start: 0,
                end: 0,
                message: "empty `namePattern`".to_string(),
            });
        }
        if let Some(bad) = text.find(char::is_whitespace) {
            return Err(PatternError {
                start: bad,
                end: bad + 1,
                message: "`namePattern` contains whitespace, which no image reference has"
                    .to_string(),
            });
        }
        let (prefix, wildcard) = if let Some(p) = text.strip_suffix("**") {
            (p, Wildcard::Any)
        } else if let Some(p) = text.strip_suffix('*') {
            (p, Wildcard::Segment)
        } else {
            (text, Wildcard::Exact)
        };
        if let Some(star) = prefix.find('*') {
            return Err(PatternError {
                start: star,
                end: star + 1,
                message: "wildcard `*` is only allowed at the end of a pattern".to_string(),
            });
        }
        if wildcard != Wildcard::Exact {
            if prefix.is_empty() {
                return Err(PatternError {
                    start: 0,
                    end: text.len(),
                    message: "a pattern made only of a wildcard would exempt every image; \
                              wildcards are only allowed after `registry/`"
                        .to_string(),
                });
            }
            // `*` must come after the `registry/` part (S3). A pattern without `/` is a local
            // reference (`local-image-1:*`, S1) unless its text looks like a host name
            // (`gcr.io*`), in which case the wildcard would range over registries.
            if !prefix.contains('/') && prefix.contains('.') && !prefix.contains(':') {
                return Err(PatternError {
                    start: prefix.len(),
                    end: text.len(),
                    message: "wildcard inside the registry host; wildcards are only allowed \
                              after `registry/`"
                        .to_string(),
                });
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            prefix_len: prefix.len(),
            wildcard,
        })
    }

    /// The literal text before the wildcard.
    pub fn prefix(&self) -> &str {
        self.text.get(..self.prefix_len).unwrap_or("")
    }

    /// Does the image string match? Case-sensitive, on the raw string.
    pub fn matches(&self, image: &str) -> bool {
        match self.wildcard {
            Wildcard::Exact => image == self.text,
            Wildcard::Any => image.starts_with(self.prefix()),
            Wildcard::Segment => match image.strip_prefix(self.prefix()) {
                Some(rest) => !rest.contains('/'),
                None => false,
            },
        }
    }

    /// True for a `...@*` pattern, which is documented as "all versions and tags" but only
    /// matches digest references (A7).
    pub fn is_at_star(&self) -> bool {
        self.wildcard != Wildcard::Exact && self.prefix().ends_with('@')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, image: &str) -> bool {
        Pattern::compile(pattern).unwrap().matches(image)
    }

    /// The worked examples of spec §3.3.
    #[test]
    fn spec_examples() {
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let cases: &[(&str, &str, bool)] = &[
            (
                "gcr.io/my-project/nginx*",
                "gcr.io/my-project/nginx:latest",
                true,
            ),
            (
                "gcr.io/my-project/nginx*",
                "gcr.io/my-project/nginx-images/nginx",
                false,
            ),
            (
                "gcr.io/my-project/nginx**",
                "gcr.io/my-project/nginx-1.14.2/image:latest",
                true,
            ),
            ("gcr.io/nginx*", "gcr.io/nginx/image", false),
            ("gcr.io/nginx**", "gcr.io/nginx/image", true),
            (
                "gcr.io/example-project/*",
                "gcr.io/example-project/helloworld",
                true,
            ),
            (
                "gcr.io/example-project/**",
                "gcr.io/example-project/my-directory/helloworld",
                true,
            ),
            (
                "gcr.io/example-project/helloworld:v1.*",
                "gcr.io/example-project/helloworld:v1.3",
                true,
            ),
            (
                "gcr.io/example-project/helloworld:v1.*",
                "gcr.io/example-project/helloworld:v2.3",
                false,
            ),
            (
                "gcr.io/6-my-image-w-tag:latest",
                "gcr.io/6-my-image-w-tag:some",
                false,
            ),
            (
                "gcr.io/3-my-untagged-image",
                "gcr.io/3-my-untagged-image:tag",
                false,
            ),
            ("local-image-1:*", "local-image-1:any-tag", true),
            ("local-image-3:tag*", "local-image-3:1tag", false),
            (
                "gcr.io/my-project**",
                "gcr.io/my-project-exploit/nginx-exploit",
                true,
            ),
            ("loc-ref", "loc-ref", true),
            ("nginx", "docker.io/library/nginx", false),
            ("gcr.io/X/app", "gcr.io/x/app", false),
        ];
        for (p, i, want) in cases {
            assert_eq!(m(p, i), *want, "{p} vs {i}");
        }
        assert!(m(
            "gcr.io/PROJ/nginx*",
            &format!("gcr.io/PROJ/nginx@{digest}")
        ));
        assert!(m(
            "gcr.io/8-my-image@sha256:*",
            &format!("gcr.io/8-my-image@{digest}")
        ));
        assert!(!m("gcr.io/8-my-image@sha256:*", "gcr.io/8-my-image:latest"));
    }

    #[test]
    fn invalid_patterns() {
        for bad in [
            "gcr.io/my-project/n*x",
            "gcr.io/**/x",
            "*",
            "**",
            "gcr.io*",
            "gcr.io**",
            "gcr.io/x/***",
            "",
            "gcr.io/x y",
        ] {
            assert!(Pattern::compile(bad).is_err(), "{bad} should be invalid");
        }
        let err = Pattern::compile("gcr.io/my-project/n*x").unwrap_err();
        assert_eq!((err.start, err.end), (19, 20));
    }

    #[test]
    fn at_star() {
        assert!(Pattern::compile("gcr.io/x/app@*").unwrap().is_at_star());
        assert!(!Pattern::compile("gcr.io/x/app:*").unwrap().is_at_star());
    }
}
