//! The report: one finding model, workloads, counts and skips, plus pure renderers.
//!
//! Every renderer is a function of [`Report`]; the JSON shape is the frozen contract (§2).

pub mod audit;
pub mod concise;
pub mod fingerprint;
pub mod github;
pub mod human;
pub mod json;
pub mod paths;
pub mod sarif;

use crate::policy::decision::ImageDecision;
use crate::rules::Level;
use serde::Serialize;
use std::cmp::Ordering;

/// Why a finding is approved (JSON `findings[].suppression`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    pub exception_id: String,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    /// `YYYY-MM-DD`, valid through that day (UTC).
    pub expires: String,
    /// The entry in the config file.
    pub location: Location,
    /// Days from today to `expires` (0 = expires today); for the human table.
    #[serde(skip)]
    pub days_left: i64,
}

/// A place in a scanned file. Lines and columns are 1-based (columns in code points);
/// `document` is the 0-based YAML document index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub document: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Location {
    /// Deterministic report order: file, then document, then position.
    pub fn sort_key(&self) -> (&str, u32, u32, u32) {
        (&self.file, self.document, self.line, self.column)
    }

    /// A location for a whole file (line 1, column 1).
    pub fn file_start(file: &str) -> Location {
        Location {
            file: file.to_string(),
            line: 1,
            column: 1,
            document: 0,
            end_line: 1,
            end_column: 1,
        }
    }
}

/// Identity of the workload a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct WorkloadRef {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// The object's API group (`""` for the core group); fingerprint input only.
    #[serde(skip)]
    pub api_group: String,
    /// The route from the object to its pod template, e.g. `spec.jobTemplate.spec.template`
    /// (empty for a bare Pod); fingerprint input only.
    #[serde(skip)]
    pub route: String,
    /// The Binary Authorization cluster key the workload was evaluated for.
    #[serde(skip)]
    pub cluster: Option<String>,
    /// The config context it belongs to (human output, SARIF properties).
    #[serde(skip)]
    pub context: Option<String>,
    /// The Kustomize root folder it was rendered from (contract §9): two overlays of one
    /// base are two workloads, so it is a fingerprint input (only when set, so that raw
    /// fingerprints stay as they were).
    #[serde(skip)]
    pub rendered_from: Option<String>,
    /// "Cloud Run service" / "Cloud Run job" for Cloud Run objects: how outputs name the
    /// object instead of its kind.
    #[serde(skip)]
    pub kind_label: Option<&'static str>,
    /// A Cloud Run break-glass justification in force on the object (approved-exceptions
    /// tables show it).
    #[serde(skip)]
    pub justification: Option<String>,
    /// The descriptor context (contract §14) it was evaluated in: one file deployed by two
    /// descriptors gives two workloads, so it is a fingerprint input (only when set).
    #[serde(skip)]
    pub descriptor_context: Option<String>,
}

impl WorkloadRef {
    /// `Deployment web` / `Cloud Run service api`, as tables name the object.
    pub fn display_kind(&self) -> &str {
        self.kind_label.unwrap_or(&self.kind)
    }
}

/// A secondary location: the policy rule that decided, the break-glass marker, ...
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    pub message: String,
    pub location: Location,
}

/// One finding. `snippet` (the source line) is kept for human output only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule_id: &'static str,
    pub level: Level,
    pub message: String,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadRef>,
    /// The container a finding is about (image findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The image a finding is about, exactly as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// Fingerprint v1 (contract §6): line- and path-free identity, set by
    /// [`Report::assign_fingerprints`] before any report is written.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    /// `new` / `unchanged` in baseline mode (contract §8), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<&'static str>,
    /// PR mode: why a `new` finding is new, where it can be told (`manifest changed`,
    /// `policy changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_cause: Option<&'static str>,
    /// Approved by a live exception of the config (contract §7): the finding is a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// `container`, `initContainer` or `ephemeralContainer` for image findings.
    #[serde(skip)]
    pub container_type: Option<&'static str>,
    /// The text of the finding's first line, for renderers that show source.
    #[serde(skip)]
    pub snippet: Option<String>,
    /// A line too long for `snippet` to reach the finding (a minified JSON manifest): the
    /// part of the line around it, and the column its first character has.
    #[serde(skip)]
    pub snippet_window: Option<Box<(u32, String)>>,
}

impl Finding {
    pub fn new(rule_id: &'static str, level: Level, message: String, location: Location) -> Self {
        Finding {
            rule_id,
            level,
            message,
            location,
            workload: None,
            container: None,
            image: None,
            related: Vec::new(),
            fingerprint: String::new(),
            baseline_state: None,
            baseline_cause: None,
            suppression: None,
            container_type: None,
            snippet: None,
            snippet_window: None,
        }
    }

    fn cmp_key(&self, other: &Self) -> Ordering {
        self.location
            .sort_key()
            .cmp(&other.location.sort_key())
            .then_with(|| self.rule_id.cmp(other.rule_id))
            .then_with(|| self.message.cmp(&other.message))
    }
}

/// Break-glass marker found on a workload (contract §2 `breakglass.sources[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BreakglassSource {
    /// `label` or `annotation`.
    pub kind: &'static str,
    pub key: String,
    pub value: String,
    pub effective: bool,
    pub problem: Option<String>,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breakglass {
    pub effective: bool,
    pub sources: Vec<BreakglassSource>,
    /// Cloud Run (contract §12.4): the index in `sources` of the marker that speaks for the
    /// object (the justification, else the first marker). Such a workload's `breakglass` is
    /// serialised as `{marker, key, justification, location, effective, problem}`.
    pub cloud_run: Option<usize>,
}

impl Breakglass {
    /// The justification that is in force (Cloud Run), if any.
    pub fn justification(&self) -> Option<&str> {
        let source = self.sources.get(self.cloud_run?)?;
        (self.effective && source.kind == "justification").then_some(source.value.as_str())
    }
}

impl Serialize for Breakglass {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Gke<'a> {
            effective: bool,
            sources: &'a [BreakglassSource],
        }
        #[derive(Serialize)]
        struct CloudRun<'a> {
            marker: &'a str,
            key: &'a str,
            justification: Option<&'a str>,
            location: &'a Location,
            effective: bool,
            problem: Option<&'a str>,
        }
        match self.cloud_run.and_then(|i| self.sources.get(i)) {
            Some(source) => CloudRun {
                marker: source.kind,
                key: &source.key,
                justification: (source.kind == "justification").then_some(source.value.as_str()),
                location: &source.location,
                effective: self.effective,
                problem: source.problem.as_deref(),
            }
            .serialize(serializer),
            None => Gke {
                effective: self.effective,
                sources: &self.sources,
            }
            .serialize(serializer),
        }
    }
}

/// One image of a workload and the policy's verdict on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReport {
    pub container: String,
    pub container_type: &'static str,
    pub image: String,
    pub location: Location,
    /// `decision`, `reason`, `rule`, `enforcement`, `pattern`, `attestors` in the JSON.
    pub verdict: ImageDecision,
}

// Written out rather than derived with `#[serde(flatten)]`, which makes serde buffer every
// field through its generic map path: the report's tens of thousands of images and
// workloads were a tenth of a scan's serial time. The JSON is the same, field for field.
impl Serialize for ImageReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = &self.verdict;
        let mut s = serializer.serialize_struct("ImageReport", 10)?;
        s.serialize_field("container", &self.container)?;
        s.serialize_field("containerType", self.container_type)?;
        s.serialize_field("image", &self.image)?;
        s.serialize_field("location", &self.location)?;
        s.serialize_field("decision", &v.decision)?;
        s.serialize_field("reason", &v.reason)?;
        s.serialize_field("rule", &v.rule)?;
        s.serialize_field("enforcement", &v.enforcement)?;
        s.serialize_field("pattern", &v.pattern)?;
        s.serialize_field("attestors", &v.attestors)?;
        s.end()
    }
}

impl ImageReport {
    /// Why the image is denied, in Binary Authorization's wording (the evaluator always sets
    /// a message on denials; the fallback keeps a message meaningful if one ever does not).
    pub fn denial_message(&self) -> String {
        if !self.verdict.message.is_empty() {
            return self.verdict.message.clone();
        }
        format!(
            "Image {} denied by Binary Authorization {} admission rule ({})",
            self.image,
            self.verdict.rule.as_deref().unwrap_or("default"),
            self.verdict.reason.as_str()
        )
    }
}

/// `policyDecision` of a workload: the policy alone, ignoring break-glass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyDecision {
    Allow,
    Deny,
    DryrunDeny,
    /// Cloud Run: a tag-only image under REQUIRE_ATTESTATION, or a platform policy, and no
    /// certain denial (contract §12.3).
    Unresolved,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadReport {
    pub location: Location,
    pub api_version: String,
    pub kind: String,
    /// `gke` or `cloudrun` (contract §12).
    pub platform: crate::settings::platform::Platform,
    /// Cloud Run only: `enforced`, `off` or `platform-policy` (contract §12.1).
    pub binauthz: Option<&'static str>,
    /// The route from the object to this pod template (`spec.template`; empty for a Pod;
    /// `detected` for a kind binauthz-lint does not know).
    pub route: String,
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    /// Config mode only (contract §5): the context, cluster key and policy used.
    pub scope: Option<ScopeInfo>,
    /// `--render` only (contract §9, §11.7): the root folder the workload was rendered from.
    pub rendered_from: Option<String>,
    pub policy_decision: PolicyDecision,
    pub breakglass: Option<Breakglass>,
    /// `None` (JSON null) for a Cloud Run workload whose verdict is unresolved under an
    /// enforced rule: neither admitted nor denied (contract §12.3).
    pub admitted: Option<bool>,
    pub images: Vec<ImageReport>,
    /// Continuous validation (contract §15): one entry per platform policy of the scope;
    /// absent without platform policies.
    pub cv: Option<Vec<CvResult>>,
    /// Pod labels and annotations as written (for audit events; not in the JSON contract).
    pub pod_labels: Vec<(String, String)>,
    pub pod_annotations: Vec<(String, String)>,
    /// The scope (see `scope::Scopes`) the workload was evaluated in.
    pub scope_index: usize,
    /// The cluster key it was evaluated for (audit events, policy lint).
    pub cluster: Option<String>,
    /// The exception that approves its break-glass, if any (audit events).
    pub approved_by: Option<String>,
    /// The GCP project of the policy that evaluated it (audit events' `project_id`).
    pub project: Option<String>,
    /// Cloud Run: "Cloud Run service" / "Cloud Run job" and the region, for outputs and
    /// audit events.
    pub cloud_run: Option<CloudRunInfo>,
}

impl Serialize for WorkloadReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("WorkloadReport", 20)?;
        s.serialize_field("location", &self.location)?;
        s.serialize_field("apiVersion", &self.api_version)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("platform", &self.platform)?;
        if let Some(binauthz) = self.binauthz {
            s.serialize_field("binauthz", binauthz)?;
        }
        s.serialize_field("route", &self.route)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("namespace", &self.namespace)?;
        s.serialize_field("serviceAccount", &self.service_account)?;
        // Config mode: the scope's fields, inline (`context`, `cluster`, `policy`, ...).
        if let Some(scope) = &self.scope {
            s.serialize_field("context", &scope.context)?;
            s.serialize_field("cluster", &scope.cluster)?;
            s.serialize_field("policy", &scope.policy)?;
            if let Some(source) = &scope.context_source {
                s.serialize_field("contextSource", source)?;
            }
        }
        if let Some(root) = &self.rendered_from {
            s.serialize_field("renderedFrom", root)?;
        }
        s.serialize_field("policyDecision", &self.policy_decision)?;
        s.serialize_field("breakglass", &self.breakglass)?;
        s.serialize_field("admitted", &self.admitted)?;
        s.serialize_field("images", &self.images)?;
        if let Some(cv) = &self.cv {
            s.serialize_field("cv", cv)?;
        }
        s.end()
    }
}

/// What outputs and audit events need to know of a Cloud Run object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudRunInfo {
    pub resource: crate::extract::cloudrun::Resource,
    pub region: Option<String>,
}

impl WorkloadReport {
    /// `Deployment` / `Cloud Run service`, as outputs name the object.
    pub fn display_kind(&self) -> &str {
        match &self.cloud_run {
            Some(info) => info.resource.label(),
            None => &self.kind,
        }
    }

    /// The workload has an effective break-glass marker.
    pub fn breakglass_effective(&self) -> bool {
        self.breakglass.as_ref().is_some_and(|b| b.effective)
    }
}

/// A workload's verdict under one platform policy (`workloads[].cv[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CvResult {
    /// The platform policy file, as given.
    pub policy: String,
    #[serde(flatten)]
    pub pod: crate::policy::platform::PodVerdict,
}

impl WorkloadReport {
    /// The workload's verdict over all its platform policies (non-conformant > undecided >
    /// conformant); `None` without platform policies.
    pub fn cv_verdict(&self) -> Option<crate::policy::platform::Verdict> {
        let cv = self.cv.as_ref()?;
        Some(crate::policy::platform::Verdict::roll_up(
            cv.iter().map(|c| c.pod.verdict),
        ))
    }
}

/// What a config file decided for a workload (JSON `workloads[].context/cluster/policy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeInfo {
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub policy: String,
    /// A descriptor context's `file:line` (contract §14); absent for config contexts.
    #[serde(rename = "contextSource", skip_serializing_if = "Option::is_none")]
    pub context_source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// `summary.platforms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Platforms {
    pub gke: usize,
    pub cloudrun: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FindingCounts {
    pub error: usize,
    pub warning: usize,
    pub note: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub files: usize,
    pub skipped_files: usize,
    pub documents: usize,
    pub workloads: usize,
    pub images: usize,
    pub admitted: usize,
    pub denied: usize,
    pub dryrun_denied: usize,
    pub breakglass: usize,
    /// Cloud Run workloads whose verdict this scan cannot take (contract §12.3).
    pub unresolved: usize,
    /// Workloads per platform (contract §17).
    pub platforms: Platforms,
    pub findings: FindingCounts,
    /// The config file used (contract §5); absent without one, so that output without a
    /// config stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Kustomization roots among the scanned paths (contract §9, §11.7); absent when there
    /// is none (and no `--render`), so that output without kustomizations stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kustomize_roots: Option<usize>,
    /// Roots rendered (`--render kustomize`); present with `kustomizeRoots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_roots: Option<usize>,
    /// Baseline mode only (contract §8): findings not in the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<usize>,
    /// Baseline mode only: findings also in the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<usize>,
    /// Baseline mode only: baseline findings this scan no longer has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent: Option<usize>,
    /// With platform policies only (contract §15, §17): workloads continuous validation
    /// will log (non-conformant under at least one platform policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv_non_conformant: Option<usize>,
    /// With platform policies only: workloads not non-conformant but with a check only the
    /// online evaluation decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv_undecided: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyInfo {
    /// The policy as `workloads[].policy` prints it (`FILE`, `FILE#ADDRESS`, or
    /// `<built-in default>`); SARIF and the step summary show this.
    #[serde(skip)]
    pub display: String,
    /// JSON `policy.source`: `{"kind", "file", "address"}` (contract §13).
    pub source: crate::policy::SourceInfo,
}

/// The whole result of a scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub policy: PolicyInfo,
    pub summary: Summary,
    pub workloads: Vec<WorkloadReport>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub audit_events: Vec<serde_json::Value>,
    /// Baseline mode only: the baseline's findings this scan no longer has, each with
    /// `baselineState: "absent"` (JSON `absent[]`; never in SARIF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent: Option<Vec<serde_json::Value>>,
    /// What decided the verdicts, when the user may not know it (human output and the step
    /// summary; the JSON says it in `policy.source` and `workloads[].policy`).
    #[serde(skip)]
    pub policy_notices: Vec<String>,
}

/// One row of the "approved exceptions" table (human output, step summary).
pub struct ApprovedUse<'a> {
    pub finding: &'a Finding,
    pub suppression: &'a Suppression,
    /// `Kind name (namespace)`, or the file for findings without a workload.
    pub what: String,
}

impl Report {
    /// The findings an exception approves, in report order.
    pub fn approved_uses(&self) -> Vec<ApprovedUse<'_>> {
        self.findings
            .iter()
            .filter_map(|f| {
                let suppression = f.suppression.as_ref()?;
                let what = match &f.workload {
                    Some(w) => match &w.justification {
                        Some(text) => format!(
                            "{} {} ({}), justification \"{text}\"",
                            w.display_kind(),
                            w.name,
                            w.namespace
                        ),
                        None => format!("{} {} ({})", w.display_kind(), w.name, w.namespace),
                    },
                    None => f.location.file.clone(),
                };
                Some(ApprovedUse {
                    finding: f,
                    suppression,
                    what,
                })
            })
            .collect()
    }

    pub fn new(policy_source: &str) -> Report {
        Report {
            schema_version: 1,
            tool: Tool {
                name: "binauthz-lint",
                version: env!("CARGO_PKG_VERSION"),
            },
            policy: PolicyInfo {
                display: policy_source.to_string(),
                source: crate::policy::SourceInfo {
                    kind: crate::policy::SourceKind::Gcloud,
                    file: policy_source.to_string(),
                    address: None,
                },
            },
            summary: Summary::default(),
            workloads: Vec::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            audit_events: Vec::new(),
            absent: None,
            policy_notices: Vec::new(),
        }
    }

    /// Sort everything into the contract's deterministic order and recompute counts that
    /// derive from the lists.
    pub fn finish(&mut self) {
        self.workloads
            .sort_by(|a, b| a.location.sort_key().cmp(&b.location.sort_key()));
        self.findings.sort_by(|a, b| a.cmp_key(b));
        self.skipped
            .sort_by(|a, b| a.file.cmp(&b.file).then_with(|| a.reason.cmp(&b.reason)));
        let s = &mut self.summary;
        s.workloads = self.workloads.len();
        s.images = self.workloads.iter().map(|w| w.images.len()).sum();
        s.admitted = self
            .workloads
            .iter()
            .filter(|w| w.admitted == Some(true))
            .count();
        s.denied = self
            .workloads
            .iter()
            .filter(|w| w.admitted == Some(false))
            .count();
        s.unresolved = self
            .workloads
            .iter()
            // A Cloud Run object whose Binary Authorization is off is deployed unchecked:
            // admitted, not unresolved, whatever the policy would say.
            .filter(|w| {
                // An effective break-glass deploys it: admitted, not unresolved.
                w.policy_decision == PolicyDecision::Unresolved
                    && w.binauthz != Some("off")
                    && !w.breakglass_effective()
            })
            .count();
        let cloudrun = self
            .workloads
            .iter()
            .filter(|w| w.platform == crate::settings::platform::Platform::CloudRun)
            .count();
        s.platforms = Platforms {
            gke: s.workloads - cloudrun,
            cloudrun,
        };
        s.dryrun_denied = self
            .workloads
            .iter()
            .filter(|w| w.policy_decision == PolicyDecision::DryrunDeny)
            .count();
        s.breakglass = self
            .workloads
            .iter()
            .filter(|w| w.breakglass_effective())
            .count();
        s.skipped_files = self.skipped.len();
        if s.cv_non_conformant.is_some() || s.cv_undecided.is_some() {
            let count = |v| {
                self.workloads
                    .iter()
                    .filter(|w| w.cv_verdict() == Some(v))
                    .count()
            };
            s.cv_non_conformant = Some(count(crate::policy::platform::Verdict::NonConformant));
            s.cv_undecided = Some(count(crate::policy::platform::Verdict::Undecided));
        }
        let mut counts = FindingCounts::default();
        for f in &self.findings {
            match f.level {
                Level::Error => counts.error += 1,
                Level::Warning => counts.warning += 1,
                Level::Note => counts.note += 1,
            }
        }
        s.findings = counts;
    }

    /// The highest finding level, if any finding exists.
    /// The highest level that counts for `--fail-on`: in baseline mode only `new` findings
    /// count (contract §8).
    pub fn max_level(&self) -> Option<Level> {
        self.findings
            .iter()
            .filter(|f| f.baseline_state != Some("unchanged"))
            .map(|f| f.level)
            .max()
    }
}
