//! Per-path evaluation settings (contract §5): which namespace, cluster and policy each
//! scanned file's workloads are evaluated with. Without a config file there is one scope;
//! with one, scope 0 is the config's top level and scope `i + 1` is context `i`. Contexts
//! derived from GitOps descriptors (contract §14) come after the config's; a file they
//! cover falls in each of them (fan-out), unless a config context matches it first.

use crate::policy::Policy;
use crate::policy::platform::PlatformPolicy;
use crate::report::Finding;
use crate::report::{ScopeInfo, WorkloadReport};
use crate::settings::ScanSettings;
use crate::settings::config::Config;
use crate::settings::descriptors::{Descriptors, NamespaceMode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The settings one group of files is evaluated with.
#[derive(Clone, Debug)]
pub struct Scope<'p> {
    pub settings: ScanSettings,
    pub policy: &'p Policy,
    /// Index of the policy among the run's distinct policies (each loaded once).
    pub policy_index: usize,
    /// The context's name; `None` for the top level.
    pub context: Option<String>,
    /// The policy's report source (`policy.source` form).
    pub policy_display: String,
    /// The platform policies of the scope (contract §15); empty without any.
    pub platform: Vec<&'p PlatformPolicy>,
    /// Set for a context derived from a GitOps descriptor.
    pub descriptor: Option<DescriptorScope>,
}

/// What a descriptor context adds to a scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescriptorScope {
    /// The descriptor's `file:line` (JSON `workloads[].contextSource`).
    pub source: String,
    /// Flux `targetNamespace`, a RepoSync's namespace: every object's namespace.
    pub namespace_override: Option<String>,
    /// Config Sync: the cluster name `cluster-name-selector` annotations are matched against.
    pub config_sync_cluster: Option<String>,
    /// Config Sync hierarchy format: the root folder (repository-relative) whose
    /// `namespaces/…/<ns>/` folders give their files' objects namespace `<ns>`.
    pub hierarchy: Option<String>,
}

impl DescriptorScope {
    /// The scope part of a derived context (its namespace, when it fills only objects that
    /// name none, is the scope's default namespace instead).
    pub fn of(context: &crate::settings::descriptors::DerivedContext) -> DescriptorScope {
        DescriptorScope {
            source: context.source_text(),
            namespace_override: match context.namespace_mode {
                NamespaceMode::Override => context.namespace.clone(),
                NamespaceMode::Fill => None,
            },
            config_sync_cluster: context.config_sync_cluster.clone(),
            hierarchy: context.hierarchy.clone(),
        }
    }
}

/// The descriptor contexts of a run: scope `first + i` is derived context `i`; paths are
/// matched relative to `root` (the repository root).
#[derive(Clone, Debug)]
pub struct Derived {
    pub root: PathBuf,
    pub descriptors: Arc<Descriptors>,
    pub first: usize,
}

/// Every scope of a run, and how a file picks its scope.
#[derive(Clone, Debug)]
pub struct Scopes<'p, 'c> {
    pub list: Vec<Scope<'p>>,
    pub config: Option<&'c Config>,
    /// Anchors relative candidate paths.
    pub cwd: PathBuf,
    /// Contexts from GitOps descriptors (`discover:`), when any.
    pub derived: Option<Derived>,
}

impl<'p, 'c> Scopes<'p, 'c> {
    /// One scope for every file (no config file).
    pub fn single(settings: ScanSettings, policy: &'p Policy) -> Scopes<'p, 'c> {
        Scopes {
            list: vec![Scope {
                settings,
                policy,
                policy_index: 0,
                context: None,
                policy_display: policy.source().to_string(),
                platform: Vec::new(),
                descriptor: None,
            }],
            config: None,
            cwd: PathBuf::new(),
            derived: None,
        }
    }

    /// The top-level scope (also used for standard input).
    pub fn top(&self) -> &Scope<'p> {
        // `list` is never empty: every constructor puts the top level first.
        &self.list[0]
    }

    /// Every scope a file is evaluated in: the first matching config context; else each
    /// descriptor context that deploys it (fan-out); else the top level.
    pub fn indices_for(&self, path: Option<&Path>) -> Vec<usize> {
        let Some(path) = path else {
            return vec![0];
        };
        // Without a config file or descriptor contexts every file is in the top scope: no
        // path work at all (most scans).
        if self.config.is_none() && self.derived.is_none() {
            return vec![0];
        }
        let abs = crate::report::paths::normalize(&self.cwd.join(path));
        if let Some(i) = self
            .config
            .and_then(|config| config.context_of(&abs))
            .map(|i| i + 1)
            .filter(|&i| i < self.list.len())
        {
            return vec![i];
        }
        let covering: Vec<usize> = self
            .derived
            .as_ref()
            .and_then(|d| {
                let rel = crate::settings::config::relative_path(&abs, &d.root)?;
                Some(
                    d.descriptors
                        .covering(&rel)
                        .into_iter()
                        .map(|i| d.first + i)
                        .filter(|&i| i < self.list.len())
                        .collect(),
                )
            })
            .unwrap_or_default();
        if covering.is_empty() {
            vec![0]
        } else {
            covering
        }
    }

    /// Config Sync hierarchy format: the namespace a file's folder gives its objects in
    /// scope `index` (`<root>/namespaces/…/<ns>/file`), if any.
    pub fn hierarchy_namespace(&self, index: usize, path: Option<&Path>) -> Option<String> {
        let root = self.get(index).descriptor.as_ref()?.hierarchy.as_deref()?;
        let derived = self.derived.as_ref()?;
        let abs = crate::report::paths::normalize(&self.cwd.join(path?));
        let rel = crate::settings::config::relative_path(&abs, &derived.root)?;
        let below = if root.is_empty() {
            rel.as_str()
        } else {
            rel.strip_prefix(root)?.strip_prefix('/')?
        };
        let (folder, _file) = below.strip_prefix("namespaces/")?.rsplit_once('/')?;
        folder.rsplit('/').next().map(str::to_string)
    }

    pub fn get(&self, index: usize) -> &Scope<'p> {
        self.list.get(index).unwrap_or_else(|| self.top())
    }

    /// Record the scope on every workload and finding of one file's result.
    pub fn stamp(&self, index: usize, workloads: &mut [WorkloadReport], findings: &mut [Finding]) {
        let scope = self.get(index);
        for w in workloads {
            stamp_workload(w, index, scope, self.config.is_some());
        }
        for f in findings {
            if let Some(w) = &mut f.workload {
                w.context.clone_from(&scope.context);
                if scope.descriptor.is_some() {
                    w.descriptor_context.clone_from(&scope.context);
                }
            }
        }
    }
}

fn stamp_workload(w: &mut WorkloadReport, index: usize, scope: &Scope<'_>, with_config: bool) {
    w.scope_index = index;
    // Cloud Run has no cluster: a context's cluster does not apply to it (contract §12.2).
    let cluster = scope
        .settings
        .cluster
        .clone()
        .filter(|_| w.platform == crate::settings::platform::Platform::Gke);
    w.cluster.clone_from(&cluster);
    if with_config || scope.descriptor.is_some() {
        w.scope = Some(ScopeInfo {
            context: scope.context.clone(),
            cluster,
            policy: scope.policy_display.clone(),
            context_source: scope.descriptor.as_ref().map(|d| d.source.clone()),
        });
    }
}
