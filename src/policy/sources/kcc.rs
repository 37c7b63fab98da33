//! Config Connector (`binaryauthorization.cnrm.cloud.google.com/v1beta1`) →
//! the gcloud-shaped tree (contract §13 item 4): a `BinaryAuthorizationPolicy`'s `spec`
//! keys are the gcloud keys; `projectRef` names the project (`name: projects/P/policy`);
//! `requireAttestationsBy: [{name: A}]` → `projects/<A's project>/attestors/<A's
//! resourceID or metadata.name>` from a `BinaryAuthorizationAttestor` of the same file
//! (the policy's project and `A` when the file does not define it), `{external: X}` → X.

use crate::attest::{AttestorDefinitions, AttestorDraft, DraftKey};
use crate::yaml::{self, Limits, NodeId, Span, Style, Tree, TreeBuilder};

use super::{Failed, Mapped, SourceSpec, select};

const GROUP: &str = "binaryauthorization.cnrm.cloud.google.com/";
const RULE_MAPS: &[&str] = &[
    "clusterAdmissionRules",
    "kubernetesNamespaceAdmissionRules",
    "kubernetesServiceAccountAdmissionRules",
    "istioServiceIdentityAdmissionRules",
];

fn kind_of<'t>(tree: &'t Tree, root: NodeId) -> Option<&'t str> {
    let api = tree.get(root, "apiVersion").and_then(|a| tree.string(a))?;
    if !api.starts_with(GROUP) {
        return None;
    }
    tree.get(root, "kind").and_then(|k| tree.string(k))
}

/// True when a document is a Binary Authorization Config Connector object.
pub(super) fn has_binauthz_objects(tree: &Tree) -> bool {
    tree.documents.iter().filter_map(|d| d.root).any(|r| {
        matches!(
            kind_of(tree, r),
            Some("BinaryAuthorizationPolicy" | "BinaryAuthorizationAttestor")
        )
    })
}

/// `projectRef` → the project id (`external: projects/P` or `P`, or `name: P`).
fn project_of(tree: &Tree, spec: NodeId) -> Option<(String, Span)> {
    let r = tree.get(spec, "projectRef")?;
    let span = tree.span(r);
    if let Some(external) = tree.get(r, "external").and_then(|e| tree.string(e)) {
        let p = external.strip_prefix("projects/").unwrap_or(external);
        return Some((p.trim_end_matches('/').to_string(), span));
    }
    tree.get(r, "name")
        .and_then(|n| tree.string(n))
        .map(|n| (n.to_string(), span))
}

fn metadata_name<'t>(tree: &'t Tree, root: NodeId) -> Option<&'t str> {
    tree.path(root, &["metadata", "name"])
        .and_then(|n| tree.string(n))
}

struct KccAttestor {
    /// `metadata.name`: what `requireAttestationsBy[].name` refers to.
    object: String,
    full_name: Option<String>,
    root: NodeId,
}

fn kcc_attestors(tree: &Tree, roots: &[NodeId]) -> Vec<KccAttestor> {
    roots
        .iter()
        .filter(|r| kind_of(tree, **r) == Some("BinaryAuthorizationAttestor"))
        .filter_map(|r| {
            let object = metadata_name(tree, *r)?.to_string();
            let spec_node = tree.get(*r, "spec");
            let resource_id = spec_node
                .and_then(|s| tree.get(s, "resourceID"))
                .and_then(|n| tree.string(n))
                .unwrap_or(&object)
                .to_string();
            let full_name = spec_node
                .and_then(|s| project_of(tree, s))
                .map(|(p, _)| format!("projects/{p}/attestors/{resource_id}"));
            Some(KccAttestor {
                object,
                full_name,
                root: *r,
            })
        })
        .collect()
}

/// The `BinaryAuthorizationAttestor`s of a file (for `--attestors`).
pub(super) fn text_attestors(text: &str, display: &str) -> Result<AttestorDefinitions, String> {
    let tree = yaml::parse(text, &Limits::default());
    if let Some(err) = &tree.error {
        return Err(format!(
            "{display}:{}:{}: not valid YAML: {}",
            err.pos.line, err.pos.column, err.message
        ));
    }
    let roots: Vec<NodeId> = tree.documents.iter().filter_map(|d| d.root).collect();
    let mut defs = AttestorDefinitions::default();
    for a in kcc_attestors(&tree, &roots) {
        if let Some(draft) = attestor_draft(&tree, &a) {
            defs.push(display, draft);
        }
    }
    Ok(defs)
}

pub(super) fn from_text(text: &str, spec: &SourceSpec) -> Result<Mapped, Failed> {
    let tree = yaml::parse(text, &Limits::default());
    let file = spec.display.as_str();
    if let Some(err) = &tree.error {
        return Err(Failed::one(
            file,
            text,
            Span {
                start: err.pos,
                end: err.pos,
            },
            "policy-invalid",
            format!("not valid YAML: {}", err.message),
        ));
    }
    let roots: Vec<NodeId> = tree.documents.iter().filter_map(|d| d.root).collect();
    let mut attestors = kcc_attestors(&tree, &roots);
    // Attestors of the run's `--attestors` / `attestors:` file: after the file's own.
    let extra: Vec<Tree> = spec
        .attestor_files
        .iter()
        .map(|(_, t)| yaml::parse(t, &Limits::default()))
        .collect();
    for other in &extra {
        let other_roots: Vec<NodeId> = other.documents.iter().filter_map(|d| d.root).collect();
        for a in kcc_attestors(other, &other_roots) {
            if !attestors.iter().any(|own| own.object == a.object) {
                attestors.push(KccAttestor {
                    object: a.object,
                    full_name: a.full_name,
                    // Not defined here: `attestor_draft` must not read it from this tree.
                    root: NodeId::MAX,
                });
            }
        }
    }
    let policies: Vec<(String, NodeId)> = roots
        .iter()
        .filter(|r| kind_of(&tree, **r) == Some("BinaryAuthorizationPolicy"))
        .map(|r| (metadata_name(&tree, *r).unwrap_or("").to_string(), *r))
        .collect();
    let (address, root) = select(
        &policies,
        |p| p.0.as_str(),
        spec,
        "`BinaryAuthorizationPolicy`",
        text,
    )?
    .clone();
    let invalid = |span: Span, message: String| {
        Failed::one(
            file,
            text,
            span,
            "policy-invalid",
            format!("{message} (Config Connector refuses this resource)"),
        )
    };
    let Some(spec_node) = tree.get(root, "spec").filter(|s| tree.map(*s).is_some()) else {
        return Err(invalid(
            tree.span(root),
            "a `BinaryAuthorizationPolicy` needs a `spec` mapping".to_string(),
        ));
    };
    let Some((project, project_span)) = project_of(&tree, spec_node) else {
        return Err(invalid(
            tree.span(spec_node),
            "`spec.projectRef` (`external` or `name`) is required".to_string(),
        ));
    };
    let mut b = TreeBuilder::default();
    let mut entries = Vec::new();
    for (k, v) in tree.entries(spec_node) {
        let key = tree.scalar(k).unwrap_or("");
        if key == "projectRef" {
            let name_key = b.scalar("name", Style::Plain, tree.span(k));
            let value = b.scalar(
                format!("projects/{project}/policy"),
                Style::DoubleQuoted,
                project_span,
            );
            entries.push((name_key, value));
            continue;
        }
        let key_node = b.copy(&tree, k);
        let value = if key == "defaultAdmissionRule" {
            rule(&mut b, &tree, v, &project, &attestors)
        } else if RULE_MAPS.contains(&key) && tree.map(v).is_some() {
            let rules = tree
                .entries(v)
                .into_iter()
                .map(|(rk, rv)| {
                    (
                        b.copy(&tree, rk),
                        rule(&mut b, &tree, rv, &project, &attestors),
                    )
                })
                .collect();
            b.map(rules, tree.span(v))
        } else {
            b.copy(&tree, v)
        };
        entries.push((key_node, value));
    }
    let mapped_root = b.map(entries, tree.span(spec_node));
    let mut defs = AttestorDefinitions::default();
    for a in &attestors {
        if let Some(draft) = attestor_draft(&tree, a) {
            defs.push(file, draft);
        }
    }
    Ok(Mapped {
        tree: b.finish(mapped_root),
        file: file.to_string(),
        text: text.to_string(),
        address: Some(address),
        attestors: defs,
    })
}

/// A rule mapping with `requireAttestationsBy` references turned into attestor names.
fn rule(
    b: &mut TreeBuilder,
    tree: &Tree,
    node: NodeId,
    project: &str,
    attestors: &[KccAttestor],
) -> NodeId {
    if tree.map(node).is_none() {
        return b.copy(tree, node);
    }
    let mut fields = Vec::new();
    for (k, v) in tree.entries(node) {
        let key = b.copy(tree, k);
        let value = match (tree.scalar(k), tree.seq(v)) {
            (Some("requireAttestationsBy"), Some(items)) => {
                let names = items
                    .iter()
                    .map(|item| {
                        let span = tree.span(*item);
                        if let Some(external) =
                            tree.get(*item, "external").and_then(|e| tree.string(e))
                        {
                            return b.scalar(external, Style::DoubleQuoted, span);
                        }
                        if let Some(name) = tree.get(*item, "name").and_then(|e| tree.string(e)) {
                            let full = attestors
                                .iter()
                                .find(|a| a.object == name)
                                .and_then(|a| a.full_name.clone())
                                .unwrap_or_else(|| format!("projects/{project}/attestors/{name}"));
                            return b.scalar(full, Style::DoubleQuoted, span);
                        }
                        // Not a reference: the loader reports its type.
                        b.copy(tree, *item)
                    })
                    .collect();
                b.seq(names, tree.span(v))
            }
            _ => b.copy(tree, v),
        };
        fields.push((key, value));
    }
    b.map(fields, tree.span(node))
}

fn attestor_draft(tree: &Tree, a: &KccAttestor) -> Option<AttestorDraft> {
    if a.root == NodeId::MAX {
        return None;
    }
    let name = a.full_name.clone()?;
    let spec = tree.get(a.root, "spec")?;
    let note = tree.get(spec, "userOwnedDrydockNote")?;
    let note_ref = tree.get(note, "noteRef")?;
    let project = name.split('/').nth(1).unwrap_or("");
    let note_reference = match tree.get(note_ref, "external").and_then(|e| tree.string(e)) {
        Some(external) => external.to_string(),
        None => format!(
            "projects/{project}/notes/{}",
            tree.get(note_ref, "name").and_then(|n| tree.string(n))?
        ),
    };
    let text = |node: NodeId, key: &str| {
        tree.get(node, key)
            .and_then(|v| tree.string(v))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let keys = tree
        .get(note, "publicKeys")
        .and_then(|k| tree.seq(k))
        .unwrap_or(&[])
        .iter()
        .map(|key| {
            let span = tree.span(*key);
            DraftKey {
                line: span.start.line,
                column: span.start.column,
                id: text(*key, "id"),
                comment: text(*key, "comment"),
                pgp: text(*key, "asciiArmoredPgpPublicKey"),
                pkix: tree.get(*key, "pkixPublicKey").and_then(|p| {
                    Some((
                        text(p, "publicKeyPem")?,
                        text(p, "signatureAlgorithm").unwrap_or_default(),
                    ))
                }),
            }
        })
        .collect();
    let span = tree.span(a.root);
    Some(AttestorDraft {
        name,
        description: text(spec, "description"),
        note_reference,
        keys,
        line: span.start.line,
        column: span.start.column,
    })
}
