//! What a raw scan of a Kustomization root cannot see, and what kustomize would fetch.
//!
//! Two guarantees of a gate live here (issue 27): a root of which nothing was evaluated,
//! although it builds workloads the raw files do not show (a remote base, patches, image
//! rewrites, Helm charts), ends with a warning rather than a quiet pass; and a remote
//! entry is never handed to kustomize — which would clone or download it wherever the runner
//! has network — unless the command line says `--render-remote`.

use crate::report::{Finding, WorkloadReport};
use crate::rules::Level;
use crate::yaml::{NodeId, Tree};
use std::collections::BTreeSet;

/// Hosts kustomize accepts without a scheme (`github.com/org/repo//path?ref=v1`).
const SCHEMELESS_HOSTS: [&str; 4] = [
    "github.com/",
    "gitlab.com/",
    "bitbucket.org/",
    "dev.azure.com/",
];

/// True when kustomize would fetch `entry` rather than read a local file: a URL (`https://`,
/// `ssh://`, `git::`, `file://` repositories), an scp-like `git@host:org/repo`, or a
/// repository on a host kustomize knows without a scheme.
pub fn is_remote(entry: &str) -> bool {
    let entry = entry.trim();
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || entry.starts_with("gh:")
        || SCHEMELESS_HOSTS.iter().any(|host| entry.starts_with(host))
}

/// `host.tld/org/repo…`: what kustomize tries as a repository when no such local path
/// exists (the caller checks that it does not).
pub fn looks_like_host_path(entry: &str) -> bool {
    let mut parts = entry.trim().split('/');
    let first = parts.next().unwrap_or("");
    first.contains('.') && first != "." && first != ".." && parts.next().is_some()
}

/// Every path-like value of a kustomization that kustomize loads: resources, bases,
/// components, patch files, generator sources, CRDs, transformer/generator/validator
/// configurations and the OpenAPI schema. Any of them can be a URL.
pub fn referenced_paths(tree: &Tree, root: NodeId) -> Vec<String> {
    let scalars = |node: Option<NodeId>| -> Vec<String> {
        node.and_then(|n| tree.seq(n))
            .unwrap_or_default()
            .iter()
            .filter_map(|item| tree.scalar(*item).map(str::to_string))
            .collect()
    };
    let items = |key: &str| -> Vec<NodeId> {
        tree.get(root, key)
            .and_then(|n| tree.seq(n))
            .map(<[NodeId]>::to_vec)
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "transformers",
        "generators",
        "validators",
        "configurations",
    ] {
        out.extend(scalars(tree.get(root, key)));
    }
    // Inline patches are multi-line strings; file entries are one line.
    out.extend(
        scalars(tree.get(root, "patchesStrategicMerge"))
            .into_iter()
            .filter(|p| !p.contains('\n')),
    );
    for key in ["patches", "patchesJson6902"] {
        for item in items(key) {
            if let Some(path) = tree.get(item, "path").and_then(|n| tree.scalar(n)) {
                out.push(path.to_string());
            }
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in items(key) {
            for field in ["files", "envs"] {
                // `files` entries may be `key=path`.
                out.extend(scalars(tree.get(item, field)).into_iter().map(|f| {
                    f.split_once('=')
                        .map_or(f.clone(), |(_, path)| path.to_string())
                }));
            }
            if let Some(env) = tree.get(item, "env").and_then(|n| tree.scalar(n)) {
                out.push(env.to_string());
            }
        }
    }
    if let Some(path) = tree
        .path(root, &["openapi", "path"])
        .and_then(|n| tree.scalar(n))
    {
        out.push(path.to_string());
    }
    out
}

/// A Kustomization root that was not rendered (no `--render kustomize`, or its rendering
/// failed or was refused), with what its raw files cannot show.
#[derive(Clone, Debug, Default)]
pub struct RawRoot {
    /// The root's kustomization file and folder, as reported.
    pub display: String,
    pub folder: String,
    /// The report paths of the files it consumes (resources, patches, kustomizations).
    pub files: BTreeSet<String>,
    /// Remote entries of the root and of everything it consumes, as written.
    pub remote: Vec<String>,
    /// What else changes its workloads out of the raw scan's sight (`patches`, `images`,
    /// `components`, `helmCharts`), in message order.
    pub unseen: Vec<&'static str>,
    /// Its `kustomize-not-rendered` note among the prepared findings, when it has one.
    pub note: Option<usize>,
}

impl RawRoot {
    /// True when the raw files cannot show what the root builds.
    fn is_opaque(&self) -> bool {
        !self.remote.is_empty() || !self.unseen.is_empty()
    }

    fn evaluated_any(&self, workloads: &[WorkloadReport]) -> bool {
        workloads
            .iter()
            .any(|w| self.files.contains(&w.location.file))
    }

    fn message(&self) -> String {
        let mut what: Vec<String> = Vec::new();
        match self.remote.as_slice() {
            [] => {}
            [one] => what.push(format!("builds from the remote resource `{one}`")),
            [first, rest @ ..] => what.push(format!(
                "builds from the remote resource `{first}` (and {} more)",
                rest.len()
            )),
        }
        if !self.unseen.is_empty() {
            let names: Vec<String> = self.unseen.iter().map(|t| format!("`{t}`")).collect();
            what.push(format!("its {} change what it builds", names.join(", ")));
        }
        let remote_hint = if self.remote.is_empty() {
            ""
        } else {
            " (a remote resource is fetched only with `--render-remote` on the command line)"
        };
        format!(
            "kustomization root `{}` was scanned raw and none of its workloads was evaluated: it {}, which the raw files do not show, so the images the cluster receives from it were not checked; run with `--render kustomize`{remote_hint}",
            self.folder,
            what.join(" and ")
        )
    }
}

/// Raise each opaque root of which no workload was evaluated to a warning: its
/// `kustomize-not-rendered` note becomes one, or (a root whose rendering failed) a warning
/// is added. `findings` are the prepared kustomization findings; `workloads` the scan's.
pub fn warn_unseen_roots(
    roots: &[RawRoot],
    workloads: &[WorkloadReport],
    findings: &mut Vec<Finding>,
) {
    for root in roots {
        if !root.is_opaque() || root.evaluated_any(workloads) {
            continue;
        }
        let message = root.message();
        match root.note.and_then(|i| findings.get_mut(i)) {
            Some(note) => {
                note.level = Level::Warning;
                note.message = message;
            }
            None => {
                let mut f = Finding::new(
                    "kustomize-not-rendered",
                    Level::Warning,
                    message,
                    crate::report::Location::file_start(&root.display),
                );
                f.snippet = findings
                    .iter()
                    .find(|f| f.location.file == root.display)
                    .and_then(|f| f.snippet.clone());
                findings.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_entries_are_told_from_local_paths() {
        for remote in [
            "https://github.com/kubeflow/manifests//apps/base?ref=v1.9.0",
            "github.com/kubeflow/manifests/apps/base?ref=v1.9.0",
            "git@github.com:acme/app.git//deploy",
            "ssh://git@example.com/acme/app.git",
            "git::https://example.com/acme/app",
            "https://raw.githubusercontent.com/acme/app/main/deploy.yaml",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in ["../base", "deploy.yaml", "./github.com.yaml", "base/github"] {
            assert!(!is_remote(local), "{local}");
        }
        assert!(looks_like_host_path("example.com/acme/app//deploy"));
        assert!(!looks_like_host_path("deploy.yaml"));
        assert!(!looks_like_host_path("../base"));
    }
}
