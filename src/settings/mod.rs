//! Settings: how each file is evaluated. The configuration file (`config`), the per-path
//! scopes it defines (`scope`: cluster, namespace, policy of each context) and the approved
//! exceptions matched against findings (`exceptions`).

pub mod config;
pub mod descriptors;
pub mod exceptions;
pub mod platform;
pub mod scope;

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
    /// The config's `platform:` (contract §12): how a Knative `Service` is read.
    pub platform: platform::PlatformSetting,
    /// Display paths of the `--terraform-plan` files: read as plan JSON, for their Cloud Run
    /// resources.
    pub terraform_plans: Vec<String>,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            namespace: "default".to_string(),
            cluster: None,
            limits: Limits::default(),
            max_file_size: 32 * 1024 * 1024,
            lenient_breakglass: false,
            platform: platform::PlatformSetting::Auto,
            terraform_plans: Vec::new(),
        }
    }
}
