//! `--baseline FILE` (contract §8): compare this scan's findings with a JSON report written
//! earlier (e.g. on the default branch) by fingerprint v1, as multisets. A finding whose
//! fingerprint is in the baseline is `unchanged`, every other one is `new`; baseline
//! findings left over are `absent` (resolved by the change). Only `new` findings count for
//! the exit code.

use crate::report::{Report, WorkloadReport};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The findings of an earlier JSON report, by fingerprint.
#[derive(Debug, Default)]
pub struct Baseline {
    /// The baseline's findings in their report order.
    findings: Vec<Value>,
}

impl Baseline {
    /// Read a JSON report written by `scan --format json` (or `--json FILE`).
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let display = path.display();
        let bytes =
            std::fs::read(path).map_err(|e| format!("{display}: cannot read the baseline: {e}"))?;
        Baseline::from_json(&bytes).map_err(|e| format!("{display}: {e}"))
    }

    /// The findings of a report of this run (PR mode's base side; fingerprints assigned).
    pub fn from_report(report: &Report) -> Baseline {
        Baseline {
            findings: report
                .findings
                .iter()
                .filter_map(|f| serde_json::to_value(f).ok())
                .collect(),
        }
    }

    pub fn from_json(bytes: &[u8]) -> Result<Baseline, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "not a JSON report (line {}, column {}): {e}",
                e.line(),
                e.column()
            )
        })?;
        let findings = value
            .get("findings")
            .and_then(Value::as_array)
            .ok_or("not a binauthz-lint JSON report: no `findings` array")?;
        for (i, finding) in findings.iter().enumerate() {
            if finding.get("fingerprint").and_then(Value::as_str).is_none() {
                return Err(format!(
                    "finding {} has no `fingerprint`: the baseline was written by a binauthz-lint without fingerprint v1; write it again with this version",
                    i + 1
                ));
            }
        }
        Ok(Baseline {
            findings: findings.clone(),
        })
    }

    /// Mark every finding of `report` (fingerprints assigned) `new` or `unchanged`, record the
    /// baseline's leftovers as `absent`, and fill the summary counts.
    pub fn apply(&self, report: &mut Report) {
        let mut remaining: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, finding) in self.findings.iter().enumerate().rev() {
            if let Some(print) = finding.get("fingerprint").and_then(Value::as_str) {
                remaining.entry(print).or_default().push(i);
            }
        }
        let mut matched = vec![false; self.findings.len()];
        let (mut new, mut unchanged) = (0, 0);
        for finding in &mut report.findings {
            let hit = remaining
                .get_mut(finding.fingerprint.as_str())
                .and_then(Vec::pop);
            match hit {
                Some(i) => {
                    matched[i] = true;
                    unchanged += 1;
                    finding.baseline_state = Some("unchanged");
                }
                None => {
                    new += 1;
                    finding.baseline_state = Some("new");
                }
            }
        }
        let absent: Vec<Value> = self
            .findings
            .iter()
            .zip(&matched)
            .filter(|(_, matched)| !**matched)
            .map(|(finding, _)| {
                let mut finding = finding.clone();
                if let Some(object) = finding.as_object_mut() {
                    object.insert("baselineState".to_string(), Value::from("absent"));
                }
                finding
            })
            .collect();
        report.summary.new = Some(new);
        report.summary.unchanged = Some(unchanged);
        report.summary.absent = Some(absent.len());
        report.absent = Some(absent);
    }
}

/// What the admission decision of a workload depends on in its manifest: identity, service
/// account, images, pod labels and annotations.
fn signature(w: &WorkloadReport) -> String {
    let mut out = format!(
        "{}\n{}\n{}\n{}\n{}",
        w.api_version, w.kind, w.namespace, w.name, w.service_account
    );
    for image in &w.images {
        out.push_str(&format!("\n{}={}", image.container, image.image));
    }
    for (k, v) in w.pod_labels.iter().chain(&w.pod_annotations) {
        out.push_str(&format!("\n{k}:{v}"));
    }
    out
}

/// What differs between the two sides of a PR-mode run, besides the manifests.
#[derive(Clone, Copy, Debug, Default)]
pub struct SideChanges<'a> {
    pub policy_changed: bool,
    pub config_changed: bool,
    /// The top-level policy file's report path (policy findings are located there).
    pub policy_display: &'a str,
    /// The config file's report path, when one is used.
    pub config_display: Option<&'a str>,
}

/// PR mode: tell, for each `new` finding, whether its workload's manifest changed, or only
/// the policy or the config did (the workload is the same on both sides). Left unset when
/// none can be told (for example an overlay change).
pub fn explain_new(head: &mut Report, base: &Report, sides: SideChanges<'_>) {
    let settings_cause = || {
        if sides.policy_changed {
            Some("policy changed")
        } else if sides.config_changed {
            Some("config changed")
        } else {
            None
        }
    };
    let key = |kind: &str, namespace: &str, name: &str| format!("{kind}\n{namespace}\n{name}");
    let base_workloads: HashMap<String, Vec<String>> =
        base.workloads.iter().fold(HashMap::new(), |mut map, w| {
            map.entry(key(&w.kind, &w.namespace, &w.name))
                .or_default()
                .push(signature(w));
            map
        });
    let head_workloads: HashMap<String, Vec<String>> =
        head.workloads.iter().fold(HashMap::new(), |mut map, w| {
            map.entry(key(&w.kind, &w.namespace, &w.name))
                .or_default()
                .push(signature(w));
            map
        });
    for finding in &mut head.findings {
        if finding.baseline_state != Some("new") {
            continue;
        }
        finding.baseline_cause = match &finding.workload {
            Some(w) => {
                let k = key(&w.kind, &w.namespace, &w.name);
                let before = base_workloads.get(&k);
                let after = head_workloads.get(&k);
                match (before, after) {
                    (Some(before), Some(after)) if before == after => settings_cause(),
                    _ => Some("manifest changed"),
                }
            }
            None if finding.location.file == sides.policy_display => {
                sides.policy_changed.then_some("policy changed")
            }
            None if Some(finding.location.file.as_str()) == sides.config_display => {
                sides.config_changed.then_some("config changed")
            }
            None => Some("manifest changed"),
        };
    }
}
