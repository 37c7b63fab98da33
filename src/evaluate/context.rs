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
}

impl<'a> FileContext<'a> {
    pub fn new(settings: &'a ScanSettings, policy: &'a Policy) -> FileContext<'a> {
        FileContext {
            settings,
            policy,
            platform: &[],
        }
    }

    /// The same context with platform policies.
    pub fn with_platform(mut self, platform: &'a [&'a PlatformPolicy]) -> FileContext<'a> {
        self.platform = platform;
        self
    }

    /// What the files of a scope (the top level or a config context) are evaluated with.
    pub fn of(scope: &'a Scope<'_>) -> FileContext<'a> {
        FileContext::new(&scope.settings, scope.policy).with_platform(&scope.platform)
    }
}
