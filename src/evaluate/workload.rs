//! Per-workload evaluation: every image decided under the policy, break-glass markers placed
//! and judged, and the findings and the workload entry of the report.

use super::breakglass::{self, Marker};
use super::context::FileContext;
use super::file::{FileResult, Source};
use crate::extract::{self, Workload};
use crate::policy::decision::{
    Decision, Enforcement, ImageDecision, PodContext, PolicyRef, Reason,
};
use crate::report::{
    Breakglass, BreakglassSource, ImageReport, Location, PolicyDecision, Related, WorkloadRef,
    WorkloadReport,
};
use crate::rules::Level;
use crate::settings::platform::Platform;
use crate::yaml::{NodeId, Tree};

/// Where a workload was found: its file, parsed tree and document.
pub struct Site<'s, 't> {
    pub source: &'s Source<'s>,
    pub tree: &'t Tree<'t>,
    pub document: u32,
}

/// Evaluate one workload of a file and add its entry and findings to `result`.
pub fn evaluate_workload(
    site: &Site<'_, '_>,
    workload: &Workload,
    ctx: &FileContext<'_>,
    result: &mut FileResult,
) {
    let identity = workload_identity(workload, ctx);
    let images = decide_images(site, workload, ctx);
    let policy_decision = policy_decision_of(&images);
    let cv = super::cv::evaluate(workload, ctx, &images);
    let markers = breakglass::markers(site.tree, workload, ctx.settings.lenient_breakglass);
    let effective = markers.iter().any(|m| m.effective);
    let first_new = result.findings.len();
    marker_findings(site, workload, &markers, &images, &identity, result);
    if let Some(note) = super::cv::breakglass_note(cv.as_deref()) {
        for f in &mut result.findings[first_new..] {
            if f.rule_id == "breakglass-used" {
                f.message.push_str(&note);
            }
        }
    }
    if !effective {
        denial_findings(site, workload, &markers, &images, &identity, result);
    }
    if let Some(cv) = &cv {
        super::cv::findings(
            (site.source, site.document),
            workload,
            cv,
            &images,
            &identity,
            result,
        );
    }
    let breakglass = breakglass_report(site.source, &markers, site.document);
    let mut entry = workload_report(
        site,
        workload,
        ctx,
        images,
        policy_decision,
        breakglass,
        effective,
    );
    entry.cv = cv;
    result.workloads.push(entry);
}

/// The identity findings carry (and exceptions match).
pub(super) fn workload_identity(workload: &Workload, ctx: &FileContext<'_>) -> WorkloadRef {
    WorkloadRef {
        kind: workload.object.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        api_group: extract::api_group(&workload.object.api_version).to_string(),
        // A detected pod spec is identified by where it was found.
        route: match &workload.detected_at {
            Some((path, _)) => format!("{}:{path}", workload.route),
            None => workload.route.clone(),
        },
        // Cloud Run has no cluster: `--cluster` never selects its rule (contract §12.2).
        cluster: ctx
            .settings
            .cluster
            .clone()
            .filter(|_| workload.cloud_run.is_none()),
        context: None,
        rendered_from: None,
        kind_label: workload.cloud_run.as_ref().map(|c| c.resource.label()),
        justification: None,
        descriptor_context: None,
    }
}

/// Every container's image under the policy, in container order.
pub(super) fn decide_images(
    site: &Site<'_, '_>,
    workload: &Workload,
    ctx: &FileContext<'_>,
) -> Vec<ImageReport> {
    let pod = PodContext {
        cluster: ctx.settings.cluster.as_deref(),
        namespace: &workload.namespace,
        service_account: &workload.service_account,
    };
    workload
        .containers
        .iter()
        .map(|c| {
            let verdict: ImageDecision = match &workload.cloud_run {
                Some(cloud_run) if cloud_run.unresolved.iter().any(|u| u.span == c.image_span) => {
                    ImageDecision::unresolved(Reason::NotALiteral)
                }
                Some(cloud_run) if cloud_run.is_platform_policy() => {
                    ImageDecision::platform_policy()
                }
                Some(_) => ctx.policy.evaluate_on(Platform::CloudRun, &pod, &c.image),
                None => ctx.policy.evaluate(&pod, &c.image),
            };
            ImageReport {
                container: c.name.clone(),
                container_type: c.container_type.as_str(),
                image: c.image.clone(),
                location: site.source.location(c.image_span, site.document),
                verdict,
            }
        })
        .collect()
}

/// The policy alone: denied by an enforced rule, else by a dry-run rule, else unresolved
/// (Cloud Run only), else allowed.
pub(super) fn policy_decision_of(images: &[ImageReport]) -> PolicyDecision {
    let denied = |e: Enforcement| {
        images
            .iter()
            .any(|i| i.verdict.decision == Decision::Deny && i.verdict.enforcement == Some(e))
    };
    if denied(Enforcement::Enforced) {
        PolicyDecision::Deny
    } else if denied(Enforcement::Dryrun) {
        PolicyDecision::DryrunDeny
    } else if images
        .iter()
        .any(|i| i.verdict.decision == Decision::Unresolved)
    {
        PolicyDecision::Unresolved
    } else {
        PolicyDecision::Allow
    }
}

/// Findings of the break-glass markers: other systems' markers, ineffective and deprecated
/// ones, and `breakglass-used` with the denials it overrides.
fn marker_findings(
    site: &Site<'_, '_>,
    workload: &Workload,
    markers: &[Marker],
    images: &[ImageReport],
    identity_ref: &WorkloadRef,
    result: &mut FileResult,
) {
    let (source, document) = (site.source, site.document);
    for marker in markers {
        let mut push = |rule: &'static str, level: Level, message: String| {
            let mut f = source.finding(rule, level, message, marker.key_span, document);
            // A marker on metadata that several pod templates share (an Argo workflow's
            // `podMetadata`, a training job's own metadata) is reported once, with the
            // first template's fix.
            let repeated = result
                .findings
                .iter()
                .any(|other| other.rule_id == f.rule_id && other.location == f.location);
            if repeated {
                return;
            }
            f.workload = Some(identity_ref.clone());
            result.findings.push(f);
        };
        if marker.other_system {
            push(
                "breakglass-other-system",
                Level::Note,
                format!(
                    "`{}` is not a Binary Authorization break-glass marker{}; GKE ignores it, so it overrides nothing (use the label `{}: \"true\"` on the pod template for a Binary Authorization override)",
                    marker.key,
                    if marker.key == breakglass::KRITIS_KEY {
                        " (it is kritis' annotation, honoured by kritis on presence alone)"
                    } else {
                        ""
                    },
                    breakglass::LABEL_KEY
                ),
            );
            continue;
        }
        // The same marker copied onto the object's own metadata (kustomize `labels` and
        // `commonLabels` always do that) beside the effective one on the pod template is
        // no mistake to fix.
        if !marker.effective
            && matches!(
                marker.problem,
                Some(breakglass::Problem::NotOnPodTemplate { .. })
            )
            && markers.iter().any(|m| m.effective && m.key == marker.key)
        {
            continue;
        }
        if !marker.effective {
            // A value the API server refuses (label and annotation values are strings) is
            // not an override that fails to apply: the object itself is rejected.
            let level = if marker.refused_value {
                Level::Error
            } else {
                Level::Warning
            };
            push(
                "breakglass-ineffective",
                level,
                breakglass::ineffective_message(marker, &workload.breakglass_place),
            );
            continue;
        }
        if marker.deprecated {
            push(
                "breakglass-deprecated-annotation",
                Level::Warning,
                format!(
                    "the legacy annotation `{}` is honoured but deprecated: use the label `{}: \"true\"` in the pod's labels instead",
                    marker.key,
                    breakglass::LABEL_KEY
                ),
            );
        }
        let mut f = source.finding(
            "breakglass-used",
            Level::Warning,
            breakglass_used_message(marker, &workload.object.kind, &workload.name, images),
            marker.key_span,
            document,
        );
        f.workload = Some(identity_ref.clone());
        f.related.extend(denial_overrides(images));
        result.findings.push(f);
    }
}

/// The denials an effective break-glass overrides, as related locations at their images.
pub(super) fn denial_overrides(images: &[ImageReport]) -> impl Iterator<Item = Related> + '_ {
    images
        .iter()
        .filter(|i| i.verdict.decision == Decision::Deny)
        .map(|image| Related {
            message: format!(
                "overrides the denial of {} (container {})",
                image.image, image.container
            ),
            location: image.location.clone(),
        })
}

/// `image-denied` / `image-denied-dryrun` at every denied image of a workload that no
/// break-glass admits, with the deciding rule and any marker that failed to apply.
fn denial_findings(
    site: &Site<'_, '_>,
    workload: &Workload,
    markers: &[Marker],
    images: &[ImageReport],
    identity_ref: &WorkloadRef,
    result: &mut FileResult,
) {
    let (source, document) = (site.source, site.document);
    // `images` were built from `workload.containers`, in order.
    for (image, container) in images.iter().zip(&workload.containers) {
        if image.verdict.decision != Decision::Deny {
            continue;
        }
        let denial = image_denial_message(image, &workload.object.kind, &workload.name);
        let fix = denial_fix(image);
        let (rule, level, message) = match image.verdict.enforcement {
            Some(Enforcement::Dryrun) => (
                "image-denied-dryrun",
                Level::Warning,
                format!(
                    "{denial} (dry-run rule: the pod is admitted, but the denial is audit-logged; it will be blocked when the rule is enforced). Fix: {fix}"
                ),
            ),
            _ => (
                "image-denied",
                Level::Error,
                format!("{denial}. Fix: {fix}"),
            ),
        };
        let mut f = source.finding(rule, level, message, container.image_span, document);
        f.workload = Some(identity_ref.clone());
        f.container = Some(image.container.clone());
        f.container_type = Some(image.container_type);
        f.image = Some(image.image.clone());
        if let Some(policy_ref) = &image.verdict.source {
            f.related.push(related_policy(policy_ref));
        }
        // A break-glass marker that would have admitted the pod, had it been honoured.
        for marker in markers.iter().filter(|m| !m.effective && !m.other_system) {
            f.related.push(Related {
                message: format!(
                    "break-glass {} `{}` is not honoured: {}",
                    marker.kind.as_str(),
                    marker.key,
                    marker
                        .problem
                        .as_ref()
                        .map(|p| p.short())
                        .unwrap_or_default()
                ),
                location: source.location(marker.key_span, document),
            });
        }
        result.findings.push(f);
    }
}

/// The workload's entry in the report.
fn workload_report(
    site: &Site<'_, '_>,
    workload: &Workload,
    ctx: &FileContext<'_>,
    images: Vec<ImageReport>,
    policy_decision: PolicyDecision,
    breakglass: Option<Breakglass>,
    effective: bool,
) -> WorkloadReport {
    let (source, tree, document) = (site.source, site.tree, site.document);
    let object_location = source.location(tree.span(workload.object.node), document);
    // Pod metadata is only kept for the audit events of break-glass and dry-run admissions.
    let audited = effective || policy_decision == PolicyDecision::DryrunDeny;
    WorkloadReport {
        location: object_location,
        api_version: workload.object.api_version.clone(),
        kind: workload.object.kind.clone(),
        platform: Platform::Gke,
        binauthz: None,
        route: workload.route.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        service_account: workload.service_account.clone(),
        scope: None,
        rendered_from: None,
        policy_decision,
        admitted: Some(policy_decision != PolicyDecision::Deny || effective),
        breakglass,
        images,
        cv: None,
        pod_labels: if audited {
            pod_entries(tree, &workload.pod_metadata, "labels")
        } else {
            Vec::new()
        },
        pod_annotations: if audited {
            pod_entries(
                tree,
                &workload
                    .pod_metadata
                    .iter()
                    .copied()
                    .filter(|m| !workload.annotations_not_copied.iter().any(|(n, _)| n == m))
                    .collect::<Vec<_>>(),
                "annotations",
            )
        } else {
            Vec::new()
        },
        scope_index: 0,
        cluster: ctx.settings.cluster.clone(),
        approved_by: None,
        project: ctx.policy.project().map(str::to_string),
        cloud_run: None,
    }
}

/// The pods' labels (or annotations) from every block they come from; a later block wins.
pub(super) fn pod_entries(tree: &Tree, metas: &[NodeId], field: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for meta in metas {
        for (key, value) in string_entries(tree, Some(*meta), field) {
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => out.push((key, value)),
            }
        }
    }
    out
}

fn string_entries(tree: &Tree, meta: Option<NodeId>, field: &str) -> Vec<(String, String)> {
    let Some(map) = meta.and_then(|m| tree.get(m, field)) else {
        return Vec::new();
    };
    tree.entries(map)
        .into_iter()
        .filter_map(|(k, v)| {
            Some((
                tree.scalar(k)?.to_string(),
                tree.scalar(v).unwrap_or("").to_string(),
            ))
        })
        .collect()
}

pub(super) fn related_policy(source: &PolicyRef) -> Related {
    Related {
        message: source.label.clone(),
        location: Location {
            file: source.file.clone(),
            line: source.line,
            column: source.column,
            document: 0,
            end_line: source.end_line,
            end_column: source.end_column,
        },
    }
}

fn breakglass_report(source: &Source<'_>, markers: &[Marker], document: u32) -> Option<Breakglass> {
    let sources: Vec<BreakglassSource> = markers
        .iter()
        .filter(|m| !m.other_system)
        .map(|m| BreakglassSource {
            kind: m.kind.as_str(),
            key: m.key.clone(),
            value: m.value.clone(),
            effective: m.effective,
            problem: m.problem.as_ref().map(|p| p.short()),
            location: source.location(m.key_span, document),
        })
        .collect();
    if sources.is_empty() {
        return None;
    }
    Some(Breakglass {
        effective: sources.iter().any(|s| s.effective),
        sources,
        cloud_run: None,
    })
}

/// Binary Authorization's denial message with the image named once, followed by the
/// container and workload it belongs to: GKE repeats "Image X denied by attestor …" for
/// every failing attestor, which makes long lines of the same digest.
pub(super) fn image_denial_message(image: &ImageReport, kind: &str, name: &str) -> String {
    let gke = image.denial_message();
    let repeated = format!(". Image {} denied by attestor ", image.image);
    let gke = gke.replace(&repeated, "; denied by attestor ");
    let lead = format!("Image {} ", image.image);
    // An empty `image:` would read "Image  (container …": name it.
    let shown = if image.image.trim().is_empty() {
        "\"\" (empty)".to_string()
    } else {
        image.image.clone()
    };
    let who = format!(
        "Image {shown} (container `{}` of {kind} `{}`) ",
        image.container,
        if name.is_empty() { "(unnamed)" } else { name }
    );
    match gke.strip_prefix(&lead) {
        Some(rest) => format!("{who}{rest}"),
        None => format!("{who}denied: {gke}"),
    }
}

/// How to get a denied image admitted, by the reason of the denial.
pub(super) fn denial_fix(image: &ImageReport) -> String {
    let failing: Vec<&str> = image
        .verdict
        .attestors
        .iter()
        .filter(|a| !a.verified)
        .map(|a| a.attestor.as_str())
        .collect();
    let not_supplied = image
        .verdict
        .attestors
        .iter()
        .any(|a| !a.verified && a.detail == crate::attest::ATTESTOR_NOT_SUPPLIED_DETAIL);
    match image.verdict.reason {
        Reason::NotByDigest => {
            "pin the image by digest (`IMAGE@sha256:…`); attestations are only checked on digests".to_string()
        }
        Reason::AttestationMissing | Reason::AttestationInvalid if not_supplied => {
            "pass the attestor definitions with --attestors (and their occurrences with --attestations) to check the attestations offline, or allowlist the image in `admissionWhitelistPatterns`".to_string()
        }
        Reason::AttestationMissing => format!(
            "add an attestation by {} for the image's digest (`gcloud container binauthz attestations sign-and-create`), or allowlist the image in `admissionWhitelistPatterns`",
            failing.join(", ")
        ),
        Reason::AttestationInvalid => format!(
            "re-create the attestation by {} with a key the attestor trusts, over this digest, or allowlist the image in `admissionWhitelistPatterns`",
            failing.join(", ")
        ),
        _ => "allowlist the image with an `admissionWhitelistPatterns` entry, or change the rule's `evaluationMode`".to_string(),
    }
}

fn breakglass_used_message(
    marker: &Marker,
    kind: &str,
    name: &str,
    images: &[ImageReport],
) -> String {
    let denials = overridden_denials(images);
    let what = format!(
        "break-glass {} `{}: \"{}\"` on {} {}",
        marker.kind.as_str(),
        marker.key,
        marker.value,
        kind,
        if name.is_empty() { "(unnamed)" } else { name }
    );
    // A bare Pod is the pod itself; a controller's marker reaches every pod it creates.
    let admits = if kind == "Pod" {
        "admits the pod"
    } else {
        "admits its pods"
    };
    if denials.is_empty() {
        format!(
            "{what} {admits} whatever the policy says and writes a break-glass audit event; no image needed it (the policy already admits every image): remove the marker"
        )
    } else {
        format!(
            "{what} {admits} whatever the policy says and writes a break-glass audit event; it overrides {} denial{}: {}",
            denials.len(),
            if denials.len() == 1 { "" } else { "s" },
            denials.join("; ")
        )
    }
}

/// What an effective break-glass overrides: each denied image with its reason and rule.
pub(super) fn overridden_denials(images: &[ImageReport]) -> Vec<String> {
    images
        .iter()
        .filter(|i| i.verdict.decision == Decision::Deny)
        .map(|i| {
            let mode = match i.verdict.enforcement {
                Some(Enforcement::Dryrun) => ", dry-run",
                _ => "",
            };
            format!(
                "{} (container {}: {} by the {} rule{})",
                i.image,
                i.container,
                i.verdict.reason.as_str(),
                i.verdict.rule.as_deref().unwrap_or("default"),
                mode
            )
        })
        .collect()
}
