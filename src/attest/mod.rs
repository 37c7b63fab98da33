//! Attestation checking for `REQUIRE_ATTESTATION` rules.
//!
//! Binary Authorization admits an image under a `REQUIRE_ATTESTATION` rule only when
//! *every* required attestor has a valid attestation for the image's digest (spec §5).
//! This module answers that question offline, from files the user exported with gcloud:
//! attestor descriptions ([`AttestorSet`]) and attestation occurrences
//! ([`AttestationStore`]). It is pure: no printing, no environment, no network. The only
//! outside input is the clock (PGP key expiry), and [`evaluate_image_at`] takes it as an
//! argument so tests stay deterministic.
//!
//! Accepted formats and the verification rules are described in `docs/attestations.md`.

mod digest;
mod drafts;
mod model;
mod payload;
mod pgp;
mod tree;
mod verify;

use std::borrow::Cow;
use std::time::SystemTime;

pub use digest::image_digest;
pub use drafts::{AttestorDefinitions, AttestorDraft, DraftKey};
pub use model::{AttestationStore, Attestor, AttestorKey, AttestorSet};

/// A located input error: exit code 2 in the CLI.
///
/// `line`/`column` are 1-based; 0 when the position is unknown (unreadable file, or a
/// JSON file whose structure could only be read without positions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct AttestInputError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl AttestInputError {
    pub(crate) fn new(file: &str, line: u32, column: u32, message: impl Into<String>) -> Self {
        AttestInputError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// The verdict of one required attestor for one image: the JSON report prints these as
/// `{"attestor", "verified", "detail"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttestorCheck {
    pub attestor: String,
    pub verified: bool,
    pub detail: String,
}

/// Outcome of a `REQUIRE_ATTESTATION` rule for one image; [`as_str`](Self::as_str) gives
/// the report's `reason` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationOutcome {
    /// Every required attestor verified.
    Attested,
    /// Some attestor failed and none of the failing ones had an occurrence for the digest.
    AttestationMissing,
    /// Some failing attestor had an occurrence for the digest, but it did not verify.
    AttestationInvalid,
    /// The image is not referenced by a valid sha256 digest.
    NotByDigest,
}

impl AttestationOutcome {
    /// The contract's `reason` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            AttestationOutcome::Attested => "attested",
            AttestationOutcome::AttestationMissing => "attestation-missing",
            AttestationOutcome::AttestationInvalid => "attestation-invalid",
            AttestationOutcome::NotByDigest => "not-by-digest",
        }
    }
}

/// The enforcer's wording for an image without a usable digest (spec §5.1, §9).
pub const NOT_BY_DIGEST_DETAIL: &str =
    "Expected digest with sha256 scheme, but got tag or malformed digest";

/// The `detail` of an attestor check when the attestor's definition was not given.
pub const ATTESTOR_NOT_SUPPLIED_DETAIL: &str =
    "attestor definition not supplied (pass it with --attestors)";

/// Evaluate a REQUIRE_ATTESTATION rule for one image string (exactly as written in the
/// manifest), at the current time.
///
/// `attestors`/`store` are None when the user gave no --attestors / --attestations.
/// The returned checks are in the order of `required`.
pub fn evaluate_image(
    image: &str,
    required: &[String],
    attestors: Option<&AttestorSet>,
    store: Option<&AttestationStore>,
) -> (AttestationOutcome, Vec<AttestorCheck>) {
    evaluate_image_at(image, required, attestors, store, SystemTime::now())
}

/// [`evaluate_image`] with an explicit evaluation time: PGP keys that have expired by
/// `now` do not verify.
pub fn evaluate_image_at(
    image: &str,
    required: &[String],
    attestors: Option<&AttestorSet>,
    store: Option<&AttestationStore>,
    now: SystemTime,
) -> (AttestationOutcome, Vec<AttestorCheck>) {
    let Some(digest) = image_digest(image) else {
        let checks = required
            .iter()
            .map(|name| AttestorCheck {
                attestor: name.clone(),
                verified: false,
                detail: NOT_BY_DIGEST_DETAIL.to_string(),
            })
            .collect();
        return (AttestationOutcome::NotByDigest, checks);
    };

    let mut checks = Vec::with_capacity(required.len());
    let mut any_failed = false;
    let mut any_invalid = false;
    for name in required {
        let verdict = check_attestor(name, digest, attestors, store, now);
        if !verdict.verified {
            any_failed = true;
            any_invalid |= verdict.occurrence_found;
        }
        checks.push(AttestorCheck {
            attestor: name.clone(),
            verified: verdict.verified,
            detail: verdict.detail.into_owned(),
        });
    }
    let outcome = if !any_failed {
        AttestationOutcome::Attested
    } else if any_invalid {
        AttestationOutcome::AttestationInvalid
    } else {
        AttestationOutcome::AttestationMissing
    };
    (outcome, checks)
}

struct Verdict {
    verified: bool,
    /// An occurrence of the attestor's note existed for the digest (decides between
    /// "missing" and "invalid").
    occurrence_found: bool,
    detail: Cow<'static, str>,
}

impl Verdict {
    fn missing(detail: impl Into<Cow<'static, str>>) -> Self {
        Verdict {
            verified: false,
            occurrence_found: false,
            detail: detail.into(),
        }
    }
}

/// How many failure reasons one detail lists before summarising the rest.
const MAX_REASONS: usize = 4;

fn check_attestor(
    name: &str,
    digest: &str,
    attestors: Option<&AttestorSet>,
    store: Option<&AttestationStore>,
    now: SystemTime,
) -> Verdict {
    let Some(attestor) = attestors.and_then(|set| set.get(name)) else {
        return Verdict::missing(ATTESTOR_NOT_SUPPLIED_DETAIL);
    };
    let Some(store) = store else {
        return Verdict::missing(
            "no attestation occurrences supplied (pass them with --attestations)",
        );
    };
    let note = attestor.note_reference();
    let candidates: Vec<usize> = store
        .occurrences_for(digest)
        .iter()
        .copied()
        .filter(|&index| store.occurrence(index).is_some_and(|o| o.note_name == note))
        .collect();
    if candidates.is_empty() {
        let others = store.occurrences_for(digest).len();
        let mut detail = format!("no attestation occurrence of note {note} for {digest}");
        if others > 0 {
            detail.push_str(&format!(
                " ({others} occurrence(s) of other notes exist for this digest)"
            ));
        }
        return Verdict::missing(detail);
    }
    if attestor.keys().is_empty() {
        return Verdict {
            verified: false,
            occurrence_found: true,
            detail: format!(
                "attestor has no public keys, so none of its {} occurrence(s) for {digest} can verify",
                candidates.len()
            )
            .into(),
        };
    }

    let mut reasons: Vec<String> = Vec::new();
    for index in candidates {
        match store.verify_occurrence(index, attestor, digest, now) {
            Ok(success) => {
                return Verdict {
                    verified: true,
                    occurrence_found: true,
                    detail: success.into(),
                };
            }
            Err(mut failures) => reasons.append(&mut failures),
        }
    }
    let total = reasons.len();
    let mut detail = reasons
        .into_iter()
        .take(MAX_REASONS)
        .collect::<Vec<_>>()
        .join("; ");
    if total > MAX_REASONS {
        detail.push_str(&format!("; and {} more failure(s)", total - MAX_REASONS));
    }
    Verdict {
        verified: false,
        occurrence_found: true,
        detail: detail.into(),
    }
}

/// What a platform policy's simple-signing check found for one digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigningResult {
    /// An occurrence verified under one of the authenticators' keys.
    pub verified: bool,
    /// Occurrences for the digest in the allowed projects (0: nothing to verify).
    pub candidates: usize,
    /// The success detail, or why every candidate failed.
    pub detail: String,
}

/// The project of an occurrence name `projects/P/occurrences/ID`.
fn occurrence_project(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("projects/")?;
    rest.split('/').next().filter(|p| !p.is_empty())
}

/// A platform policy's `simpleSigningAttestationCheck` for one digest: does any attestation
/// occurrence for `digest`, stored in one of `projects` (`projects/P`; any project when
/// empty), verify under a key of one of the `authenticators`? Unlike an attestor of a
/// project policy, an authenticator names no note, so occurrences of every note count
/// ("a single verified attestation found in any of `container_analysis_attestation_projects`
/// is sufficient").
pub fn check_simple_signing(
    digest: &str,
    authenticators: &[&Attestor],
    projects: &[String],
    store: &AttestationStore,
    now: SystemTime,
) -> SimpleSigningResult {
    let candidates: Vec<usize> = store
        .occurrences_for(digest)
        .iter()
        .copied()
        .filter(|&index| {
            store.occurrence(index).is_some_and(|o| {
                projects.is_empty()
                    || occurrence_project(&o.name).is_some_and(|p| {
                        projects
                            .iter()
                            .any(|wanted| wanted.strip_prefix("projects/") == Some(p))
                    })
            })
        })
        .collect();
    if candidates.is_empty() {
        let where_ = if projects.is_empty() {
            String::new()
        } else {
            format!(" in {}", projects.join(", "))
        };
        return SimpleSigningResult {
            verified: false,
            candidates: 0,
            detail: format!("no attestation occurrence{where_} for {digest}"),
        };
    }
    let mut reasons: Vec<String> = Vec::new();
    for &index in &candidates {
        for authenticator in authenticators {
            match store.verify_occurrence(index, authenticator, digest, now) {
                Ok(success) => {
                    return SimpleSigningResult {
                        verified: true,
                        candidates: candidates.len(),
                        detail: success,
                    };
                }
                Err(mut failures) => reasons.append(&mut failures),
            }
        }
    }
    let total = reasons.len();
    let mut detail = reasons
        .into_iter()
        .take(MAX_REASONS)
        .collect::<Vec<_>>()
        .join("; ");
    if total > MAX_REASONS {
        detail.push_str(&format!("; and {} more failure(s)", total - MAX_REASONS));
    }
    SimpleSigningResult {
        verified: false,
        candidates: candidates.len(),
        detail: format!(
            "{} attestation occurrence(s) for {digest}, none verifies: {detail}",
            candidates.len()
        ),
    }
}

/// Is `pem` a usable `PUBLIC KEY` (SubjectPublicKeyInfo) PEM block? The error says why not.
pub fn check_public_key_pem(pem: &str) -> Result<(), String> {
    verify::parse_public_key_pem(pem).map(|_| ())
}
