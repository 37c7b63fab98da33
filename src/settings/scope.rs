//! Per-path evaluation settings (contract §5): which namespace, cluster and policy each
//! scanned file's workloads are evaluated with. Without a config file there is one scope;
//! with one, scope 0 is the config's top level and scope `i + 1` is context `i`.

use crate::policy::Policy;
use crate::policy::platform::PlatformPolicy;
use crate::report::Finding;
use crate::report::{ScopeInfo, WorkloadReport};
use crate::settings::ScanSettings;
use crate::settings::config::Config;
use std::path::{Path, PathBuf};

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
}

/// Every scope of a run, and how a file picks its scope.
#[derive(Clone, Debug)]
pub struct Scopes<'p, 'c> {
    pub list: Vec<Scope<'p>>,
    pub config: Option<&'c Config>,
    /// Anchors relative candidate paths.
    pub cwd: PathBuf,
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
            }],
            config: None,
            cwd: PathBuf::new(),
        }
    }

    /// The top-level scope (also used for standard input).
    pub fn top(&self) -> &Scope<'p> {
        // `list` is never empty: every constructor puts the top level first.
        &self.list[0]
    }

    /// The scope of a file, from its path (relative to `cwd` or absolute); `None` is
    /// standard input, which is outside every context.
    pub fn index_for(&self, path: Option<&Path>) -> usize {
        let (Some(config), Some(path)) = (self.config, path) else {
            return 0;
        };
        let abs = crate::report::paths::normalize(&self.cwd.join(path));
        config
            .context_of(&abs)
            .map(|i| i + 1)
            .filter(|&i| i < self.list.len())
            .unwrap_or(0)
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
    if with_config {
        w.scope = Some(ScopeInfo {
            context: scope.context.clone(),
            cluster,
            policy: scope.policy_display.clone(),
        });
    }
}
