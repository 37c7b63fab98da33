//! Continuous validation of one workload (contract §15): its pods under every platform
//! policy of the scope, the `cv-non-conformant` / `cv-undecided` findings at the images, and
//! the note a break-glass finding gets. Break-glass never changes the verdict: CV logs
//! break-glass pods like any other.

use super::context::FileContext;
use super::file::{FileResult, Source};
use crate::extract::Workload;
use crate::policy::platform::{EvalInputs, ImageVerdict, Verdict};
use crate::report::{CvResult, ImageReport, Location, Related, WorkloadRef};
use crate::rules::Level;

/// The workload's pods under each platform policy; `None` without platform policies.
pub(super) fn evaluate(
    workload: &Workload,
    ctx: &FileContext<'_>,
    images: &[ImageReport],
) -> Option<Vec<CvResult>> {
    if ctx.platform.is_empty() {
        return None;
    }
    let inputs = EvalInputs {
        attestations: ctx.policy.attestation_inputs().store.as_ref(),
        ..EvalInputs::default()
    };
    let refs: Vec<&str> = images.iter().map(|i| i.image.as_str()).collect();
    Some(
        ctx.platform
            .iter()
            .map(|policy| CvResult {
                policy: policy.source().to_string(),
                pod: policy.evaluate_pod(
                    &workload.namespace,
                    &workload.service_account,
                    &refs,
                    &inputs,
                ),
            })
            .collect(),
    )
}

/// What a `breakglass-used` finding adds when continuous validation will flag the pods.
pub(super) fn breakglass_note(cv: Option<&[CvResult]>) -> Option<String> {
    let flagged: Vec<&str> = cv?
        .iter()
        .filter(|c| c.pod.verdict == Verdict::NonConformant)
        .map(|c| c.policy.as_str())
        .collect();
    if flagged.is_empty() {
        return None;
    }
    Some(format!(
        "; continuous validation will still log this pod: it does not conform to platform policy {}",
        flagged.join(", ")
    ))
}

/// `cv-non-conformant` (warning) and `cv-undecided` (note) at every such image.
pub(super) fn findings(
    (source, document): (&Source<'_>, u32),
    workload: &Workload,
    cv: &[CvResult],
    images: &[ImageReport],
    identity: &WorkloadRef,
    result: &mut FileResult,
) {
    for entry in cv {
        // `images` and every entry's images were built from `workload.containers`, in order.
        for ((verdict, image), container) in entry
            .pod
            .images
            .iter()
            .zip(images)
            .zip(&workload.containers)
        {
            let (rule, level) = match verdict.verdict {
                Verdict::NonConformant => ("cv-non-conformant", Level::Warning),
                Verdict::Undecided => ("cv-undecided", Level::Note),
                Verdict::Conformant => continue,
            };
            let message = message(verdict, image, workload, &entry.policy);
            let mut f = source.finding(rule, level, message, container.image_span, document);
            f.workload = Some(identity.clone());
            f.container = Some(image.container.clone());
            f.container_type = Some(image.container_type);
            f.image = Some(image.image.clone());
            // The checks that decided it, where they are written in the policy.
            let wanted = verdict.verdict;
            for check in verdict.checks.iter().filter(|c| c.verdict == wanted) {
                if let Some(at) = &check.source {
                    f.related.push(Related {
                        message: format!(
                            "check {} ({}) of check set {}",
                            check.index,
                            check.kind,
                            verdict.check_set.as_ref().map_or(0, |s| s.index)
                        ),
                        location: Location {
                            file: at.file.clone(),
                            line: at.line,
                            column: at.column,
                            document: 0,
                            end_line: at.end_line,
                            end_column: at.end_column,
                        },
                    });
                }
            }
            result.findings.push(f);
        }
    }
}

fn message(
    verdict: &ImageVerdict,
    image: &ImageReport,
    workload: &Workload,
    policy: &str,
) -> String {
    let name = if workload.name.is_empty() {
        "(unnamed)"
    } else {
        &workload.name
    };
    let who = format!(
        "Image {} (container `{}` of {} `{name}`)",
        image.image, image.container, workload.object.kind
    );
    let set = match &verdict.check_set {
        Some(set) => {
            let display = set
                .display_name
                .as_deref()
                .map(|d| format!(" \"{d}\""))
                .unwrap_or_default();
            let scope = match &set.scope {
                Some(scope) => match (
                    &scope.kubernetes_namespace,
                    &scope.kubernetes_service_account,
                ) {
                    (Some(ns), _) => format!(", scope namespace `{ns}`"),
                    (_, Some(sa)) => format!(", scope service account `{sa}`"),
                    _ => String::new(),
                },
                None => ", unscoped".to_string(),
            };
            format!("check set {}{display}{scope}", set.index)
        }
        None => "no check set".to_string(),
    };
    let checks = |wanted: Verdict| {
        verdict
            .checks
            .iter()
            .filter(|c| c.verdict == wanted)
            .map(|c| {
                let display = c
                    .display_name
                    .as_deref()
                    .map(|d| format!(" \"{d}\""))
                    .unwrap_or_default();
                format!("check {}{display} ({}): {}", c.index, c.kind, c.explanation)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match verdict.verdict {
        Verdict::NonConformant => format!(
            "{who} does not conform to platform policy {policy} ({set}): {}. Continuous validation will log this pod; admission is not affected",
            checks(Verdict::NonConformant)
        ),
        _ => format!(
            "{who} cannot be fully judged offline under platform policy {policy} ({set}): {}. Continuous validation decides it online",
            checks(Verdict::Undecided)
        ),
    }
}
