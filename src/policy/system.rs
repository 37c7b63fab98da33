//! Google's system policy, consulted first when `globalPolicyEvaluationMode: ENABLE`
//! (spec §4).
//!
//! The real list is not published; `gcloud alpha container binauthz policy
//! export-system-policy` prints it, and `--system-policy FILE` reads that output. Without it
//! we fall back to the patterns public documentation attributes to Google system images,
//! flagged approximate: it may miss images the real policy exempts (never the reverse on
//! purpose, so the fallback errs towards reporting denials).

use super::AllowPattern;
use super::pattern::Pattern;

/// The documented patterns (spec §4: S1 required and example lists, S7, S31), deduplicated.
/// `gke.gcr.io/**` covers S1's `gke.gcr.io/*`; S1's `gcr.io/gke-release/someproject/*` is a
/// placeholder and is represented by its concrete example `gcr.io/gke-release/asm/*`.
pub const BUILTIN_SYSTEM_PATTERNS: &[&str] = &[
    "asia.gcr.io/gke-multi-cloud-release/**",
    "asia.gcr.io/google-containers/addon-resizer:*",
    "gcr.io/gke-release/asm/*",
    "gcr.io/google-containers/*",
    "gcr.io/google_containers/*",
    "gcr.io/stackdriver-agents/*",
    "gke.gcr.io/**",
    "k8s.gcr.io/**",
];

/// The system policy's exemption patterns.
#[derive(Clone, Debug)]
pub struct SystemPolicy {
    /// The file it was read from; `None` for the built-in list.
    source: Option<String>,
    patterns: Vec<AllowPattern>,
}

impl SystemPolicy {
    /// The documented fallback list (approximate).
    pub fn builtin() -> SystemPolicy {
        SystemPolicy {
            source: None,
            patterns: BUILTIN_SYSTEM_PATTERNS
                .iter()
                .filter_map(|p| Pattern::compile(p).ok())
                .map(|pattern| AllowPattern {
                    pattern,
                    source: None,
                })
                .collect(),
        }
    }

    pub(crate) fn from_file(display: &str, patterns: Vec<AllowPattern>) -> SystemPolicy {
        SystemPolicy {
            source: Some(display.to_string()),
            patterns,
        }
    }

    /// True for the built-in list, which only approximates Google's real system policy.
    pub fn is_approximate(&self) -> bool {
        self.source.is_none()
    }

    /// The file the list came from, if any.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    pub fn patterns(&self) -> &[AllowPattern] {
        &self.patterns
    }

    /// The first pattern exempting `image`.
    pub(crate) fn find(&self, image: &str) -> Option<&AllowPattern> {
        self.patterns.iter().find(|p| p.pattern.matches(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_compiles_and_matches() {
        let sp = SystemPolicy::builtin();
        assert_eq!(sp.patterns().len(), BUILTIN_SYSTEM_PATTERNS.len());
        assert!(sp.is_approximate());
        assert!(sp.find("gke.gcr.io/gke-metrics-agent:1.0").is_some());
        assert!(sp.find("k8s.gcr.io/a/b/c:1").is_some());
        assert!(sp.find("gcr.io/google-containers/a/b:1").is_none());
        assert!(sp.find("nginx").is_none());
    }
}
