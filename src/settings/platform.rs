//! The platform a workload runs on (contract §12), and the config setting that decides it
//! for Knative Services. A leaf module (no imports from the crate), so that extraction, the
//! policy evaluator and the report can all name the platform without an import cycle.

use serde::Serialize;

/// Where a workload's images are checked by Binary Authorization (contract §12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// GKE pod admission: every rule kind of the policy, the pod label break-glass.
    #[default]
    Gke,
    /// Cloud Run deploy (a Service's revision, a Job's execution): allowlist, system policy
    /// and the default rule only; break-glass by justification on the object.
    #[serde(rename = "cloudrun")]
    CloudRun,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Gke => "gke",
            Platform::CloudRun => "cloudrun",
        }
    }
}

/// The config's `platform:` (top level and per context): how a Knative `Service` without a
/// decisive key is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PlatformSetting {
    /// Cloud Run when the object says so (`run.googleapis.com/` keys, Cloud Run kinds).
    #[default]
    Auto,
    /// Every Knative `Service` is Knative on GKE, whatever keys it carries.
    Gke,
    /// Every Knative `Service` is a Cloud Run service.
    CloudRun,
}

impl PlatformSetting {
    /// The config value, or `None` for an unknown one.
    pub fn parse(text: &str) -> Option<PlatformSetting> {
        match text {
            "auto" => Some(PlatformSetting::Auto),
            "gke" => Some(PlatformSetting::Gke),
            "cloudrun" => Some(PlatformSetting::CloudRun),
            _ => None,
        }
    }
}
