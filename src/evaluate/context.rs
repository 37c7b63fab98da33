//! The one value the evaluation of a file depends on besides its text: what a scope (the top
//! level or a config context) resolved for the files it covers. New dimensions of the
//! evaluation (platform, platform policies, descriptor contexts) are fields here, so the
//! per-file and per-workload functions keep their signatures.

use crate::policy::Policy;
use crate::policy::platform::PlatformPolicy;
pub use crate::settings::ScanSettings;
use crate::settings::scope::Scope;

/// What one file is evaluated with.
#[derive(Clone, Copy, Debug)]
pub struct FileContext<'a> {
    /// Namespace, cluster, parser limits and break-glass leniency.
    pub settings: &'a ScanSettings,
    /// The project policy that decides every image.
    pub policy: &'a Policy,
    /// The check-based platform policies bound to the cluster (`--platform-policy`, config
    /// `platformPolicies`): continuous validation's verdict on every GKE workload. Empty:
    /// no `cv` entry and no `cv-*` finding.
    pub platform: &'a [&'a PlatformPolicy],
    /// A descriptor context's namespace for every object (Flux `targetNamespace`).
    pub namespace_override: Option<&'a str>,
    /// A Config Sync context's cluster name: objects whose
    /// `configsync.gke.io/cluster-name-selector` does not name it are not deployed there.
    pub config_sync_cluster: Option<&'a str>,
}

impl<'a> FileContext<'a> {
    pub fn new(settings: &'a ScanSettings, policy: &'a Policy) -> FileContext<'a> {
        FileContext {
            settings,
            policy,
            platform: &[],
            namespace_override: None,
            config_sync_cluster: None,
        }
    }

    /// The same context with platform policies.
    pub fn with_platform(mut self, platform: &'a [&'a PlatformPolicy]) -> FileContext<'a> {
        self.platform = platform;
        self
    }

    /// What the files of a scope (the top level or a config context) are evaluated with.
    pub fn of(scope: &'a Scope<'_>) -> FileContext<'a> {
        let descriptor = scope.descriptor.as_ref();
        FileContext {
            namespace_override: descriptor.and_then(|d| d.namespace_override.as_deref()),
            config_sync_cluster: descriptor.and_then(|d| d.config_sync_cluster.as_deref()),
            ..FileContext::new(&scope.settings, scope.policy).with_platform(&scope.platform)
        }
    }
}
