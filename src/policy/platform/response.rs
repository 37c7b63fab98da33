//! The JSON `gcloud beta container binauthz policy evaluate` prints
//! (`EvaluateGkePolicyResponse`), built from offline verdicts. gcloud prints keys sorted and
//! 64-bit integers (`index`) as strings; `ERROR` stands for `undecided`.

use serde_json::{Map, Value, json};

use super::eval::{CheckVerdict, ImageVerdict, PodVerdict, ScopeJson, Verdict};

/// One pod of the evaluated resources, with its verdict under the policy.
pub struct PodDescription<'a> {
    /// The Pod's name, or the workload's name for the pods a workload creates.
    pub name: &'a str,
    pub namespace: &'a str,
    pub service_account: &'a str,
    pub verdict: &'a PodVerdict,
}

/// A JSON object with its keys in sorted order (as gcloud's JSON printer writes them; the
/// crate's `preserve_order` feature keeps insertion order).
fn sorted(mut entries: Vec<(&str, Value)>) -> Value {
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut map = Map::new();
    for (k, v) in entries {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

fn allowlist_result(pattern: &str) -> Value {
    json!({ "matchedPattern": pattern })
}

fn scope(scope: &ScopeJson) -> Value {
    let mut entries = Vec::new();
    if let Some(ns) = &scope.kubernetes_namespace {
        entries.push(("kubernetesNamespace", json!(ns)));
    }
    if let Some(sa) = &scope.kubernetes_service_account {
        entries.push(("kubernetesServiceAccount", json!(sa)));
    }
    sorted(entries)
}

fn check_result(check: &CheckVerdict) -> Value {
    let mut entries = vec![
        ("index", json!(check.index.to_string())),
        ("type", json!(check.kind)),
        ("explanation", json!(check.explanation)),
    ];
    if let Some(name) = &check.display_name {
        entries.push(("displayName", json!(name)));
    }
    match &check.allowlist_pattern {
        Some(pattern) => entries.push(("allowlistResult", allowlist_result(pattern))),
        None => entries.push((
            "evaluationResult",
            json!({ "verdict": check.verdict.api() }),
        )),
    }
    sorted(entries)
}

fn image_result(image: &ImageVerdict) -> Value {
    let mut entries = vec![
        ("imageUri", json!(image.image)),
        ("verdict", json!(image.verdict.api())),
    ];
    if image.policy_allowlisted
        && let Some(pattern) = &image.allowlist_pattern
    {
        entries.push(("allowlistResult", allowlist_result(pattern)));
    }
    if let Some(explanation) = &image.explanation {
        entries.push(("explanation", json!(explanation)));
    }
    if let Some(set) = &image.check_set {
        let mut set_entries = vec![("index", json!(set.index.to_string()))];
        if let Some(name) = &set.display_name {
            set_entries.push(("displayName", json!(name)));
        }
        if let Some(s) = &set.scope {
            set_entries.push(("scope", scope(s)));
        }
        if !image.policy_allowlisted
            && let Some(pattern) = &image.allowlist_pattern
        {
            set_entries.push(("allowlistResult", allowlist_result(pattern)));
        }
        if let Some(explanation) = &set.explanation {
            set_entries.push(("explanation", json!(explanation)));
        }
        if !image.checks.is_empty() {
            let results: Vec<Value> = image.checks.iter().map(check_result).collect();
            set_entries.push(("checkResults", json!({ "results": results })));
        }
        entries.push(("checkSetResult", sorted(set_entries)));
    }
    sorted(entries)
}

/// `EvaluateGkePolicyResponse` for the given pods (the overall verdict rolls up like a
/// pod's: non-conformant > error > conformant).
pub fn evaluate_response(pods: &[PodDescription<'_>]) -> Value {
    let results: Vec<Value> = pods
        .iter()
        .map(|pod| {
            let mut entries = vec![
                ("verdict", json!(pod.verdict.verdict.api())),
                (
                    "imageResults",
                    Value::Array(pod.verdict.images.iter().map(image_result).collect()),
                ),
            ];
            // Empty strings are absent from the API's JSON (`evaluate --image` pods).
            for (key, value) in [
                ("podName", pod.name),
                ("kubernetesNamespace", pod.namespace),
                ("kubernetesServiceAccount", pod.service_account),
            ] {
                if !value.is_empty() {
                    entries.push((key, json!(value)));
                }
            }
            sorted(entries)
        })
        .collect();
    let verdict = Verdict::roll_up(pods.iter().map(|p| p.verdict.verdict));
    sorted(vec![
        ("results", Value::Array(results)),
        ("verdict", json!(verdict.api())),
    ])
}
