//! Contexts from GitOps descriptors (contract §14): Argo CD `Application` /
//! `ApplicationSet`, Flux `Kustomization` / `HelmRelease`, Config Sync `RootSync` /
//! `RepoSync` found in the scanned tree are *read* (never fetched, never run) into derived
//! contexts: which paths deploy to which cluster identity and namespace, with which render
//! settings. `clusters:` maps identities to Binary Authorization cluster keys.
//!
//! Pure: the files (repository-relative paths and texts) come in, contexts and the
//! descriptor findings (`context-*`, `render-unresolved`) go out. The caller pairs files
//! with contexts through [`Descriptors::covering`].

mod argocd;
mod configsync;
mod coverage;
mod flux;
mod template;

use crate::report::{Finding, Location};
use crate::rules::Level;
use crate::settings::config::ClusterIdentities;
use crate::yaml::{self, Limits, NodeId, Span, Tree};
use serde::Serialize;
use serde_json::Value;

pub use configsync::{CLUSTER_NAME_SELECTOR, selector_names};
pub use coverage::Cover;

pub use crate::settings::config::Family;

/// One scanned file: its path from the repository root (`/` separators), its report path
/// and its text (`None` when it could not be read as text).
#[derive(Clone, Debug)]
pub struct RepoFile {
    pub rel: String,
    pub display: String,
    pub text: Option<String>,
}

/// What the derivation needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    pub families: &'a [Family],
    /// `repository:` URLs (empty: any repository is this one, for Argo CD and Config Sync).
    pub repository: &'a [String],
    pub clusters: &'a [ClusterIdentities],
}

/// `cluster` of a derived context: the identity the descriptor gives and the key it maps to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterRef {
    pub identity: Option<String>,
    pub key: Option<String>,
}

/// `source` of a derived context: the descriptor object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub file: String,
    pub line: u32,
}

/// How a context's namespace applies to the objects it deploys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceMode {
    /// Only objects that name none get it (Argo CD `destination.namespace`, Helm releases).
    Fill,
    /// Every object gets it (Flux `targetNamespace`, a `RepoSync`'s namespace).
    Override,
}

/// One context derived from a descriptor (JSON of `contexts --format json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DerivedContext {
    pub name: String,
    pub source: SourceRef,
    pub kind: String,
    pub cluster: ClusterRef,
    pub namespace: Option<String>,
    pub paths: Vec<String>,
    pub render: Option<Value>,
    #[serde(skip)]
    pub namespace_mode: NamespaceMode,
    /// The Config Sync cluster name, against which `cluster-name-selector` annotations are
    /// matched (Config Sync contexts only).
    #[serde(skip)]
    pub config_sync_cluster: Option<String>,
    /// A Config Sync root in hierarchy format: the folder whose `namespaces/<ns>/` files
    /// belong to namespace `<ns>`.
    #[serde(skip)]
    pub hierarchy: Option<String>,
    /// What the context deploys: its paths and what their kustomizations reach.
    #[serde(skip)]
    pub covers: Vec<Cover>,
    /// `<Kind>/<namespace>/<name>` before any `@identity` suffix.
    #[serde(skip)]
    pub base_name: String,
}

impl DerivedContext {
    /// `file:line` of the descriptor (JSON `workloads[].contextSource`).
    pub fn source_text(&self) -> String {
        format!("{}:{}", self.source.file, self.source.line)
    }

    pub fn covers_file(&self, rel: &str) -> bool {
        self.covers.iter().any(|c| c.matches(rel))
    }
}

/// Every derived context and the findings of the descriptors.
#[derive(Clone, Debug, Default)]
pub struct Descriptors {
    pub contexts: Vec<DerivedContext>,
    pub findings: Vec<Finding>,
}

impl Descriptors {
    /// The indices of the contexts that deploy a file (repository-relative path), in order.
    pub fn covering(&self, rel: &str) -> Vec<usize> {
        self.contexts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.covers_file(rel))
            .map(|(i, _)| i)
            .collect()
    }
}

/// One descriptor object as read: its JSON value and where it is.
pub(crate) struct Object<'f> {
    pub file: &'f RepoFile,
    pub document: u32,
    pub value: Value,
    pub span: Span,
    /// Spans of the fields findings point at, by dotted path (`spec.generators[0]`).
    pub spans: Vec<(String, Span)>,
}

impl Object<'_> {
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub fn group(&self) -> &str {
        let api = self
            .value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        api.split_once('/').map_or("", |(g, _)| g)
    }

    pub fn name(&self) -> &str {
        str_at(&self.value, &["metadata", "name"]).unwrap_or("")
    }

    /// The object's namespace, else `fallback` (where the tool installs its objects).
    pub fn namespace_or(&self, fallback: &str) -> String {
        str_at(&self.value, &["metadata", "namespace"])
            .filter(|s| !s.is_empty())
            .unwrap_or(fallback)
            .to_string()
    }

    pub fn source(&self) -> SourceRef {
        SourceRef {
            file: self.file.display.clone(),
            line: self.span.start.line.max(1),
        }
    }

    /// The span of a recorded field, else the object's.
    pub fn span_of(&self, path: &str) -> Span {
        self.spans
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, s)| *s)
            .unwrap_or(self.span)
    }

    /// A finding at a recorded field of this object (or at the object).
    pub fn finding(
        &self,
        rule_id: &'static str,
        level: Level,
        message: String,
        at: &str,
    ) -> Finding {
        let span = self.span_of(at);
        let end = if span.end.line == 0 {
            span.start
        } else {
            span.end
        };
        let mut f = Finding::new(
            rule_id,
            level,
            message,
            Location {
                file: self.file.display.clone(),
                line: span.start.line.max(1),
                column: span.start.column.max(1),
                document: self.document,
                end_line: end.line.max(span.start.line).max(1),
                end_column: end.column.max(1),
            },
        );
        f.snippet = self.file.text.as_deref().and_then(|t| {
            let t = t.strip_prefix('\u{FEFF}').unwrap_or(t);
            let line = t
                .split('\n')
                .nth(span.start.line.checked_sub(1)? as usize)?;
            Some(line.trim_end_matches('\r').chars().take(400).collect())
        });
        f
    }
}

/// A repository folder as `contexts` shows it: `.` for the root.
pub(crate) fn shown_path(folder: &str) -> String {
    if folder.is_empty() {
        ".".to_string()
    } else {
        folder.to_string()
    }
}

/// A string at a path of a JSON value.
pub(crate) fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    v.as_str()
}

/// Groups whose objects are descriptors.
const GROUPS: &[&str] = &["argoproj.io", "fluxcd.io", "configsync.gke.io"];

/// Whether the derivation needs a file's text: a descriptor (by the API groups it names) or
/// a kustomization (whose resources say what a folder deploys).
pub fn worth_reading(rel: &str, text: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) || GROUPS.iter().any(|g| text.contains(g))
}

/// Read every descriptor object of the files (a cheap text test first: most files are not).
fn read_objects(files: &[RepoFile]) -> Vec<Object<'_>> {
    let mut out = Vec::new();
    for file in files {
        let Some(text) = file.text.as_deref() else {
            continue;
        };
        if !GROUPS.iter().any(|g| text.contains(g)) {
            continue;
        }
        let tree = yaml::parse_manifest(text, &Limits::default());
        for document in &tree.documents {
            let Some(root) = document.root else {
                continue;
            };
            // A `List` of descriptors is read item by item.
            let items: Vec<NodeId> = match tree.get(root, "items").and_then(|i| tree.seq(i)) {
                Some(items)
                    if tree.get(root, "kind").and_then(|k| tree.string(k)) == Some("List") =>
                {
                    items.to_vec()
                }
                _ => vec![root],
            };
            for node in items {
                let Some(value) = yaml::to_json(&tree, node, 200_000) else {
                    continue;
                };
                let group = value
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .and_then(|a| a.split_once('/'))
                    .map_or("", |(g, _)| g);
                if !GROUPS.iter().any(|g| group.ends_with(g)) {
                    continue;
                }
                let spans = field_spans(&tree, node);
                out.push(Object {
                    file,
                    document: document.index,
                    value,
                    span: tree.span(node),
                    spans,
                });
            }
        }
    }
    out
}

/// The spans findings may point at: generators, sources, `substituteFrom`, chart refs,
/// destinations.
fn field_spans(tree: &Tree, node: NodeId) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    let key_span = |path: &[&str]| -> Option<Span> {
        let (last, parents) = path.split_last()?;
        let parent = tree.path(node, parents)?;
        tree.get_entry(parent, last).map(|(k, _)| tree.span(k))
    };
    for path in [
        &["spec", "destination"][..],
        &["spec", "source"],
        &["spec", "sources"],
        &["spec", "sourceRef"],
        &["spec", "postBuild", "substituteFrom"],
        &["spec", "chart"],
        &["spec", "chartRef"],
        &["spec", "git"],
        &["spec", "generators"],
    ] {
        if let Some(span) = key_span(path) {
            out.push((path.join("."), span));
        }
    }
    if let Some(generators) = tree
        .path(node, &["spec", "generators"])
        .and_then(|g| tree.seq(g))
    {
        for (i, g) in generators.iter().enumerate() {
            // The generator's own key (`list:`, `clusters:`), else the item.
            let span = tree
                .map(*g)
                .and_then(|m| m.first())
                .map(|(k, _)| tree.span(*k))
                .unwrap_or_else(|| tree.span(*g));
            out.push((format!("spec.generators[{i}]"), span));
        }
    }
    out
}

/// How an identity maps to a cluster key.
pub(crate) struct Mapper<'a> {
    clusters: &'a [ClusterIdentities],
}

impl<'a> Mapper<'a> {
    /// An Argo CD destination name or server: listed in `argocd:`, else (a name only) an
    /// alias of the same name.
    pub fn argocd(&self, identity: &str, is_name: bool) -> Option<&'a ClusterIdentities> {
        self.clusters
            .iter()
            .find(|c| c.argocd.iter().any(|a| a == identity))
            .or_else(|| {
                is_name
                    .then(|| self.clusters.iter().find(|c| c.alias == identity))
                    .flatten()
            })
    }

    /// The cluster whose Flux folder holds a file (the deepest such folder).
    pub fn flux_holder(&self, rel: &str) -> Option<(&'a ClusterIdentities, &'a str)> {
        let mut best: Option<(&ClusterIdentities, &str)> = None;
        for c in self.clusters {
            for folder in &c.flux {
                if coverage::is_below(rel, folder)
                    && best.is_none_or(|(_, f)| folder.len() > f.len())
                {
                    best = Some((c, folder.as_str()));
                }
            }
        }
        best
    }

    pub fn flux_folder(&self, folder: &str) -> Option<&'a ClusterIdentities> {
        self.clusters
            .iter()
            .find(|c| c.flux.iter().any(|f| f == folder))
    }

    /// A Config Sync cluster name: listed in `configSync:`, else an alias of that name.
    pub fn config_sync(&self, name: &str) -> Option<&'a ClusterIdentities> {
        self.clusters
            .iter()
            .find(|c| c.config_sync.iter().any(|n| n == name))
            .or_else(|| self.clusters.iter().find(|c| c.alias == name))
    }

    /// Every Config Sync cluster name `clusters:` lists, in order.
    pub fn config_sync_names(&self) -> Vec<&'a str> {
        self.clusters
            .iter()
            .flat_map(|c| c.config_sync.iter().map(String::as_str))
            .collect()
    }
}

/// Whether a repository URL is this repository (`repository:`; none given: any).
pub(crate) fn is_this_repository(url: &str, repository: &[String]) -> bool {
    repository.is_empty() || repository.iter().any(|r| same_url(r, url))
}

/// Two Git URLs name the same repository: scheme, user, `.git` and a trailing `/` aside,
/// and the scp form `git@host:org/repo` equal to `https://host/org/repo`.
pub fn same_url(a: &str, b: &str) -> bool {
    normalize_url(a) == normalize_url(b)
}

fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let (rest, scp) = match url.split_once("://") {
        Some((_, rest)) => (rest, false),
        None => (url, true),
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = if scp {
        // `host:org/repo` (scp-like): the first `:` before any `/` separates the path.
        match rest.split_once(':') {
            Some((host, path)) if !host.contains('/') => format!("{host}/{path}"),
            _ => rest.to_string(),
        }
    } else {
        rest.to_string()
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    rest.to_ascii_lowercase()
}

/// Derive every context of the descriptors in `files`.
pub fn derive(files: &[RepoFile], settings: &Settings<'_>) -> Descriptors {
    let mut out = Descriptors::default();
    if settings.families.is_empty() {
        return out;
    }
    let objects = read_objects(files);
    let tree = coverage::FileTree::new(files);
    let mapper = Mapper {
        clusters: settings.clusters,
    };
    if settings.families.contains(&Family::Argocd) {
        argocd::derive(&objects, &tree, settings, &mapper, &mut out);
    }
    if settings.families.contains(&Family::Flux) {
        flux::derive(&objects, &tree, settings, &mapper, &mut out);
    }
    if settings.families.contains(&Family::ConfigSync) {
        configsync::derive(&objects, &tree, settings, &mapper, &mut out);
    }
    name_contexts(&mut out.contexts);
    out.findings
        .sort_by(|a, b| a.location.sort_key().cmp(&b.location.sort_key()));
    out.findings.dedup_by(|a, b| {
        a.location == b.location && a.rule_id == b.rule_id && a.message == b.message
    });
    out
}

/// `<Kind>/<namespace>/<name>`, with `@<cluster identity>` when two contexts share it.
fn name_contexts(contexts: &mut [DerivedContext]) {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for c in contexts.iter() {
        *counts.entry(c.base_name.clone()).or_default() += 1;
    }
    for c in contexts.iter_mut() {
        c.name = if counts.get(&c.base_name).copied().unwrap_or(0) > 1 {
            format!(
                "{}@{}",
                c.base_name,
                c.cluster.identity.as_deref().unwrap_or("unknown")
            )
        } else {
            c.base_name.clone()
        };
    }
}

/// The `context-cluster-unmapped` warning of a context evaluated without a cluster key.
pub(crate) fn unmapped(
    object: &Object<'_>,
    identity: Option<&str>,
    how: &str,
    at: &str,
) -> Finding {
    let message = match identity {
        Some(identity) => format!(
            "{} `{}` deploys to cluster `{identity}` ({how}), which no `clusters:` entry maps to a Binary Authorization cluster key: its workloads are evaluated without a cluster key (the policy's default rule), so a clusterAdmissionRules entry for that cluster never applies",
            object.kind(),
            object.name()
        ),
        None => format!(
            "{} `{}` names no cluster binauthz-lint can map ({how}): its workloads are evaluated without a cluster key (the policy's default rule)",
            object.kind(),
            object.name()
        ),
    };
    object.finding("context-cluster-unmapped", Level::Warning, message, at)
}

/// The `context-external-source` note of a source outside this repository.
pub(crate) fn external(object: &Object<'_>, what: &str, at: &str) -> Finding {
    object.finding(
        "context-external-source",
        Level::Note,
        format!(
            "{} `{}`: {what} is outside this repository, so what it deploys is not scanned (binauthz-lint never fetches it); scan that source separately",
            object.kind(),
            object.name()
        ),
        at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_scheme_user_and_suffix() {
        assert!(same_url(
            "https://github.com/acme/deploy.git",
            "git@github.com:acme/deploy"
        ));
        assert!(same_url(
            "ssh://git@github.com/Acme/Deploy/",
            "https://github.com/acme/deploy"
        ));
        assert!(!same_url(
            "https://github.com/acme/deploy",
            "https://github.com/acme/other"
        ));
    }
}
