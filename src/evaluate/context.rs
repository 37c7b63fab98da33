//! The one value the evaluation of a file depends on besides its text: what a scope (the top
//! level or a config context) resolved for the files it covers. New dimensions of the
//! evaluation (platform, platform policies, descriptor contexts) are fields here, so the
//! per-file and per-workload functions keep their signatures.

use crate::policy::Policy;
use crate::yaml::Limits;

/// Settings resolved once from the command line.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    /// `--namespace`: the namespace of objects that name none.
    pub namespace: String,
    /// `--cluster LOCATION.NAME`.
    pub cluster: Option<String>,
    pub limits: Limits,
    /// `--max-file-size` in bytes.
    pub max_file_size: u64,
    /// `--lenient-breakglass`: the legacy annotation counts by presence alone (spec A2).
    pub lenient_breakglass: bool,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            namespace: "default".to_string(),
            cluster: None,
            limits: Limits::default(),
            max_file_size: 32 * 1024 * 1024,
            lenient_breakglass: false,
        }
    }
}

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
}
