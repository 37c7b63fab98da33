//! Binary Authorization policy: loading, validation and evaluation.
//!
//! Placeholder until the evaluator lands: only the built-in default policy (always allow).

use crate::decision::{Decision, Enforcement, ImageDecision, PodContext, Reason};

/// A compiled policy, ready to evaluate images.
#[derive(Debug, Clone)]
pub struct Policy {
    source: String,
}

impl Policy {
    /// What a new project gets: default rule ALWAYS_ALLOW, enforced, system policy enabled.
    pub fn builtin_default() -> Policy {
        Policy {
            source: "<built-in default>".to_string(),
        }
    }

    /// `policy.source` of the JSON report: the file as given, or `<built-in default>`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Decide one image of one pod.
    pub fn evaluate(&self, _ctx: &PodContext<'_>, _image: &str) -> ImageDecision {
        ImageDecision {
            decision: Decision::Allow,
            reason: Reason::AlwaysAllow,
            rule: Some("default".to_string()),
            enforcement: Some(Enforcement::Enforced),
            pattern: None,
            attestors: Vec::new(),
            message: String::new(),
            source: None,
        }
    }
}
