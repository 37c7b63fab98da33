//! What a workload's admission comes to, read from its entry in the JSON report (contract
//! §2 `workloads[]`, §12, §15): the same value `scan --format json` prints, so a case checks
//! exactly what a scan of the same pod decides, and a field another part of the tool adds
//! (`platform`, `binauthz`, `cv`) is seen here as soon as the scan writes it.
//!
//! The decision of a workload, first match wins:
//! 1. `breakglass`: an effective break-glass marker (`breakglass.effective`: the GKE label
//!    or legacy annotation on the pod template, a Cloud Run justification). The pod is
//!    admitted and logged as break-glass whatever the policy says (semantics §2.2 step 2).
//! 2. `allow`: Cloud Run with Binary Authorization off (`binauthz: "off"`, §12.1): admitted
//!    unchecked.
//! 3. `unresolved`: a Cloud Run platform-policy name (`binauthz: "platform-policy"`,
//!    evaluated online only).
//! 4. `deny`: `admitted: false` (an image denied by an enforced rule).
//! 5. `unresolved`: `admitted: null` (Cloud Run, a tag resolved at deploy under an enforced
//!    REQUIRE_ATTESTATION rule, §12.3).
//! 6. `dryrun`: `policyDecision: "dryrun-deny"` (admitted; the denial by a dry-run rule is
//!    audit-logged).
//! 7. `unresolved`: `policyDecision: "unresolved"` or an image whose `decision` is
//!    `unresolved` (a tag under a dry-run rule: admitted, but not certainly logged).
//! 8. `allow`: otherwise.
//!
//! The rule of a workload is that of its deciding image: the first image denied by an
//! enforced rule (deny), by a dry-run rule (dryrun), unresolved (unresolved), denied at all
//! (breakglass: what it overrides); else the first image that a rule decided; else the first
//! image. Its `images[].rule` (`default`, `cluster:KEY`, `namespace:NS`,
//! `serviceaccount:NS:SA`), or its `reason` when no rule applies (`allowlist`,
//! `system-policy`).
//!
//! The `cv` of a workload is its continuous-validation verdict (§15): `non-conformant` when
//! any platform policy says so, else `undecided` when any does, else `conformant`; `None`
//! when the entry carries no `cv`.

use serde_json::Value;

/// `expect:` of a case, and the decision of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    Dryrun,
    Breakglass,
    Unresolved,
}

impl Decision {
    pub const NAMES: [&'static str; 5] = ["allow", "deny", "dryrun", "breakglass", "unresolved"];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Dryrun => "dryrun",
            Decision::Breakglass => "breakglass",
            Decision::Unresolved => "unresolved",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "allow" => Some(Decision::Allow),
            "deny" => Some(Decision::Deny),
            "dryrun" => Some(Decision::Dryrun),
            "breakglass" => Some(Decision::Breakglass),
            "unresolved" => Some(Decision::Unresolved),
            _ => None,
        }
    }
}

/// What happened to one workload (JSON `actual`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actual {
    pub decision: Decision,
    pub rule: Option<String>,
    pub cv: Option<String>,
}

/// The decision, rule and cv of a workload entry as the JSON report prints it.
pub fn of_workload(workload: &Value) -> Actual {
    let decision = decision(workload);
    Actual {
        decision,
        rule: rule(workload, decision),
        cv: cv(workload),
    }
}

/// The platform a workload entry says it runs on; `None` when the build writes no
/// `platform` (before Cloud Run support, every workload is GKE).
pub fn platform(workload: &Value) -> Option<&str> {
    workload.get("platform").and_then(Value::as_str)
}

fn decision(w: &Value) -> Decision {
    let text = |key: &str| w.get(key).and_then(Value::as_str);
    let breakglass = w
        .get("breakglass")
        .and_then(|b| b.get("effective"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if breakglass {
        return Decision::Breakglass;
    }
    match text("binauthz") {
        Some("off") => return Decision::Allow,
        Some("platform-policy") => return Decision::Unresolved,
        _ => {}
    }
    match w.get("admitted") {
        Some(Value::Bool(false)) => return Decision::Deny,
        Some(Value::Null) => return Decision::Unresolved,
        _ => {}
    }
    match text("policyDecision") {
        Some("dryrun-deny") => Decision::Dryrun,
        Some("unresolved") => Decision::Unresolved,
        _ if images(w).any(|i| image_decision(i) == Some("unresolved")) => Decision::Unresolved,
        _ => Decision::Allow,
    }
}

fn images(w: &Value) -> impl Iterator<Item = &Value> {
    w.get("images")
        .and_then(Value::as_array)
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
}

fn image_decision(image: &Value) -> Option<&str> {
    image.get("decision").and_then(Value::as_str)
}

fn enforcement(image: &Value) -> Option<&str> {
    image.get("enforcement").and_then(Value::as_str)
}

fn rule(w: &Value, decision: Decision) -> Option<String> {
    let denied_by = |mode: &'static str| {
        move |i: &&Value| image_decision(i) == Some("deny") && enforcement(i) == Some(mode)
    };
    let deciding = match decision {
        Decision::Deny => images(w).find(denied_by("enforced")),
        Decision::Dryrun => images(w).find(denied_by("dryrun")),
        Decision::Unresolved => images(w).find(|i| image_decision(i) == Some("unresolved")),
        Decision::Breakglass => images(w).find(|i| image_decision(i) == Some("deny")),
        Decision::Allow => None,
    };
    let image = deciding
        .or_else(|| images(w).find(|i| i.get("rule").is_some_and(|r| !r.is_null())))
        .or_else(|| images(w).next())?;
    image
        .get("rule")
        .and_then(Value::as_str)
        .or_else(|| image.get("reason").and_then(Value::as_str))
        .map(str::to_string)
}

fn cv(w: &Value) -> Option<String> {
    let verdicts: Vec<&str> = w
        .get("cv")?
        .as_array()?
        .iter()
        .filter_map(|p| p.get("verdict").and_then(Value::as_str))
        .collect();
    let worst = ["non-conformant", "undecided", "conformant"]
        .into_iter()
        .find(|v| verdicts.contains(v))?;
    Some(worst.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(decision: &str, rule: Option<&str>, enforcement: Option<&str>, reason: &str) -> Value {
        json!({"decision": decision, "rule": rule, "enforcement": enforcement, "reason": reason})
    }

    #[test]
    fn decisions_follow_the_documented_order() {
        let denied = image("deny", Some("default"), Some("enforced"), "always-deny");
        let cases = [
            (
                json!({"admitted": true, "policyDecision": "allow", "images": [image("allow", Some("default"), Some("enforced"), "always-allow")]}),
                Decision::Allow,
                Some("default"),
            ),
            (
                json!({"admitted": false, "policyDecision": "deny", "images": [denied]}),
                Decision::Deny,
                Some("default"),
            ),
            (
                json!({"admitted": true, "policyDecision": "deny", "breakglass": {"effective": true}, "images": [image("deny", Some("namespace:prod"), Some("enforced"), "always-deny")]}),
                Decision::Breakglass,
                Some("namespace:prod"),
            ),
            (
                json!({"admitted": true, "policyDecision": "dryrun-deny", "images": [image("allow", None, None, "allowlist"), image("deny", Some("namespace:batch"), Some("dryrun"), "always-deny")]}),
                Decision::Dryrun,
                Some("namespace:batch"),
            ),
            (
                json!({"admitted": null, "policyDecision": "unresolved", "images": [image("unresolved", Some("default"), Some("enforced"), "tag-resolved-at-deploy")]}),
                Decision::Unresolved,
                Some("default"),
            ),
            (
                json!({"admitted": true, "policyDecision": "allow", "images": [image("unresolved", Some("default"), Some("dryrun"), "tag-resolved-at-deploy")]}),
                Decision::Unresolved,
                Some("default"),
            ),
            (
                json!({"admitted": true, "binauthz": "off", "policyDecision": "deny", "images": [image("deny", Some("default"), Some("enforced"), "always-deny")]}),
                Decision::Allow,
                Some("default"),
            ),
            (
                json!({"admitted": true, "binauthz": "platform-policy", "images": []}),
                Decision::Unresolved,
                None,
            ),
            (
                json!({"admitted": true, "policyDecision": "allow", "images": [image("allow", None, None, "system-policy")]}),
                Decision::Allow,
                Some("system-policy"),
            ),
            (
                json!({"admitted": true, "policyDecision": "allow", "breakglass": {"effective": false}, "images": [image("allow", None, None, "allowlist"), image("allow", Some("cluster:us-central1.prod"), Some("enforced"), "attested")]}),
                Decision::Allow,
                Some("cluster:us-central1.prod"),
            ),
        ];
        for (workload, decision, rule) in cases {
            let actual = of_workload(&workload);
            assert_eq!(actual.decision, decision, "{workload}");
            assert_eq!(actual.rule.as_deref(), rule, "{workload}");
            assert_eq!(actual.cv, None);
        }
    }

    #[test]
    fn cv_is_the_worst_verdict() {
        let w =
            json!({"admitted": true, "cv": [{"verdict": "conformant"}, {"verdict": "undecided"}]});
        assert_eq!(of_workload(&w).cv.as_deref(), Some("undecided"));
        let w = json!({"admitted": true, "cv": [{"verdict": "non-conformant"}, {"verdict": "undecided"}]});
        assert_eq!(of_workload(&w).cv.as_deref(), Some("non-conformant"));
        let w = json!({"admitted": true, "cv": []});
        assert_eq!(of_workload(&w).cv, None);
    }
}
