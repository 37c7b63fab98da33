//! The findings and the report entry of a Cloud Run workload (contract §12.1–5).
//!
//! The images were decided by the one policy evaluator (`Policy::evaluate_on` with the
//! Cloud Run platform); what differs from GKE is what happens around the verdicts: whether
//! Binary Authorization checks the object at all, how break-glass is asked for (a
//! justification on the object), and that a tag's verdict is taken at deploy.

use super::breakglass;
use super::context::FileContext;
use super::file::{FileResult, Source};
use super::workload::{
    Site, decide_images, denial_fix, image_denial_message, overridden_denials, pod_entries,
    policy_decision_of, related_policy, workload_identity,
};
use crate::extract::Workload;
use crate::extract::cloudrun::{self, CloudRun, Justification, Off, Setting};
use crate::extract::cloudrun_terraform;
use crate::policy::decision::{Decision, Enforcement, Reason};
use crate::report::{
    Breakglass, BreakglassSource, CloudRunInfo, Finding, ImageReport, PolicyDecision, Related,
    WorkloadRef, WorkloadReport,
};
use crate::rules::Level;
use crate::settings::platform::Platform;
use crate::yaml::Span;

/// What the Cloud Run evaluation of one workload reads.
struct Input<'a, 's, 't> {
    site: &'a Site<'s, 't>,
    workload: &'a Workload,
    cloud_run: &'a CloudRun,
    ctx: &'a FileContext<'a>,
}

/// One break-glass marker on a Cloud Run object: a justification, or a GKE marker that
/// Cloud Run ignores.
struct Marker {
    source: BreakglassSource,
    span: Span,
    /// The finding's message when the marker is not honoured.
    ineffective: Option<(Level, String)>,
    /// Another system's marker (kritis): a note, not a break-glass source.
    other_system: bool,
}

fn kcc(workload: &Workload) -> bool {
    workload
        .object
        .api_version
        .starts_with("run.cnrm.cloud.google.com/")
}

fn name_of(workload: &Workload) -> &str {
    if workload.name.is_empty() {
        "(unnamed)"
    } else {
        &workload.name
    }
}

fn justification_marker(input: &Input<'_, '_, '_>, j: &Justification) -> Marker {
    let cr = input.cloud_run;
    let place = cr.justification_place(kcc(input.workload));
    let what = format!("break-glass justification `{}`", j.key);
    let problem: Option<(&str, Level, String)> = if j.not_a_string {
        Some((
            "value is not a string",
            Level::Error,
            format!(
                "{what} has the unquoted value `{}`, which is not a string, so the API refuses the object: quote it",
                j.text
            ),
        ))
    } else if let Some(template) = &j.misplaced {
        Some((
            "on the revision template",
            Level::Warning,
            format!(
                "{what} is on {template}; Cloud Run reads it only on the {} object, so it overrides nothing: move it to {place}",
                cr.resource.object_word()
            ),
        ))
    } else if cr.is_off() {
        Some((
            "Binary Authorization is off",
            Level::Warning,
            format!(
                "{what} is set, but Binary Authorization is off for this {}, so there is nothing to override (and the Admin API wants it empty when `useDefault` is false): remove it, or turn Binary Authorization on",
                cr.resource.label()
            ),
        ))
    } else if j.text.trim().is_empty() {
        Some((
            "empty justification",
            Level::Warning,
            format!(
                "{what} is empty; Cloud Run takes break-glass only with a justification, so it overrides nothing: write why (an incident or change id) as its value, or remove it"
            ),
        ))
    } else {
        None
    };
    Marker {
        source: BreakglassSource {
            kind: "justification",
            key: j.key.clone(),
            value: j.text.clone(),
            effective: problem.is_none(),
            problem: problem.as_ref().map(|(short, _, _)| short.to_string()),
            location: input.site.source.location(j.key_span, input.site.document),
        },
        span: j.key_span,
        ineffective: problem.map(|(_, level, message)| (level, message)),
        other_system: false,
    }
}

/// GKE's pod-label break-glass (and the legacy annotation, and misspellings of them) on a
/// Cloud Run object: Cloud Run ignores them.
fn gke_markers(input: &Input<'_, '_, '_>) -> Vec<Marker> {
    let place = input.cloud_run.justification_place(kcc(input.workload));
    breakglass::markers(
        input.site.tree,
        input.workload,
        input.ctx.settings.lenient_breakglass,
    )
    .into_iter()
    // The justification annotation is read by `extract::cloudrun`, not as a GKE marker.
    .filter(|m| m.key != cloudrun::BREAKGLASS_KEY)
    .map(|m| {
        let message = if m.other_system {
            format!(
                "`{}` is not a Binary Authorization break-glass marker; Cloud Run ignores it, so it overrides nothing (Cloud Run's break-glass is a justification: {place})",
                m.key
            )
        } else {
            format!(
                "break-glass {} `{}` is GKE's pod-admission marker; Cloud Run ignores it; set a justification: {place}",
                m.kind.as_str(),
                m.key
            )
        };
        Marker {
            source: BreakglassSource {
                kind: m.kind.as_str(),
                key: m.key.clone(),
                value: m.value.clone(),
                effective: false,
                problem: Some("Cloud Run ignores it; set a justification".to_string()),
                location: input.site.source.location(m.key_span, input.site.document),
            },
            span: m.key_span,
            ineffective: Some((
                if m.other_system {
                    Level::Note
                } else {
                    Level::Warning
                },
                message,
            )),
            other_system: m.other_system,
        }
    })
    .collect()
}

fn setting_finding(input: &Input<'_, '_, '_>, images: &[ImageReport]) -> Option<Finding> {
    let cr = input.cloud_run;
    let label = cr.resource.label();
    let name = name_of(input.workload);
    let fix = if cr.terraform {
        "set `binary_authorization { use_default = true }` (v1 `google_cloud_run_service`: the `run.googleapis.com/binary-authorization = \"default\"` annotation of `metadata`)".to_string()
    } else if kcc(input.workload) {
        "set `spec.binaryAuthorization.useDefault: true`".to_string()
    } else {
        format!(
            "set `{}: default` in the {}'s `metadata.annotations`",
            cloudrun::BINAUTHZ_KEY,
            cr.resource.object_word()
        )
    };
    match &cr.setting {
        // Reported with the other values that are not literals.
        Setting::Enforced | Setting::Unresolved(_) => None,
        Setting::Off(off) => {
            let why = match off {
                Off::Absent => format!("it has no Binary Authorization setting ({fix} to turn it on)"),
                Off::OnRevisionTemplate => format!(
                    "`{}` is on the revision template; Cloud Run reads it on the Service/Job: {fix}",
                    cloudrun::BINAUTHZ_KEY
                ),
                Off::UseDefaultFalse => format!("`useDefault` is false ({fix} to turn it on)"),
                Off::UnknownValue(value) => format!(
                    "`{}` is \"{value}\", neither `default` nor a platform policy name ({fix})",
                    cloudrun::BINAUTHZ_KEY
                ),
            };
            let listed = |decision: Decision| -> Vec<String> {
                images
                    .iter()
                    .filter(|i| i.verdict.decision == decision)
                    .map(|i| format!("{} ({})", i.image, i.verdict.reason.as_str()))
                    .collect()
            };
            let count = |n: usize| {
                if n == 1 {
                    "1 image".to_string()
                } else {
                    format!("{n} images")
                }
            };
            let (denied, unresolved) = (listed(Decision::Deny), listed(Decision::Unresolved));
            let mut parts = Vec::new();
            if !denied.is_empty() {
                parts.push(format!(
                    "the policy would deny {}: {}",
                    count(denied.len()),
                    denied.join("; ")
                ));
            }
            if !unresolved.is_empty() {
                parts.push(format!(
                    "it would decide {} on the digest resolved at deploy: {}",
                    count(unresolved.len()),
                    unresolved.join("; ")
                ));
            }
            let verdict = if parts.is_empty() {
                "the policy would admit every image".to_string()
            } else {
                parts.join("; ")
            };
            let mut f = input.site.source.finding(
                "cloudrun-binauthz-off",
                Level::Warning,
                format!(
                    "Binary Authorization is off for {label} `{name}`: {why}; Cloud Run deploys any image without checking the policy ({verdict})"
                ),
                cr.metadata_span,
                input.site.document,
            );
            if let Some(span) = cr.setting_span {
                f.related.push(Related {
                    message: "the setting".to_string(),
                    location: input.site.source.location(span, input.site.document),
                });
            }
            Some(f)
        }
        Setting::PlatformPolicy(policy) => Some(input.site.source.finding(
            "cloudrun-platform-policy",
            Level::Note,
            format!(
                "{label} `{name}` is checked by the Cloud Run platform policy `{policy}`, not by the project policy: its images are evaluated online only"
            ),
            cr.setting_span.unwrap_or(cr.metadata_span),
            input.site.document,
        )),
    }
}

fn breakglass_used_message(
    input: &Input<'_, '_, '_>,
    text: &str,
    images: &[ImageReport],
) -> String {
    let label = input.cloud_run.resource.label();
    let what = format!(
        "break-glass justification \"{text}\" on {label} `{}` deploys it whatever the policy says and writes a break-glass audit event with the justification",
        name_of(input.workload)
    );
    let denials = overridden_denials(images);
    let unresolved: Vec<&str> = images
        .iter()
        .filter(|i| i.verdict.decision == Decision::Unresolved)
        .map(|i| i.image.as_str())
        .collect();
    let mut overrides = Vec::new();
    if !denials.is_empty() {
        overrides.push(format!(
            "{} denial{}: {}",
            denials.len(),
            if denials.len() == 1 { "" } else { "s" },
            denials.join("; ")
        ));
    }
    if !unresolved.is_empty() {
        overrides.push(format!(
            "the unresolved verdict on {}",
            unresolved.join(", ")
        ));
    }
    if overrides.is_empty() {
        format!(
            "{what}; no image needed it (the policy already admits every image): remove the justification"
        )
    } else {
        format!("{what}; it overrides {}", overrides.join(", and "))
    }
}

/// Findings for each image under an enforced setting (no effective break-glass).
fn image_findings(
    input: &Input<'_, '_, '_>,
    identity: &WorkloadRef,
    images: &[ImageReport],
    markers: &[Marker],
    result: &mut FileResult,
) {
    let label = input.cloud_run.resource.label();
    for (image, container) in images.iter().zip(&input.workload.containers) {
        let dryrun = image.verdict.enforcement == Some(Enforcement::Dryrun);
        let (rule, level, message) = match image.verdict.decision {
            Decision::Allow => continue,
            // Platform-policy images are covered by the one `cloudrun-platform-policy` note.
            Decision::Unresolved if image.verdict.reason != Reason::TagResolvedAtDeploy => {
                continue;
            }
            Decision::Unresolved => (
                "image-digest-unresolved",
                if dryrun { Level::Note } else { Level::Warning },
                format!(
                    "Image {} (container `{}` of {label} `{}`) is given by tag; Cloud Run resolves it to a digest at deploy and checks the attestations of that digest, so this scan cannot decide it{}. Fix: pin the image by digest (`IMAGE@sha256:…`) to have its attestations checked here",
                    image.image,
                    image.container,
                    name_of(input.workload),
                    if dryrun {
                        " (dry-run rule: it is deployed either way)"
                    } else {
                        ""
                    }
                ),
            ),
            Decision::Deny => {
                let denial = image_denial_message(image, label, &input.workload.name);
                let fix = denial_fix(image);
                if dryrun {
                    (
                        "image-denied-dryrun",
                        Level::Warning,
                        format!(
                            "{denial} (dry-run rule: the revision is deployed, but the denial is audit-logged; it will be blocked when the rule is enforced). Fix: {fix}"
                        ),
                    )
                } else {
                    (
                        "image-denied",
                        Level::Error,
                        format!("{denial}. Fix: {fix}"),
                    )
                }
            }
        };
        let mut f = input.site.source.finding(
            rule,
            level,
            message,
            container.image_span,
            input.site.document,
        );
        f.workload = Some(identity.clone());
        f.container = Some(image.container.clone());
        f.container_type = Some(image.container_type);
        f.image = Some(image.image.clone());
        if let Some(policy_ref) = &image.verdict.source {
            f.related.push(related_policy(policy_ref));
        }
        for marker in markers.iter().filter(|m| !m.other_system) {
            f.related.push(Related {
                message: format!(
                    "break-glass {} `{}` is not honoured: {}",
                    marker.source.kind,
                    marker.source.key,
                    marker.source.problem.as_deref().unwrap_or_default()
                ),
                location: marker.source.location.clone(),
            });
        }
        result.findings.push(f);
    }
}

/// A `.tf` file, or a plan JSON given with `--terraform-plan` (contract §12 item 6): its
/// Cloud Run resources as workloads. `None` for any other file.
pub fn scan_terraform(display: &str, text: &str, ctx: &FileContext<'_>) -> Option<FileResult> {
    use crate::inputs::terraform::{self, SourceFile};
    let is_plan = ctx.settings.terraform_plans.iter().any(|p| p == display);
    if !is_plan && !display.to_ascii_lowercase().ends_with(".tf") {
        return None;
    }
    let file = SourceFile {
        display: display.to_string(),
        text: text.to_string(),
    };
    let source = Source { display, text };
    let (resources, errors) = if is_plan {
        match terraform::parse_plan(file) {
            Ok(plan) => (plan.resources, Vec::new()),
            Err(err) => (Vec::new(), vec![err]),
        }
    } else {
        let module = terraform::parse_module(vec![file]);
        (module.resources, module.errors)
    };
    let workloads = cloudrun_terraform::workloads(&resources, text, &ctx.settings.namespace);
    let mentions_cloud_run = cloudrun_terraform::RESOURCE_TYPES
        .iter()
        .any(|t| text.contains(t));
    if workloads.is_empty() && !(is_plan || (mentions_cloud_run && !errors.is_empty())) {
        return Some(FileResult::skipped(
            display,
            crate::inputs::discover::TERRAFORM_WITHOUT_CLOUD_RUN,
        ));
    }
    let mut result = FileResult {
        display: display.to_string(),
        ..FileResult::default()
    };
    for err in errors {
        result.findings.push(source.finding(
            "manifest-invalid",
            Level::Error,
            err.message,
            err.loc.span,
            0,
        ));
    }
    // The evaluation reads no YAML tree for Terraform workloads: an empty one stands in.
    let tree = crate::yaml::parse("", &crate::yaml::Limits::default());
    let site = Site {
        source: &source,
        tree: &tree,
        document: 0,
    };
    for workload in &workloads {
        if let Some(cloud_run) = &workload.cloud_run {
            evaluate_workload(&site, workload, cloud_run, ctx, &mut result);
        }
    }
    Some(result)
}

/// Evaluate one Cloud Run workload of a file and add its entry and findings to `result`.
pub fn evaluate_workload(
    site: &Site<'_, '_>,
    workload: &Workload,
    cloud_run: &CloudRun,
    ctx: &FileContext<'_>,
    result: &mut FileResult,
) {
    let identity = workload_identity(workload, ctx);
    let images = decide_images(site, workload, ctx);
    let policy_decision = policy_decision_of(&images);
    let input = Input {
        site,
        workload,
        cloud_run,
        ctx,
    };
    evaluate(&input, images, policy_decision, identity, result);
}

/// Findings and the report entry of one Cloud Run workload.
fn evaluate(
    input: &Input<'_, '_, '_>,
    images: Vec<ImageReport>,
    policy_decision: PolicyDecision,
    mut identity: WorkloadRef,
    result: &mut FileResult,
) {
    let cr = input.cloud_run;
    let mut markers: Vec<Marker> = cr
        .justifications
        .iter()
        .map(|j| justification_marker(input, j))
        .collect();
    markers.extend(gke_markers(input));
    markers.sort_by_key(|m| (m.span.start.line, m.span.start.column));
    let effective = markers.iter().find(|m| m.source.effective);
    identity.justification = effective.map(|m| m.source.value.clone());

    if let Some(f) = setting_finding(input, &images) {
        result.findings.push(Finding {
            workload: Some(identity.clone()),
            ..f
        });
    }
    for marker in &markers {
        let (rule, level, message) = match &marker.ineffective {
            Some((level, message)) if marker.other_system => {
                ("breakglass-other-system", *level, message.clone())
            }
            Some((level, message)) => ("breakglass-ineffective", *level, message.clone()),
            None => (
                "breakglass-used",
                Level::Warning,
                breakglass_used_message(input, &marker.source.value, &images),
            ),
        };
        let mut f =
            input
                .site
                .source
                .finding(rule, level, message, marker.span, input.site.document);
        f.workload = Some(identity.clone());
        if marker.ineffective.is_none() {
            f.related.extend(super::workload::denial_overrides(&images));
        }
        result.findings.push(f);
    }
    if cr.setting == Setting::Enforced && effective.is_none() {
        image_findings(input, &identity, &images, &markers, result);
    }
    for value in &cr.unresolved {
        let mut f = input.site.source.finding(
            "terraform-value-unresolved",
            Level::Note,
            format!(
                "{} of {} `{}`: not a literal ({}); binauthz-lint does not guess it, so what depends on it is `unresolved`; pass a plan JSON with --terraform-plan, where Terraform has resolved it",
                value.what,
                cr.resource.label(),
                name_of(input.workload),
                value.why
            ),
            value.span,
            input.site.document,
        );
        f.workload = Some(identity.clone());
        result.findings.push(f);
    }
    // Whether Binary Authorization checks the object is not known: neither is the verdict.
    let setting_unresolved = matches!(cr.setting, Setting::Unresolved(_));
    let policy_decision = if setting_unresolved && policy_decision != PolicyDecision::Deny {
        PolicyDecision::Unresolved
    } else {
        policy_decision
    };

    let breakglass_on = !cr.is_off();
    let effective = effective.is_some();
    // An enforced rule's unresolved verdict (or a platform policy's) is neither admission nor
    // denial; a dry-run rule never blocks.
    let unresolved_enforced = images.iter().any(|i| {
        i.verdict.decision == Decision::Unresolved
            && i.verdict.enforcement != Some(Enforcement::Dryrun)
    });
    let admitted = if setting_unresolved {
        None
    } else if !breakglass_on || effective {
        Some(true)
    } else {
        match policy_decision {
            PolicyDecision::Deny => Some(false),
            PolicyDecision::Unresolved if unresolved_enforced => None,
            _ => Some(true),
        }
    };
    // Events are written only where Binary Authorization checks the object.
    let audited = breakglass_on && (effective || policy_decision == PolicyDecision::DryrunDeny);
    let metadata: Vec<_> = input.workload.object_metadata.into_iter().collect();
    let sources: Vec<BreakglassSource> = markers
        .iter()
        .filter(|m| !m.other_system)
        .map(|m| m.source.clone())
        .collect();
    let breakglass = (!sources.is_empty()).then(|| {
        let primary = sources
            .iter()
            .position(|s| s.effective)
            .or_else(|| sources.iter().position(|s| s.kind == "justification"))
            .unwrap_or(0);
        Breakglass {
            effective,
            sources,
            cloud_run: Some(primary),
        }
    });
    let workload = input.workload;
    result.workloads.push(WorkloadReport {
        location: input
            .site
            .source
            .location(cr.object_span, input.site.document),
        api_version: workload.object.api_version.clone(),
        kind: workload.object.kind.clone(),
        platform: Platform::CloudRun,
        binauthz: Some(cr.setting.as_str()),
        route: workload.route.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        service_account: workload.service_account.clone(),
        scope: None,
        rendered_from: None,
        policy_decision,
        admitted,
        breakglass,
        images,
        // Continuous validation (contract §15) is GKE's.
        cv: None,
        pod_labels: if audited {
            pod_entries(input.site.tree, &metadata, "labels")
        } else {
            Vec::new()
        },
        pod_annotations: if audited {
            // Kustomize's origin annotations (asked for by `--render`) are not the user's.
            pod_entries(input.site.tree, &metadata, "annotations")
                .into_iter()
                .filter(|(key, _)| !key.starts_with("config.kubernetes.io/"))
                .collect()
        } else {
            Vec::new()
        },
        scope_index: 0,
        cluster: None,
        approved_by: None,
        project: input.ctx.policy.project().map(str::to_string),
        cloud_run: Some(CloudRunInfo {
            resource: cr.resource,
            region: cr.region.clone(),
        }),
    });
}
