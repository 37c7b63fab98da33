//! Config Sync `RootSync` / `RepoSync` (contract §14): `spec.git.dir` of this repository is
//! synced by every cluster that runs the sync object. Which clusters those are is not in the
//! object: a fleet installs it on its members, so every cluster `clusters:` names with a
//! `configSync` name runs it, unless the object's own `configsync.gke.io/cluster-name-selector`
//! annotation narrows them. Objects below the folder carrying that annotation are evaluated
//! only for the clusters it names (the scan reads the annotation per object).

use super::coverage::{FileTree, Walk};
use super::{
    ClusterRef, DerivedContext, Descriptors, Mapper, NamespaceMode, Object, Settings,
    is_this_repository, str_at,
};
use crate::settings::config::normalize_folder;
use serde_json::Value;

/// The annotation that limits an object to some clusters (a comma-separated list of names).
pub const CLUSTER_NAME_SELECTOR: &str = "configsync.gke.io/cluster-name-selector";

const NAMESPACE: &str = "config-management-system";

/// The cluster names of a `cluster-name-selector` value.
pub fn selector_names(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

pub(super) fn derive(
    objects: &[Object<'_>],
    tree: &FileTree<'_>,
    settings: &Settings<'_>,
    mapper: &Mapper<'_>,
    out: &mut Descriptors,
) {
    for o in objects.iter().filter(|o| o.group() == "configsync.gke.io") {
        let kind = o.kind();
        if kind != "RootSync" && kind != "RepoSync" {
            continue;
        }
        let spec = o.value.get("spec");
        let source_type = spec
            .and_then(|s| s.get("sourceType"))
            .and_then(Value::as_str)
            .unwrap_or("git");
        if source_type != "git" {
            out.findings.push(super::external(
                o,
                &format!("its `{source_type}` source"),
                "spec.git",
            ));
            continue;
        }
        let repo = str_at(&o.value, &["spec", "git", "repo"]).unwrap_or("");
        if !is_this_repository(repo, settings.repository) {
            out.findings.push(super::external(
                o,
                &format!("its repository `{repo}`"),
                "spec.git",
            ));
            continue;
        }
        let dir = normalize_folder(str_at(&o.value, &["spec", "git", "dir"]).unwrap_or("/"));
        let covers = tree.deploys(&dir, Walk::Recursive);
        // RootSync reads `hierarchy` unless told `unstructured`; a RepoSync is unstructured.
        let hierarchy = (kind == "RootSync"
            && str_at(&o.value, &["spec", "sourceFormat"]) != Some("unstructured"))
        .then(|| dir.clone());
        let own_ns = o.namespace_or(NAMESPACE);
        // A RepoSync syncs into its own namespace only.
        let (namespace, mode) = if kind == "RepoSync" {
            (Some(own_ns.clone()), NamespaceMode::Override)
        } else {
            (None, NamespaceMode::Fill)
        };
        let selector = o
            .value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(CLUSTER_NAME_SELECTOR))
            .and_then(Value::as_str);
        let names: Vec<String> = match selector {
            Some(value) => selector_names(value)
                .into_iter()
                .map(str::to_string)
                .collect(),
            None => mapper
                .config_sync_names()
                .into_iter()
                .map(str::to_string)
                .collect(),
        };
        let identities: Vec<Option<String>> = if names.is_empty() {
            vec![None]
        } else {
            names.into_iter().map(Some).collect()
        };
        for identity in identities {
            let mapped = identity.as_deref().and_then(|n| mapper.config_sync(n));
            if mapped.is_none() {
                out.findings.push(super::unmapped(
                    o,
                    identity.as_deref(),
                    "a Config Sync cluster name; map it with `clusters.<alias>.configSync`",
                    "",
                ));
            }
            out.contexts.push(DerivedContext {
                name: String::new(),
                base_name: format!("{kind}/{own_ns}/{}", o.name()),
                source: o.source(),
                kind: kind.to_string(),
                cluster: ClusterRef {
                    identity: identity.clone(),
                    key: mapped.map(|c| c.key.clone()),
                },
                namespace: namespace.clone(),
                paths: vec![super::shown_path(&dir)],
                render: None,
                namespace_mode: mode,
                config_sync_cluster: identity,
                hierarchy: hierarchy.clone(),
                covers: covers.clone(),
            });
        }
    }
}
