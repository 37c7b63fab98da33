//! Per-file work: parse → extract → evaluate → findings. Pure: text in, results out.

use crate::evaluate::breakglass::{self, Marker};
use crate::extract::{self, Workload};
use crate::policy::Policy;
use crate::policy::decision::{
    Decision, Enforcement, ImageDecision, PodContext, PolicyRef, Reason,
};
use crate::report::{
    Breakglass, BreakglassSource, Finding, ImageReport, Location, PolicyDecision, Related,
    WorkloadReport,
};
use crate::rules::Level;
use crate::yaml::{self, Limits, NodeId, Span, Tree};

/// Settings resolved once from the command line.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    /// `--namespace`: the namespace of objects that name none.
    pub namespace: String,
    /// `--cluster LOCATION.NAME`.
    pub cluster: Option<String>,
    pub limits: Limits,
    /// `--max-file-size` in bytes.
    pub max_file_size: u64,
    /// `--lenient-breakglass`: the legacy annotation counts by presence alone (spec A2).
    pub lenient_breakglass: bool,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            namespace: "default".to_string(),
            cluster: None,
            limits: Limits::default(),
            max_file_size: 32 * 1024 * 1024,
            lenient_breakglass: false,
        }
    }
}

/// Everything one file contributes to the report.
#[derive(Clone, Debug, Default)]
pub struct FileResult {
    pub display: String,
    /// Set when the file was not evaluated; the reason as in the contract's `skipped[]`.
    pub skipped: Option<String>,
    pub documents: usize,
    pub workloads: Vec<WorkloadReport>,
    pub findings: Vec<Finding>,
}

impl FileResult {
    pub fn skipped(display: &str, reason: &str) -> FileResult {
        FileResult {
            display: display.to_string(),
            skipped: Some(reason.to_string()),
            ..FileResult::default()
        }
    }
}

/// Maps positions of one file to report locations and source snippets.
pub struct Source<'a> {
    pub display: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn location(&self, span: Span, document: u32) -> Location {
        let end = if span.end.line == 0 {
            span.start
        } else {
            span.end
        };
        Location {
            file: self.display.to_string(),
            line: span.start.line.max(1),
            column: span.start.column.max(1),
            document,
            end_line: end.line.max(span.start.line).max(1),
            end_column: end.column.max(1),
        }
    }

    /// The text of a 1-based line, without its line break (capped for huge lines).
    pub fn line_text(&self, line: u32) -> Option<String> {
        let text = self.text.strip_prefix('\u{FEFF}').unwrap_or(self.text);
        let raw = text.split('\n').nth(line.checked_sub(1)? as usize)?;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        Some(raw.chars().take(400).collect())
    }

    pub fn finding(
        &self,
        rule_id: &'static str,
        level: Level,
        message: String,
        span: Span,
        document: u32,
    ) -> Finding {
        let mut f = Finding::new(rule_id, level, message, self.location(span, document));
        f.snippet = self.line_text(span.start.line);
        f
    }
}

/// Scan the text of one file (already read, UTF-8, not binary, not a Helm template).
pub fn scan_text(
    display: &str,
    text: &str,
    settings: &ScanSettings,
    policy: &Policy,
) -> FileResult {
    let tree = yaml::parse_manifest(text, &settings.limits);
    scan_tree(display, text, &tree, settings, policy)
}

/// Extract and evaluate an already parsed file (`policy diff` parses once and evaluates
/// under two policies).
pub fn scan_tree(
    display: &str,
    text: &str,
    tree: &Tree<'_>,
    settings: &ScanSettings,
    policy: &Policy,
) -> FileResult {
    let source = Source { display, text };
    let mut result = FileResult {
        display: display.to_string(),
        documents: tree.documents.len(),
        ..FileResult::default()
    };
    let mut objects = 0usize;
    // Kinds whose pod-spec route was inferred: noted once per file.
    let mut inferred_kinds: Vec<String> = Vec::new();
    for document in &tree.documents {
        let Some(root) = document.root else {
            continue;
        };
        let extraction = extract::extract(tree, root, &settings.namespace);
        if let Some(finding) = workload_ref_note(&source, tree, root, document.index) {
            result.findings.push(finding);
        }
        objects += extraction.objects;
        for problem in extraction.problems {
            result.findings.push(source.finding(
                "manifest-invalid",
                Level::Error,
                problem.message,
                problem.span,
                document.index,
            ));
        }
        for workload in &extraction.workloads {
            if let Some((path, span)) = &workload.detected_at
                && !inferred_kinds.contains(&workload.object.kind)
            {
                inferred_kinds.push(workload.object.kind.clone());
                result.findings.push(source.finding(
                    "workload-route-inferred",
                    Level::Note,
                    format!(
                        "{} ({}) is not a kind binauthz-lint knows, but `{path}` holds a pod spec: its images are evaluated as a workload of route `detected` (one note per kind and file); break-glass is only recognised on a pod template's `metadata` beside that spec",
                        workload.object.kind, workload.object.api_version
                    ),
                    *span,
                    document.index,
                ));
            }
            evaluate_workload(
                &source,
                tree,
                workload,
                document.index,
                settings,
                policy,
                &mut result,
            );
        }
    }
    if let Some(err) = &tree.error {
        let span = Span {
            start: err.pos,
            end: err.pos,
        };
        result.findings.push(source.finding(
            "manifest-invalid",
            Level::Error,
            kubectl_refusal_message(&err.message),
            span,
            err.document,
        ));
        result.documents = result.documents.max(err.document as usize + 1);
    }
    if objects == 0 && tree.error.is_none() {
        let has_content = tree
            .documents
            .iter()
            .any(|d| d.root.is_some_and(|r| !tree.is_null(r)));
        return FileResult::skipped(
            display,
            if has_content {
                "not-a-manifest"
            } else {
                "empty"
            },
        );
    }
    for dup in &tree.duplicates {
        // Duplicates only matter in documents that are Kubernetes objects.
        if !document_is_object(tree, dup.document) {
            continue;
        }
        let first = source.location(dup.first, dup.document);
        let mut finding = source.finding(
            "duplicate-key",
            Level::Warning,
            format!(
                "duplicate key `{}` (first at line {}); Kubernetes keeps only this last value",
                dup.key, first.line
            ),
            dup.span,
            dup.document,
        );
        finding.related.push(Related {
            message: format!("first `{}`", dup.key),
            location: first,
        });
        result.findings.push(finding);
    }
    result
}

/// The message of a file that could not be read: parser errors are "invalid YAML"; the
/// kubectl reader's own refusals (JSON streams, separator lines) already say what they are.
fn kubectl_refusal_message(message: &str) -> String {
    if message.starts_with("invalid JSON") || message.starts_with("invalid document separator") {
        message.to_string()
    } else {
        format!("invalid YAML: {message}")
    }
}

/// `workload-ref`: an Argo Rollout with `spec.workloadRef` and no pod template of its own
/// creates its pods from the referenced workload's template (Argo Rollouts docs,
/// "Reference Deployment From Rollout"); its images and break-glass are evaluated there,
/// where that object is written, and nothing is evaluated here.
fn workload_ref_note(
    source: &Source<'_>,
    tree: &Tree,
    root: NodeId,
    document: u32,
) -> Option<Finding> {
    let api_version = tree.get(root, "apiVersion").and_then(|n| tree.string(n))?;
    let kind = tree.get(root, "kind").and_then(|n| tree.string(n))?;
    if kind != "Rollout" || extract::api_group(api_version) != "argoproj.io" {
        return None;
    }
    let spec = tree.get(root, "spec")?;
    let (key, reference) = tree.get_entry(spec, "workloadRef")?;
    if tree.get(spec, "template").is_some_and(|t| !tree.is_null(t)) {
        return None;
    }
    let field = |name: &str| {
        tree.get(reference, name)
            .and_then(|n| tree.string(n))
            .unwrap_or("?")
            .to_string()
    };
    let name = tree
        .path(root, &["metadata", "name"])
        .and_then(|n| tree.string(n))
        .unwrap_or("?");
    Some(source.finding(
        "workload-ref",
        Level::Note,
        format!(
            "Rollout `{name}` takes its pod template from {} `{}` (spec.workloadRef): its images and break-glass label are evaluated there, in that object's file; a break-glass label must be on that {}'s pod template (`spec.template.metadata.labels`), not on this Rollout",
            field("kind"),
            field("name"),
            field("kind"),
        ),
        tree.span(key),
        document,
    ))
}

fn document_is_object(tree: &Tree, document: u32) -> bool {
    tree.documents
        .iter()
        .find(|d| d.index == document)
        .and_then(|d| d.root)
        .is_some_and(|root| extract::is_object(tree, root))
}

/// The pods' labels (or annotations) from every block they come from; a later block wins.
fn pod_entries(tree: &Tree, metas: &[NodeId], field: &str) -> Vec<(String, String)> {
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

fn related_policy(source: &PolicyRef) -> Related {
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

fn evaluate_workload(
    source: &Source<'_>,
    tree: &Tree,
    workload: &Workload,
    document: u32,
    settings: &ScanSettings,
    policy: &Policy,
    result: &mut FileResult,
) {
    let ctx = PodContext {
        cluster: settings.cluster.as_deref(),
        namespace: &workload.namespace,
        service_account: &workload.service_account,
    };
    let identity_ref = crate::report::WorkloadRef {
        kind: workload.object.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        api_group: extract::api_group(&workload.object.api_version).to_string(),
        // A detected pod spec is identified by where it was found.
        route: match &workload.detected_at {
            Some((path, _)) => format!("{}:{path}", workload.route),
            None => workload.route.clone(),
        },
        cluster: settings.cluster.clone(),
        context: None,
        rendered_from: None,
    };
    let images: Vec<ImageReport> = workload
        .containers
        .iter()
        .map(|c| {
            let verdict: ImageDecision = policy.evaluate(&ctx, &c.image);
            ImageReport {
                container: c.name.clone(),
                container_type: c.container_type.as_str(),
                image: c.image.clone(),
                location: source.location(c.image_span, document),
                verdict,
            }
        })
        .collect();
    let denied = |e: Enforcement| {
        images
            .iter()
            .any(|i| i.verdict.decision == Decision::Deny && i.verdict.enforcement == Some(e))
    };
    let policy_decision = if denied(Enforcement::Enforced) {
        PolicyDecision::Deny
    } else if denied(Enforcement::Dryrun) {
        PolicyDecision::DryrunDeny
    } else {
        PolicyDecision::Allow
    };

    let markers = breakglass::markers(tree, workload, settings.lenient_breakglass);
    let effective = markers.iter().any(|m| m.effective);
    let breakglass = breakglass_report(source, &markers, document);

    // Findings.
    for marker in &markers {
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
            breakglass_used_message(marker, &workload.object.kind, &workload.name, &images),
            marker.key_span,
            document,
        );
        f.workload = Some(identity_ref.clone());
        // The denials it overrides, at their images.
        for image in images
            .iter()
            .filter(|i| i.verdict.decision == Decision::Deny)
        {
            f.related.push(Related {
                message: format!(
                    "overrides the denial of {} (container {})",
                    image.image, image.container
                ),
                location: image.location.clone(),
            });
        }
        result.findings.push(f);
    }
    if !effective {
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

    let object_location = source.location(tree.span(workload.object.node), document);
    // Pod metadata is only kept for the audit events of break-glass and dry-run admissions.
    let audited = effective || policy_decision == PolicyDecision::DryrunDeny;
    result.workloads.push(WorkloadReport {
        location: object_location,
        api_version: workload.object.api_version.clone(),
        kind: workload.object.kind.clone(),
        route: workload.route.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
        service_account: workload.service_account.clone(),
        scope: None,
        rendered_from: None,
        policy_decision,
        admitted: policy_decision != PolicyDecision::Deny || effective,
        breakglass,
        images,
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
        cluster: settings.cluster.clone(),
        approved_by: None,
        project: policy.project().map(str::to_string),
    });
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
    })
}

/// Binary Authorization's denial message with the image named once, followed by the
/// container and workload it belongs to: GKE repeats "Image X denied by attestor …" for
/// every failing attestor, which makes long lines of the same digest.
fn image_denial_message(image: &ImageReport, kind: &str, name: &str) -> String {
    let gke = image.denial_message();
    let repeated = format!(". Image {} denied by attestor ", image.image);
    let gke = gke.replace(&repeated, "; denied by attestor ");
    let lead = format!("Image {} ", image.image);
    let who = format!(
        "Image {} (container `{}` of {kind} `{}`) ",
        image.image,
        image.container,
        if name.is_empty() { "(unnamed)" } else { name }
    );
    match gke.strip_prefix(&lead) {
        Some(rest) => format!("{who}{rest}"),
        None => format!("{who}denied: {gke}"),
    }
}

/// How to get a denied image admitted, by the reason of the denial.
fn denial_fix(image: &ImageReport) -> String {
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
    let denials: Vec<String> = images
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
        .collect();
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
