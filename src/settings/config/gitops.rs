//! The GitOps keys of `.binauthz-lint.yaml` (contract §14): `discover:`, `repository:` and
//! the object form of `clusters:` entries. Kept apart from the v1.1 loader so that the keys
//! each wave adds stay easy to read (and to merge); the strictness is the loader's own.

use super::{Loader, resolve_cluster_key};
use crate::yaml::{NodeId, Span};

/// What `discover:`, `repository:` and the object form of `clusters:` say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitopsSettings {
    /// `discover:` (empty: descriptors are not read; the v1.1 behaviour).
    pub discover: Vec<Family>,
    /// `repository:`: the URLs of this repository as descriptors write them (empty: any).
    pub repository: Vec<String>,
    /// Every `clusters:` entry, each with the descriptor identities that map to it.
    pub clusters: Vec<ClusterIdentities>,
}

/// One `clusters:` entry: an alias, its Binary Authorization cluster key, and the names the
/// GitOps tools give that cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterIdentities {
    pub alias: String,
    pub key: String,
    /// Argo CD destination names and server URLs.
    pub argocd: Vec<String>,
    /// Folders (relative to the config's folder, `/` separators, no `./`, no trailing `/`)
    /// that Flux on this cluster syncs: its bootstrap path.
    pub flux: Vec<String>,
    /// Config Sync cluster names (fleet membership names).
    pub config_sync: Vec<String>,
    pub span: Span,
}

pub(super) const CLUSTER_KEYS: &[&str] = &["key", "argocd", "flux", "configSync"];

impl Loader<'_> {
    /// `discover: [argocd, flux, configsync]`.
    pub(super) fn discover(&mut self, node: NodeId) -> Vec<Family> {
        let mut out: Vec<Family> = Vec::new();
        for (name, span) in self.strings(node, "discover") {
            match Family::parse(&name) {
                Some(family) => {
                    if !out.contains(&family) {
                        out.push(family);
                    }
                }
                None => {
                    let help = crate::policy::suggest(&name, Family::NAMES.iter().copied());
                    let d = self.error(
                        span,
                        format!(
                            "`discover`: unknown descriptor family `{name}` (known: {})",
                            Family::NAMES.join(", ")
                        ),
                        "unknown family",
                    );
                    d.help = help.map(|s| format!("did you mean `{s}`?"));
                }
            }
        }
        out.sort();
        out
    }

    /// `repository:` a URL or a list of URLs.
    pub(super) fn repository(&mut self, node: NodeId) -> Vec<String> {
        if self.tree.seq(node).is_some() {
            return self
                .strings(node, "repository")
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        }
        self.non_empty_string(node, "repository")
            .into_iter()
            .collect()
    }

    /// A string or a list of strings (`argocd`, `flux`, `configSync`).
    fn one_or_many(&mut self, node: NodeId, key: &str) -> Vec<String> {
        if self.tree.seq(node).is_some() {
            return self
                .strings(node, key)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
        }
        match self.tree.string(node) {
            Some(_) => self.non_empty_string(node, key).into_iter().collect(),
            None => {
                self.wrong_type(node, key, "a string or a list of strings");
                Vec::new()
            }
        }
    }

    /// The object form of a `clusters:` entry: `{key, argocd, flux, configSync}`.
    pub(super) fn cluster_object(
        &mut self,
        alias: &str,
        node: NodeId,
        span: Span,
    ) -> Option<ClusterIdentities> {
        let mut out = ClusterIdentities {
            alias: alias.to_string(),
            key: String::new(),
            argocd: Vec::new(),
            flux: Vec::new(),
            config_sync: Vec::new(),
            span,
        };
        let what = format!("cluster `{alias}`");
        let mut has_key = false;
        for (key, _, value) in self.entries(node, CLUSTER_KEYS, &what) {
            let label = format!("clusters.{alias}.{key}");
            match key {
                "key" => {
                    has_key = true;
                    let text = self.non_empty_string(value, &label)?;
                    out.key = resolve_cluster_key(self, &text, self.tree.span(value))?;
                }
                "argocd" => out.argocd = self.one_or_many(value, &label),
                "flux" => {
                    out.flux = self
                        .one_or_many(value, &label)
                        .iter()
                        .map(|f| normalize_folder(f))
                        .collect()
                }
                "configSync" => out.config_sync = self.one_or_many(value, &label),
                _ => {}
            }
        }
        if !has_key {
            let d = self.error(
                span,
                format!("cluster `{alias}` needs a `key` (its Binary Authorization cluster key `LOCATION.NAME`)"),
                "no key",
            );
            d.help = Some("for example `key: us-central1.prod`".to_string());
            return None;
        }
        Some(out)
    }
}

/// A folder as written (`./clusters/prod/`) in the form paths are compared by
/// (`clusters/prod`; `` for the root).
pub fn normalize_folder(folder: &str) -> String {
    let parts: Vec<&str> = folder
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// A family of descriptors `discover:` turns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Argocd,
    ConfigSync,
    Flux,
}

impl Family {
    /// The names `discover:` and `--discover` accept.
    pub const NAMES: &'static [&'static str] = &["argocd", "configsync", "flux"];

    pub fn parse(name: &str) -> Option<Family> {
        match name {
            "argocd" => Some(Family::Argocd),
            "configsync" => Some(Family::ConfigSync),
            "flux" => Some(Family::Flux),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Argocd => "argocd",
            Family::ConfigSync => "configsync",
            Family::Flux => "flux",
        }
    }
}
