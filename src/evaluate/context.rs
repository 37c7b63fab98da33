//! The one value the evaluation of a file depends on besides its text: what a scope (the top
//! level or a config context) resolved for the files it covers. New dimensions of the
//! evaluation (platform, platform policies, descriptor contexts) are fields here, so the
//! per-file and per-workload functions keep their signatures.

use crate::policy::Policy;
pub use crate::settings::ScanSettings;
use crate::settings::scope::Scope;

/// What one file is evaluated with.
#[derive(Clone, Copy, Debug)]
pub struct FileContext<'a> {
    /// Namespace, cluster, parser limits and break-glass leniency.
    pub settings: &'a ScanSettings,
    /// The project policy that decides every image.
    pub policy: &'a Policy,
}

impl<'a> FileContext<'a> {
    pub fn new(settings: &'a ScanSettings, policy: &'a Policy) -> FileContext<'a> {
        FileContext { settings, policy }
    }

    /// What the files of a scope (the top level or a config context) are evaluated with.
    pub fn of(scope: &'a Scope<'_>) -> FileContext<'a> {
        FileContext::new(&scope.settings, scope.policy)
    }
}
