//! Per-file work: parse → extract → evaluate → findings. Pure: text in, results out.

pub use super::context::{FileContext, ScanSettings};
pub use super::file::{FileResult, Source};
use super::workload::{Site, evaluate_workload};
use crate::extract;
use crate::policy::Policy;
use crate::report::{Finding, Related};
use crate::rules::Level;
use crate::settings::scope::Scopes;
use crate::yaml::{self, NodeId, Span, Tree};

/// Scan the text of one file (already read, UTF-8, not binary, not a Helm template).
pub fn scan_text(
    display: &str,
    text: &str,
    settings: &ScanSettings,
    policy: &Policy,
) -> FileResult {
    scan_text_in(display, text, &FileContext::new(settings, policy))
}

/// [`scan_text`] with everything the file is evaluated with in one value.
pub fn scan_text_in(display: &str, text: &str, ctx: &FileContext<'_>) -> FileResult {
    if let Some(result) = super::cloudrun::scan_terraform(display, text, ctx) {
        return result;
    }
    let tree = yaml::parse_manifest(text, &ctx.settings.limits);
    scan_tree(display, text, &tree, ctx)
}

/// Extract and evaluate an already parsed file (`policy diff` parses once and evaluates
/// under two policies).
pub fn scan_tree(display: &str, text: &str, tree: &Tree<'_>, ctx: &FileContext<'_>) -> FileResult {
    if let Some(result) = super::cloudrun::scan_terraform(display, text, ctx) {
        return result;
    }
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
        let mut extraction =
            extract::extract_with(tree, root, &ctx.settings.namespace, ctx.settings.platform);
        if let Some(namespace) = ctx.namespace_override {
            for workload in &mut extraction.workloads {
                workload.namespace = namespace.to_string();
            }
        }
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
            if !deployed_to(tree, workload.object.node, ctx.config_sync_cluster) {
                continue;
            }
            let site = Site {
                source: &source,
                tree,
                document: document.index,
            };
            // Cloud Run objects (contract §12) have their own setting and break-glass; the
            // images are decided by the same evaluator.
            match &workload.cloud_run {
                Some(cloud_run) => {
                    super::cloudrun::evaluate_workload(&site, workload, cloud_run, ctx, &mut result)
                }
                None => evaluate_workload(&site, workload, ctx, &mut result),
            }
        }
    }
    // A file kubectl's reader cannot read, that holds no object before the error and has
    // no `apiVersion` or `kind` key anywhere, was never meant to be a Kubernetes object
    // (a Cloud Monitoring dashboard with a `/* */` header, a broken CI file): without those
    // keys there is nothing kubectl would create, so it is not a manifest, like any other
    // file without them — not an error that fails a whole-repository scan. (A file over a
    // resource limit stays an error: it was not read to its end.)
    if tree.error.as_ref().is_some_and(|e| !e.is_limit())
        && objects == 0
        && !mentions_object_keys(text)
    {
        return FileResult::skipped(display, "not-a-manifest");
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

/// One file's text evaluated in each of its scopes (contract §14 fan-out: a file that
/// several descriptor contexts deploy gives one workload entry and one set of workload
/// findings per context), parsed once. File-level findings (invalid YAML, duplicate keys,
/// ...) are the same in every scope and are kept once.
pub fn scan_in_scopes(
    display: &str,
    text: &str,
    path: Option<&std::path::Path>,
    indices: &[usize],
    scopes: &Scopes<'_, '_>,
) -> FileResult {
    // A Config Sync hierarchy folder names the namespace of the objects that name none.
    let in_folder_namespace = |index: usize| {
        scopes.hierarchy_namespace(index, path).map(|ns| {
            let mut scope = scopes.get(index).clone();
            scope.settings.namespace = ns;
            scope
        })
    };
    let first = indices.first().copied().unwrap_or(0);
    if indices.len() <= 1 {
        let own = in_folder_namespace(first);
        let scope = own.as_ref().unwrap_or_else(|| scopes.get(first));
        let mut result = scan_text_in(display, text, &FileContext::of(scope));
        scopes.stamp(first, &mut result.workloads, &mut result.findings);
        return result;
    }
    let tree = crate::yaml::parse_manifest(text, &scopes.get(first).settings.limits);
    let mut merged: Option<FileResult> = None;
    for &index in indices {
        let own = in_folder_namespace(index);
        let scope = own.as_ref().unwrap_or_else(|| scopes.get(index));
        let mut result = scan_tree(display, text, &tree, &FileContext::of(scope));
        scopes.stamp(index, &mut result.workloads, &mut result.findings);
        match &mut merged {
            None => merged = Some(result),
            Some(all) if all.skipped.is_some() => *all = result,
            Some(_) if result.skipped.is_some() => {}
            Some(all) => {
                all.workloads.extend(result.workloads);
                all.findings
                    .extend(result.findings.into_iter().filter(|f| f.workload.is_some()));
            }
        }
    }
    merged.unwrap_or_else(|| FileResult::skipped(display, "empty"))
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

/// Config Sync: an object whose `cluster-name-selector` annotation does not name the
/// context's cluster is not deployed to it (outside Config Sync contexts, always deployed).
fn deployed_to(tree: &Tree, object: NodeId, cluster: Option<&str>) -> bool {
    let Some(cluster) = cluster else {
        return true;
    };
    let selector = tree
        .path(object, &["metadata", "annotations"])
        .and_then(|a| tree.get(a, crate::settings::descriptors::CLUSTER_NAME_SELECTOR))
        .and_then(|v| tree.string(v));
    selector
        .is_none_or(|value| crate::settings::descriptors::selector_names(value).contains(&cluster))
}

fn document_is_object(tree: &Tree, document: u32) -> bool {
    tree.documents
        .iter()
        .find(|d| d.index == document)
        .and_then(|d| d.root)
        .is_some_and(|root| extract::is_object(tree, root))
}

/// True when `text` has an `apiVersion` or `kind` key (YAML or JSON, quoted or not)
/// anywhere: what every Kubernetes object has, however broken the rest.
pub fn mentions_object_keys(text: &str) -> bool {
    ["apiVersion", "kind"].iter().any(|key| {
        text.match_indices(key).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') {
                return false;
            }
            let rest = text[at + key.len()..].trim_start_matches(['"', '\'']);
            rest.trim_start_matches([' ', '\t']).starts_with(':')
        })
    })
}

#[cfg(test)]
mod object_key_tests {
    use super::*;

    #[test]
    fn object_keys_are_found_in_yaml_and_json_only_as_keys() {
        assert!(mentions_object_keys("apiVersion: v1\n"));
        assert!(mentions_object_keys("{\"kind\" : \"Pod\"}"));
        assert!(mentions_object_keys("- {kind: x}"));
        assert!(!mentions_object_keys(
            "/* c */\n{\"displayName\": \"kind of\"}"
        ));
        assert!(!mentions_object_keys("subkind: x\nresource.kind: y\n"));
    }
}
