//! `binauthz-lint policy show SOURCE`: the policy as `gcloud container binauthz policy
//! export` prints it (keys sorted), whatever source it was read from, ready for `gcloud
//! container binauthz policy import`.

use serde_json::{Map, Value, json};

use super::{AdmissionRule, EvaluationMode, GlobalMode, Policy, RuleKind};
use crate::policy::decision::Enforcement;

fn rule(r: &AdmissionRule) -> Value {
    let mut m = Map::new();
    m.insert(
        "enforcementMode".into(),
        json!(match r.enforcement {
            Enforcement::Enforced => "ENFORCED_BLOCK_AND_AUDIT_LOG",
            Enforcement::Dryrun => "DRYRUN_AUDIT_LOG_ONLY",
        }),
    );
    m.insert(
        "evaluationMode".into(),
        json!(match r.evaluation {
            EvaluationMode::AlwaysAllow => "ALWAYS_ALLOW",
            EvaluationMode::AlwaysDeny => "ALWAYS_DENY",
            EvaluationMode::RequireAttestation => "REQUIRE_ATTESTATION",
        }),
    );
    if !r.attestors.is_empty() {
        m.insert("requireAttestationsBy".into(), json!(r.attestors));
    }
    Value::Object(m)
}

/// The export shape as JSON, keys sorted.
pub fn to_json(policy: &Policy) -> Value {
    let mut top: std::collections::BTreeMap<&str, Value> = Default::default();
    if !policy.allowlist.is_empty() {
        top.insert(
            "admissionWhitelistPatterns",
            Value::Array(
                policy
                    .allowlist
                    .iter()
                    .map(|p| json!({"namePattern": p.pattern.text}))
                    .collect(),
            ),
        );
    }
    for kind in [
        RuleKind::Cluster,
        RuleKind::Namespace,
        RuleKind::ServiceAccount,
        RuleKind::Istio,
    ] {
        let rules: std::collections::BTreeMap<&str, Value> = policy
            .specific
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| (r.key.as_str(), rule(r)))
            .collect();
        if !rules.is_empty() {
            top.insert(
                kind.field(),
                Value::Object(rules.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            );
        }
    }
    top.insert("defaultAdmissionRule", rule(&policy.default_rule));
    if let Some(d) = &policy.description {
        top.insert("description", json!(d));
    }
    if policy.global_mode_written {
        top.insert(
            "globalPolicyEvaluationMode",
            json!(match policy.global_mode {
                GlobalMode::Enable => "ENABLE",
                GlobalMode::Disable => "DISABLE",
            }),
        );
    }
    if let Some(p) = policy.project() {
        top.insert("name", json!(format!("projects/{p}/policy")));
    }
    Value::Object(top.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// `--format json`: two-space indentation and a final newline, as gcloud prints it.
pub fn render_json(policy: &Policy) -> String {
    let mut out = serde_json::to_string_pretty(&to_json(policy)).unwrap_or_default();
    out.push('\n');
    out
}

/// `--format yaml` (the default): block style, lists not indented under their key, as
/// gcloud prints it.
pub fn render_yaml(policy: &Policy) -> String {
    let mut out = String::new();
    yaml_value(&to_json(policy), 0, &mut out);
    out
}

fn yaml_value(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", scalar(k)));
                        yaml_value(v, indent + 2, out);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        out.push_str(&format!("{pad}{}:\n", scalar(k)));
                        yaml_value(v, indent, out);
                    }
                    _ => out.push_str(&format!("{pad}{}: {}\n", scalar(k), inline(v))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // `- key: value` then the other keys under it.
                        let mut first = true;
                        for (k, v) in map {
                            let lead = if first {
                                format!("{pad}- ")
                            } else {
                                format!("{pad}  ")
                            };
                            first = false;
                            out.push_str(&format!("{lead}{}: {}\n", scalar(k), inline(v)));
                        }
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", inline(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other))),
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        Value::Object(o) if o.is_empty() => "{}".to_string(),
        other => other.to_string(),
    }
}

/// A string plain when YAML reads it back as the same string, else single-quoted.
fn scalar(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@*+ ,()".contains(c))
        && !s.starts_with(['*', '-', ':', '@', '.', ' '])
        && !s.ends_with([':', ' '])
        && !s.contains(": ")
        && !s.contains(" #")
        && crate::yaml::resolve_plain(s) == crate::yaml::ScalarKind::Str;
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trips_through_the_loader() {
        let text = "admissionWhitelistPatterns:\n- namePattern: gcr.io/google_containers/*\n- namePattern: 'on'\ndefaultAdmissionRule:\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  evaluationMode: REQUIRE_ATTESTATION\n  requireAttestationsBy:\n  - projects/p/attestors/a\nclusterAdmissionRules:\n  us-central1.prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: DRYRUN_AUDIT_LOG_ONLY\ndescription: 'yes: it is'\nglobalPolicyEvaluationMode: ENABLE\nname: projects/p/policy\n";
        let loaded = crate::policy::load_policy_str(text, "p.yaml").expect("loads");
        let shown = render_yaml(&loaded.policy);
        assert!(shown.starts_with("admissionWhitelistPatterns:\n- namePattern: gcr.io/google_containers/*\n- namePattern: 'on'\nclusterAdmissionRules:\n  us-central1.prod:\n"), "{shown}");
        let again = crate::policy::load_policy_str(&shown, "shown.yaml").expect("reloads");
        assert_eq!(render_yaml(&again.policy), shown);
        assert_eq!(to_json(&again.policy), to_json(&loaded.policy));
    }
}
