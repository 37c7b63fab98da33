//! Flux `Kustomization` and `HelmRelease` (contract §14). A Kustomization deploys
//! `spec.path` of its source when that source is this repository (the `flux-system`
//! GitRepository, or one whose URL is in `repository:`), `targetNamespace` overriding every
//! object's namespace. Its cluster is the one whose Flux folder (`clusters.<id>.flux`)
//! holds the Kustomization's file; a Kustomization (or HelmRelease) that another
//! Kustomization deploys belongs to that one's clusters (nested Kustomizations, a base
//! shared by several clusters). A HelmRelease deploys a chart folder of this repository.

use super::coverage::{FileTree, Walk, parent};
use super::{
    ClusterRef, Cover, DerivedContext, Descriptors, Mapper, NamespaceMode, Object, Settings,
    same_url, str_at,
};
use crate::rules::Level;
use crate::settings::config::normalize_folder;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Where Flux keeps its objects when the file names no namespace.
const NAMESPACE: &str = "flux-system";

/// A Kustomization or HelmRelease of this repository's sources.
struct Item<'r, 'o> {
    object: &'r Object<'o>,
    /// Kustomizations only: what it deploys.
    covers: Vec<Cover>,
    path: String,
    namespace: Option<String>,
    mode: NamespaceMode,
    render: Option<Value>,
    identities: BTreeSet<String>,
    /// Held by a mapped Flux folder (its identity is final).
    held: bool,
}

pub(super) fn derive(
    objects: &[Object<'_>],
    tree: &FileTree<'_>,
    settings: &Settings<'_>,
    mapper: &Mapper<'_>,
    out: &mut Descriptors,
) {
    let flux: Vec<&Object<'_>> = objects
        .iter()
        .filter(|o| o.group().ends_with("fluxcd.io"))
        .collect();
    let repos: Vec<(String, String, String)> = flux
        .iter()
        .filter(|o| o.kind() == "GitRepository")
        .map(|o| {
            (
                o.name().to_string(),
                o.namespace_or(NAMESPACE),
                str_at(&o.value, &["spec", "url"]).unwrap_or("").to_string(),
            )
        })
        .collect();
    // `Err` holds what the source is, for the note.
    let this_repository = |source: Option<&Value>, own_ns: &str| -> Result<(), String> {
        let kind = source
            .and_then(|s| s.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or("GitRepository");
        let name = source
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let ns = source
            .and_then(|s| s.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or(own_ns);
        if kind != "GitRepository" {
            return Err(format!("its source {kind} `{name}`"));
        }
        if name == "flux-system" {
            return Ok(());
        }
        let url = repos
            .iter()
            .find(|(n, rns, _)| n == name && rns == ns)
            .map(|(_, _, url)| url.as_str());
        match url {
            Some(url) if settings.repository.iter().any(|r| same_url(r, url)) => Ok(()),
            Some(url) => Err(format!(
                "its source GitRepository `{name}` ({url}{})",
                if settings.repository.is_empty() {
                    "; set `repository:` in the config when this is the scanned repository"
                } else {
                    ", not a `repository:` URL"
                }
            )),
            None => Err(format!(
                "its source GitRepository `{name}`, which is not defined in the scanned files"
            )),
        }
    };
    let mut items: Vec<Item<'_, '_>> = Vec::new();
    for o in &flux {
        let own_ns = o.namespace_or(NAMESPACE);
        match (o.group(), o.kind()) {
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => {
                // Without a source it is a patch of a Kustomization, not one (Flux requires it).
                if o.value.pointer("/spec/sourceRef").is_none() {
                    continue;
                }
                if let Err(what) = this_repository(o.value.pointer("/spec/sourceRef"), &own_ns) {
                    out.findings
                        .push(super::external(o, &what, "spec.sourceRef"));
                    continue;
                }
                let spec = o.value.get("spec");
                let path = normalize_folder(
                    spec.and_then(|s| s.get("path"))
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                let post_build = spec.and_then(|s| s.get("postBuild"));
                if post_build.and_then(|p| p.get("substituteFrom")).is_some() {
                    out.findings.push(o.finding(
                        "render-unresolved",
                        Level::Note,
                        format!(
                            "Kustomization `{}` takes variables from ConfigMaps or Secrets in the cluster (postBuild.substituteFrom): binauthz-lint cannot read them, so `${{VAR}}` references they would fill stay unresolved (only the inline `substitute` values are known)",
                            o.name()
                        ),
                        "spec.postBuild.substituteFrom",
                    ));
                }
                let mut render = Map::new();
                if let Some(substitute) = post_build.and_then(|p| p.get("substitute")) {
                    render.insert(
                        "postBuild".into(),
                        serde_json::json!({ "substitute": substitute }),
                    );
                }
                for key in ["images", "namePrefix", "nameSuffix"] {
                    if let Some(v) = spec.and_then(|s| s.get(key)) {
                        render.insert(key.into(), v.clone());
                    }
                }
                let target = spec
                    .and_then(|s| s.get("targetNamespace"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                items.push(Item {
                    object: o,
                    covers: tree.deploys(&path, Walk::Recursive),
                    path,
                    namespace: target.map(str::to_string),
                    mode: NamespaceMode::Override,
                    render: (!render.is_empty()).then_some(Value::Object(render)),
                    identities: BTreeSet::new(),
                    held: false,
                });
            }
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                let spec = o.value.get("spec");
                if let Some(chart_ref) = spec.and_then(|s| s.get("chartRef")) {
                    let kind = chart_ref.get("kind").and_then(Value::as_str).unwrap_or("?");
                    let name = chart_ref.get("name").and_then(Value::as_str).unwrap_or("?");
                    out.findings.push(super::external(
                        o,
                        &format!("its chart ({kind} `{name}`)"),
                        "spec.chartRef",
                    ));
                    continue;
                }
                let chart_spec = spec.and_then(|s| s.pointer("/chart/spec"));
                let chart = chart_spec
                    .and_then(|c| c.get("chart"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let source = chart_spec.and_then(|c| c.get("sourceRef"));
                // Without a chart source it is a patch of a HelmRelease (an overlay's values).
                if source.is_none() {
                    continue;
                }
                if let Err(what) = this_repository(source, &own_ns) {
                    out.findings.push(super::external(
                        o,
                        &format!(
                            "chart `{chart}` from {}",
                            what.trim_start_matches("its source ")
                        ),
                        "spec.chart",
                    ));
                    continue;
                }
                let folder = normalize_folder(chart);
                let mut helm = Map::new();
                helm.insert("chart".into(), Value::from(folder.clone()));
                for key in ["values", "valuesFiles"] {
                    let v = if key == "valuesFiles" {
                        chart_spec.and_then(|c| c.get(key))
                    } else {
                        spec.and_then(|s| s.get(key))
                    };
                    if let Some(v) = v {
                        helm.insert(key.into(), v.clone());
                    }
                }
                if let Some(v) = spec.and_then(|s| s.get("releaseName")) {
                    helm.insert("releaseName".into(), v.clone());
                }
                let target = spec
                    .and_then(|s| s.get("targetNamespace"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| own_ns.clone());
                items.push(Item {
                    object: o,
                    covers: Vec::new(),
                    path: folder.clone(),
                    namespace: Some(target),
                    mode: NamespaceMode::Fill,
                    render: Some(serde_json::json!({ "helm": helm })),
                    identities: BTreeSet::new(),
                    held: false,
                });
                // The chart's files are what the release deploys (rendered with --render).
                if let Some(last) = items.last_mut() {
                    last.covers = tree.deploys(&folder, Walk::Recursive);
                }
            }
            _ => {}
        }
    }
    assign_clusters(&mut items, mapper);
    for item in &items {
        let o = item.object;
        for identity in &item.identities {
            let mapped = mapper.flux_folder(identity);
            if mapped.is_none() {
                out.findings.push(super::unmapped(
                    o,
                    Some(identity),
                    "the Flux folder that holds it; map it with `clusters.<alias>.flux`",
                    "",
                ));
            }
            out.contexts.push(DerivedContext {
                name: String::new(),
                base_name: format!("{}/{}/{}", o.kind(), o.namespace_or(NAMESPACE), o.name()),
                source: o.source(),
                kind: o.kind().to_string(),
                cluster: ClusterRef {
                    identity: Some(identity.clone()),
                    key: mapped.map(|c| c.key.clone()),
                },
                namespace: item.namespace.clone(),
                paths: vec![super::shown_path(&item.path)],
                render: item.render.clone(),
                namespace_mode: if item.namespace.is_some() {
                    item.mode
                } else {
                    NamespaceMode::Fill
                },
                config_sync_cluster: None,
                hierarchy: None,
                covers: item.covers.clone(),
            });
        }
    }
}

/// Each item's clusters: the mapped Flux folder that holds its file; else the clusters of the
/// Kustomizations that deploy its file; else (a root nobody maps) the folder Flux bootstraps
/// from: the `flux-system` Kustomization's own path, or the item's folder.
fn assign_clusters(items: &mut [Item<'_, '_>], mapper: &Mapper<'_>) {
    for item in items.iter_mut() {
        if let Some((_, folder)) = mapper.flux_holder(&item.object.file.rel) {
            item.identities.insert(folder.to_string());
            item.held = true;
        }
    }
    let deployed_by = |items: &[Item<'_, '_>], i: usize| -> Vec<usize> {
        let rel = &items[i].object.file.rel;
        items
            .iter()
            .enumerate()
            .filter(|(j, k)| {
                *j != i
                    && k.object.kind() == "Kustomization"
                    && k.covers.iter().any(|c| c.matches(rel))
            })
            .map(|(j, _)| j)
            .collect()
    };
    let parents: Vec<Vec<usize>> = (0..items.len()).map(|i| deployed_by(items, i)).collect();
    let fallback = |item: &Item<'_, '_>| -> String {
        if item.object.name() == "flux-system" && item.object.kind() == "Kustomization" {
            item.path.clone()
        } else {
            parent(&item.object.file.rel).to_string()
        }
    };
    for (i, item) in items.iter_mut().enumerate() {
        if !item.held && parents[i].is_empty() {
            item.identities.insert(fallback(item));
        }
    }
    propagate(items, &parents);
    for item in items.iter_mut() {
        if item.identities.is_empty() {
            item.identities.insert(fallback(item));
        }
    }
    propagate(items, &parents);
}

/// Inherit the clusters of the deploying Kustomizations until nothing changes.
fn propagate(items: &mut [Item<'_, '_>], parents: &[Vec<usize>]) {
    for _ in 0..=items.len() {
        let mut changed = false;
        for i in 0..items.len() {
            if items[i].held {
                continue;
            }
            let inherited: BTreeSet<String> = parents[i]
                .iter()
                .flat_map(|&j| items[j].identities.iter().cloned())
                .collect();
            let before = items[i].identities.len();
            items[i].identities.extend(inherited);
            changed |= items[i].identities.len() != before;
        }
        if !changed {
            break;
        }
    }
}
