//! Running a case: the synthetic pod (or the manifest) goes through the scan path —
//! `evaluate::scan::scan_text_in` under one `FileContext`, exactly what `scan` does with a
//! file — and each workload entry it yields is compared with the case's expectations.

use super::outcome::{self, Actual};
use super::{Case, CasePlatform, Subject, Suite};
use crate::evaluate::context::{FileContext, ScanSettings};
use crate::evaluate::scan::{FileResult, scan_text_in};
use crate::policy::Policy;
use crate::policy::platform::PlatformPolicy;
use crate::rules::Level;
use serde_json::{Value, json};
use std::path::Path;

/// The outcome of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    /// `FILE::NAME`.
    pub id: String,
    /// The line of the case's `name` in the suite.
    pub line: u32,
    pub passed: bool,
    pub expect: outcome::Decision,
    pub expect_rule: Option<String>,
    pub expect_cv: Option<String>,
    /// `None` when the case could not be evaluated (a feature this build lacks, an object
    /// without workloads); `message` says why.
    pub actual: Option<Actual>,
    /// Why the case failed (`None` when it passed).
    pub message: Option<String>,
    /// Workloads evaluated (1 for an image case).
    pub workloads: usize,
}

/// The outcomes of one suite's selected cases, in file order.
#[derive(Clone, Debug)]
pub struct SuiteResult {
    pub file: String,
    /// The policy the suite was run with (its report path, or `<built-in default>`).
    pub policy: String,
    pub cases: Vec<CaseResult>,
}

impl SuiteResult {
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }
}

/// The name of the synthetic pod (and Cloud Run service) of an image case.
const POD_NAME: &str = "binauthz-test";
const BREAKGLASS_LABEL: &str = "image-policy.k8s.io/break-glass";
const CLOUD_RUN_SETTING: &str = "run.googleapis.com/binary-authorization";
const CLOUD_RUN_BREAKGLASS: &str = "run.googleapis.com/binary-authorization-breakglass";

/// Run one case of `suite` under `policy` (which carries the attestors, attestations and
/// system policy the case uses) and the suite's platform policy (`platform`: none, or the
/// one of `platformPolicy:`). `cwd` makes object paths relative in messages.
pub fn run_case(
    suite: &Suite,
    case: &Case,
    policy: &Policy,
    platform: &[&PlatformPolicy],
    cwd: &Path,
) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        id: case.id(&suite.display),
        line: case.span.start.line,
        passed: false,
        expect: case.expect,
        expect_rule: case.rule.clone(),
        expect_cv: case.cv.map(|c| c.as_str().to_string()),
        actual: None,
        message: None,
        workloads: 0,
    };
    let settings = ScanSettings {
        namespace: case.namespace.clone(),
        cluster: case.cluster.clone(),
        ..ScanSettings::default()
    };
    // The one evaluation context of the scan path: what `scan --policy … --platform-policy …
    // --namespace … --cluster …` evaluates a file with.
    let ctx = FileContext::new(&settings, policy).with_platform(platform);
    let (display, scanned) = match &case.subject {
        Subject::Image(image) => {
            let display = format!("{}::{}", suite.display, case.name);
            let text = pod_manifest(case, image);
            let scanned = scan_text_in(&display, &text, &ctx);
            (display, scanned)
        }
        Subject::Object(object) => {
            let display = crate::inputs::discover::display_path(&object.path, cwd);
            match crate::inputs::read::read_file(&object.path, settings.max_file_size) {
                Ok(text) => {
                    let scanned = scan_text_in(&display, &text, &ctx);
                    (display, scanned)
                }
                Err(reason) => {
                    result.message = Some(format!("object {display} cannot be read: {reason}"));
                    return result;
                }
            }
        }
    };
    if let Some(problem) = unreadable(&display, &scanned) {
        result.message = Some(problem);
        return result;
    }
    let entries: Vec<Value> = scanned
        .workloads
        .iter()
        .map(|w| serde_json::to_value(w).unwrap_or(Value::Null))
        .collect();
    result.workloads = entries.len();
    if entries.is_empty() {
        result.message = Some(match &case.subject {
            Subject::Image(_) => "the synthetic pod yielded no workload".to_string(),
            Subject::Object(_) => format!(
                "object {display} holds no workload (no pod template binauthz-lint knows): the case would test nothing"
            ),
        });
        return result;
    }
    // Every workload must meet the expectations; `actual` is the first that does not (or
    // the first).
    let mut first: Option<Actual> = None;
    for entry in &entries {
        if let Some(message) = unsupported(case, entry) {
            result.message = Some(message);
            return result;
        }
        let actual = outcome::of_workload(entry);
        if let Some(mismatch) = mismatch(case, &actual) {
            let message = match &case.subject {
                Subject::Image(_) => mismatch,
                Subject::Object(_) => format!("{}: {mismatch}", describe_workload(entry)),
            };
            result.message = Some(message);
            result.actual = Some(actual);
            return result;
        }
        first.get_or_insert(actual);
    }
    result.actual = first;
    result.passed = true;
    result
}

/// The synthetic object of an image case, as manifest text (JSON, which the kubectl-exact
/// reader accepts): a Pod on GKE, a Cloud Run (Knative) Service with Binary Authorization
/// set to `default` on Cloud Run.
fn pod_manifest(case: &Case, image: &str) -> String {
    let container = json!({"name": "case", "image": image});
    let manifest = match case.platform {
        CasePlatform::Gke => {
            let mut metadata = json!({"name": POD_NAME, "namespace": case.namespace});
            if case.breakglass {
                metadata["labels"] = json!({BREAKGLASS_LABEL: "true"});
            }
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": metadata,
                "spec": {
                    "serviceAccountName": case.service_account,
                    "containers": [container],
                },
            })
        }
        CasePlatform::CloudRun => {
            let mut annotations = json!({CLOUD_RUN_SETTING: "default"});
            if case.breakglass {
                annotations[CLOUD_RUN_BREAKGLASS] =
                    json!(format!("binauthz-lint test case: {}", case.name));
            }
            json!({
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "metadata": {
                    "name": POD_NAME,
                    "namespace": case.namespace,
                    "annotations": annotations,
                },
                "spec": {"template": {"spec": {
                    "serviceAccountName": case.service_account,
                    "containers": [container],
                }}},
            })
        }
    };
    serde_json::to_string_pretty(&manifest).unwrap_or_default()
}

/// A manifest the scan could not read (invalid YAML, an object Kubernetes refuses): the case
/// cannot pass on a file that would not deploy.
fn unreadable(display: &str, scanned: &FileResult) -> Option<String> {
    if let Some(reason) = &scanned.skipped {
        return Some(format!(
            "{display} is not a Kubernetes manifest ({reason}): the case would test nothing"
        ));
    }
    let error = scanned
        .findings
        .iter()
        .find(|f| f.rule_id == "manifest-invalid" && f.level == Level::Error)?;
    Some(format!(
        "{}:{}:{}: {}",
        error.location.file, error.location.line, error.location.column, error.message
    ))
}

/// A case that needs what this build cannot evaluate fails, never passes.
fn unsupported(case: &Case, entry: &Value) -> Option<String> {
    let platform = outcome::platform(entry);
    if case.platform == CasePlatform::CloudRun && platform != Some("cloudrun") {
        return Some(match (&case.subject, platform) {
            // A build with Cloud Run support read the object as GKE.
            (Subject::Object(_), Some(other)) => format!(
                "{} runs on {other}, the case says platform cloudrun",
                describe_workload(entry)
            ),
            _ => "platform cloudrun is not supported by this build: the case cannot be evaluated (it fails rather than pass untested)".to_string(),
        });
    }
    if case.platform_written
        && case.platform == CasePlatform::Gke
        && platform.is_some_and(|p| p != "gke")
    {
        return Some(format!(
            "{} runs on {}, the case says platform gke",
            describe_workload(entry),
            platform.unwrap_or("?")
        ));
    }
    if case.cv.is_some() && entry.get("cv").is_none() {
        // Continuous validation evaluates GKE workloads only (contract §15).
        return Some(format!(
            "{} has no continuous-validation verdict (continuous validation evaluates GKE workloads under the suite's `platformPolicy`): the case cannot be evaluated (it fails rather than pass untested)",
            match &case.subject {
                Subject::Image(_) => "the pod".to_string(),
                Subject::Object(_) => describe_workload(entry),
            }
        ));
    }
    None
}

/// Why `actual` does not meet the case, or `None` when it does.
fn mismatch(case: &Case, actual: &Actual) -> Option<String> {
    let got = describe(actual);
    if actual.decision != case.expect {
        return Some(format!("expected {}, got {got}", expected(case)));
    }
    if let Some(rule) = &case.rule
        && actual.rule.as_deref() != Some(rule.as_str())
    {
        return Some(format!(
            "expected rule {rule}, got {}",
            actual.rule.as_deref().unwrap_or("none")
        ));
    }
    if let Some(cv) = case.cv
        && actual.cv.as_deref() != Some(cv.as_str())
    {
        return Some(format!(
            "expected cv {}, got {}",
            cv.as_str(),
            actual.cv.as_deref().unwrap_or("none")
        ));
    }
    None
}

/// `deny (rule default)`: what a case expects.
pub fn expected(case: &Case) -> String {
    describe(&Actual {
        decision: case.expect,
        rule: case.rule.clone(),
        cv: case.cv.map(|c| c.as_str().to_string()),
    })
}

/// `deny (rule default)`.
pub fn describe(actual: &Actual) -> String {
    let mut text = actual.decision.as_str().to_string();
    if let Some(rule) = &actual.rule {
        text.push_str(&format!(" (rule {rule})"));
    }
    if let Some(cv) = &actual.cv {
        text.push_str(&format!(" (cv {cv})"));
    }
    text
}

/// `Deployment prod/web (apps/web.yaml:3)`.
fn describe_workload(entry: &Value) -> String {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or("?");
    let location = entry.get("location");
    let file = location
        .and_then(|l| l.get("file"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let line = location
        .and_then(|l| l.get("line"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    format!(
        "{} {}/{} ({file}:{line})",
        text("kind"),
        text("namespace"),
        text("name")
    )
}
