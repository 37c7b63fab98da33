//! `policy diff OLD NEW` (contract §10, §11.8): what a policy change does to every workload of
//! a tree — the same evaluator, two policies, one parse — and which rules changed.

use crate::policy::decision::{Enforcement, ImageDecision};
use crate::policy::{AdmissionRule, EvaluationMode, GlobalMode, Policy, RuleKind};
use crate::report::{Location, PolicyDecision, Report, WorkloadReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The change kinds, in report order.
pub const CHANGES: [&str; 4] = [
    "newly-denied",
    "newly-admitted",
    "newly-dryrun-denied",
    "no-longer-dryrun-denied",
];

/// One changed rule or setting of the policy itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// What changed: `defaultAdmissionRule`, `clusterAdmissionRules.KEY`, `allowlist`, …
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// One workload whose policy decision changes.
#[derive(Clone, Debug)]
pub struct WorkloadChange<'a> {
    pub change: &'static str,
    pub old: &'a WorkloadReport,
    pub new: &'a WorkloadReport,
}

impl WorkloadChange<'_> {
    /// Admitted before (by the policy or break-glass), refused now: this fails the command.
    pub fn breaks(&self) -> bool {
        self.old.admitted != Some(false) && self.new.admitted == Some(false)
    }

    fn breakglass(&self) -> bool {
        self.new.breakglass_effective()
    }
}

/// The whole comparison.
pub struct Diff<'a> {
    pub rules: Vec<RuleChange>,
    pub changes: Vec<WorkloadChange<'a>>,
    /// Workloads evaluated (each under both policies).
    pub workloads: usize,
}

impl Diff<'_> {
    /// Exit code 1 when a workload becomes denied by an enforced rule (break-glass workloads
    /// are listed but stay admitted, so they never fail it).
    pub fn fails(&self) -> bool {
        self.changes.iter().any(WorkloadChange::breaks)
    }

    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = CHANGES.iter().map(|c| (*c, 0)).collect();
        for c in &self.changes {
            *counts.entry(c.change).or_default() += 1;
        }
        counts
    }
}

/// The change named by the pair of policy decisions, if any (contract §11.8).
pub fn classify(old: PolicyDecision, new: PolicyDecision) -> Option<&'static str> {
    use PolicyDecision::{Allow, Deny, DryrunDeny, Unresolved};
    match (old, new) {
        // A Cloud Run verdict this scan cannot take (contract §12.3) that becomes certain.
        (Allow | DryrunDeny | Unresolved, Deny) => Some("newly-denied"),
        (Deny, Allow | DryrunDeny) => Some("newly-admitted"),
        (Allow, DryrunDeny) => Some("newly-dryrun-denied"),
        (DryrunDeny, Allow) => Some("no-longer-dryrun-denied"),
        _ => None,
    }
}

/// Compare two reports of the same tree (same files, same parse, so the same workloads in
/// the same order).
pub fn compare<'a>(
    old_policy: &Policy,
    new_policy: &Policy,
    old: &'a Report,
    new: &'a Report,
) -> Diff<'a> {
    let mut changes: Vec<WorkloadChange<'a>> = old
        .workloads
        .iter()
        .zip(&new.workloads)
        .filter(|(a, b)| a.location == b.location && a.name == b.name && a.kind == b.kind)
        .filter_map(|(a, b)| {
            classify(a.policy_decision, b.policy_decision).map(|change| WorkloadChange {
                change,
                old: a,
                new: b,
            })
        })
        .collect();
    let rank = |c: &str| {
        CHANGES
            .iter()
            .position(|k| *k == c)
            .unwrap_or(CHANGES.len())
    };
    // Grouped by change, then in report order (stable sort keeps it).
    changes.sort_by_key(|c| rank(c.change));
    Diff {
        rules: rule_changes(old_policy, new_policy),
        changes,
        workloads: new.workloads.len(),
    }
}

fn mode(rule: &AdmissionRule) -> String {
    let evaluation = match rule.evaluation {
        EvaluationMode::AlwaysAllow => "ALWAYS_ALLOW",
        EvaluationMode::AlwaysDeny => "ALWAYS_DENY",
        EvaluationMode::RequireAttestation => "REQUIRE_ATTESTATION",
    };
    let enforcement = match rule.enforcement {
        Enforcement::Enforced => "ENFORCED_BLOCK_AND_AUDIT_LOG",
        Enforcement::Dryrun => "DRYRUN_AUDIT_LOG_ONLY",
    };
    if rule.attestors.is_empty() {
        format!("{evaluation}, {enforcement}")
    } else {
        format!(
            "{evaluation} by {}, {enforcement}",
            rule.attestors.join(", ")
        )
    }
}

fn rule_subject(rule: &AdmissionRule) -> String {
    match rule.kind {
        RuleKind::Default => "defaultAdmissionRule".to_string(),
        kind => format!("{}.{}", kind.field(), rule.key),
    }
}

/// Which rules and settings differ between the two policies.
pub fn rule_changes(old: &Policy, new: &Policy) -> Vec<RuleChange> {
    let mut out = Vec::new();
    let global = |p: &Policy| match p.global_mode {
        GlobalMode::Enable => "ENABLE",
        GlobalMode::Disable => "DISABLE",
    };
    if global(old) != global(new) {
        out.push(RuleChange {
            change: "changed",
            subject: "globalPolicyEvaluationMode".to_string(),
            old: Some(global(old).to_string()),
            new: Some(global(new).to_string()),
        });
    }
    let patterns = |p: &Policy| -> Vec<String> {
        p.allowlist.iter().map(|a| a.pattern.text.clone()).collect()
    };
    let (old_patterns, new_patterns) = (patterns(old), patterns(new));
    for removed in old_patterns.iter().filter(|p| !new_patterns.contains(p)) {
        out.push(RuleChange {
            change: "removed",
            subject: "admissionWhitelistPatterns".to_string(),
            old: Some(removed.clone()),
            new: None,
        });
    }
    for added in new_patterns.iter().filter(|p| !old_patterns.contains(p)) {
        out.push(RuleChange {
            change: "added",
            subject: "admissionWhitelistPatterns".to_string(),
            old: None,
            new: Some(added.clone()),
        });
    }
    if mode(&old.default_rule) != mode(&new.default_rule) {
        out.push(RuleChange {
            change: "changed",
            subject: "defaultAdmissionRule".to_string(),
            old: Some(mode(&old.default_rule)),
            new: Some(mode(&new.default_rule)),
        });
    }
    let specific = |p: &Policy| -> BTreeMap<String, String> {
        p.specific
            .iter()
            .map(|r| (rule_subject(r), mode(r)))
            .collect()
    };
    let (old_rules, new_rules) = (specific(old), specific(new));
    for (subject, before) in &old_rules {
        match new_rules.get(subject) {
            None => out.push(RuleChange {
                change: "removed",
                subject: subject.clone(),
                old: Some(before.clone()),
                new: None,
            }),
            Some(after) if after != before => out.push(RuleChange {
                change: "changed",
                subject: subject.clone(),
                old: Some(before.clone()),
                new: Some(after.clone()),
            }),
            Some(_) => {}
        }
    }
    for (subject, after) in &new_rules {
        if !old_rules.contains_key(subject) {
            out.push(RuleChange {
                change: "added",
                subject: subject.clone(),
                old: None,
                new: Some(after.clone()),
            });
        }
    }
    out
}

/// The JSON document of contract §11.8 (plus `old`, `new`, `policyChanges`, `admitted` and
/// image locations), borrowed from the reports and streamed: no JSON tree is built.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    schema_version: u32,
    old: &'a str,
    new: &'a str,
    policy_changes: &'a [RuleChange],
    changes: Vec<ChangeDocument<'a>>,
    summary: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct ChangeDocument<'a> {
    change: &'static str,
    workload: WorkloadDocument<'a>,
    breakglass: bool,
    admitted: Admitted,
    images: Vec<ImageDocument<'a>>,
}

#[derive(Serialize)]
struct WorkloadDocument<'a> {
    kind: &'a str,
    name: &'a str,
    namespace: &'a str,
    location: &'a Location,
}

#[derive(Serialize)]
struct Admitted {
    old: Option<bool>,
    new: Option<bool>,
}

#[derive(Serialize)]
struct ImageDocument<'a> {
    container: &'a str,
    image: &'a str,
    location: &'a Location,
    old: Verdict<'a>,
    new: Verdict<'a>,
}

#[derive(Serialize)]
struct Verdict<'a> {
    decision: crate::policy::decision::Decision,
    reason: crate::policy::decision::Reason,
    rule: Option<&'a str>,
}

impl<'a> Verdict<'a> {
    fn of(v: &'a ImageDecision) -> Self {
        Verdict {
            decision: v.decision,
            reason: v.reason,
            rule: v.rule.as_deref(),
        }
    }
}

pub fn document<'a>(diff: &'a Diff<'a>, old_source: &'a str, new_source: &'a str) -> Document<'a> {
    let changes = diff
        .changes
        .iter()
        .map(|c| ChangeDocument {
            change: c.change,
            workload: WorkloadDocument {
                kind: &c.new.kind,
                name: &c.new.name,
                namespace: &c.new.namespace,
                location: &c.new.location,
            },
            breakglass: c.breakglass(),
            admitted: Admitted {
                old: c.old.admitted,
                new: c.new.admitted,
            },
            images: c
                .old
                .images
                .iter()
                .zip(&c.new.images)
                .map(|(a, b)| ImageDocument {
                    container: &b.container,
                    image: &b.image,
                    location: &b.location,
                    old: Verdict::of(&a.verdict),
                    new: Verdict::of(&b.verdict),
                })
                .collect(),
        })
        .collect();
    Document {
        schema_version: 1,
        old: old_source,
        new: new_source,
        policy_changes: &diff.rules,
        changes,
        summary: diff.counts(),
    }
}

fn decision_text(v: &ImageDecision) -> String {
    let enforcement = match (v.decision, v.enforcement) {
        (crate::policy::decision::Decision::Deny, Some(Enforcement::Dryrun)) => " (dry-run)",
        _ => "",
    };
    format!(
        "{}{enforcement} ({}, {} rule)",
        v.decision.as_str(),
        v.reason.as_str(),
        v.rule.as_deref().unwrap_or("no")
    )
}

fn location_text(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

/// The one-line summary: "2 newly-denied, 0 newly-admitted, … (of N workloads)".
pub fn summary_line(diff: &Diff<'_>) -> String {
    let counts = diff.counts();
    let parts: Vec<String> = CHANGES
        .iter()
        .map(|c| format!("{} {c}", counts.get(c).copied().unwrap_or(0)))
        .collect();
    format!(
        "Policy diff: {} of {} workload{} evaluated under both policies",
        parts.join(", "),
        diff.workloads,
        if diff.workloads == 1 { "" } else { "s" }
    )
}

pub fn render_human(diff: &Diff<'_>, out: &mut dyn Write) -> io::Result<()> {
    let safe = crate::report::human::terminal_safe;
    if diff.rules.is_empty() {
        writeln!(out, "Policy changes: none (the rules are the same)")?;
    } else {
        writeln!(out, "Policy changes:")?;
        for r in &diff.rules {
            let text = match (&r.old, &r.new) {
                (Some(a), Some(b)) => format!("{a} → {b}"),
                (Some(a), None) => a.clone(),
                (None, Some(b)) => b.clone(),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "  {:<8} {}: {}",
                r.change,
                safe(&r.subject),
                safe(&text)
            )?;
        }
    }
    let mut current = "";
    for c in &diff.changes {
        if c.change != current {
            let count = diff.changes.iter().filter(|x| x.change == c.change).count();
            writeln!(out)?;
            writeln!(out, "{} ({count}):", c.change)?;
            current = c.change;
        }
        let w = c.new;
        let note = if c.breakglass() {
            " — break-glass: still admitted"
        } else if c.breaks() {
            " — will be refused"
        } else {
            ""
        };
        writeln!(
            out,
            "  {} {}/{}  {}{note}",
            safe(&w.kind),
            safe(&w.namespace),
            safe(&w.name),
            safe(&location_text(&w.location))
        )?;
        for (a, b) in c.old.images.iter().zip(&c.new.images) {
            let same = a.verdict.decision == b.verdict.decision
                && a.verdict.rule == b.verdict.rule
                && a.verdict.enforcement == b.verdict.enforcement;
            writeln!(
                out,
                "    {} {}: {} {} {}",
                safe(&b.container),
                safe(&b.image),
                safe(&decision_text(&a.verdict)),
                if same { "=" } else { "→" },
                safe(&decision_text(&b.verdict))
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(diff))
}

/// `::error` / `::warning` / `::notice` annotations at the affected images.
pub fn render_github(
    diff: &Diff<'_>,
    paths: &crate::report::paths::RepoPaths,
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::report::github::{escape_data, escape_property};
    for c in &diff.changes {
        let command = match c.change {
            "newly-denied" if c.breaks() => "error",
            "newly-denied" | "newly-dryrun-denied" => "warning",
            _ => "notice",
        };
        for (a, b) in c.old.images.iter().zip(&c.new.images) {
            if a.verdict.decision == b.verdict.decision
                && a.verdict.enforcement == b.verdict.enforcement
            {
                continue;
            }
            let l = &b.location;
            let message = format!(
                "{} {}/{} container {}: {} → {} under the new policy{}",
                c.new.kind,
                c.new.namespace,
                c.new.name,
                b.container,
                decision_text(&a.verdict),
                decision_text(&b.verdict),
                if c.breakglass() {
                    " (break-glass: still admitted)"
                } else {
                    ""
                }
            );
            writeln!(
                out,
                "::{command} file={},line={},col={},title={}::{}",
                escape_property(&paths.repo_relative(&l.file)),
                l.line,
                l.column,
                escape_property(&format!("binauthz-lint policy diff: {}", c.change)),
                escape_data(&message)
            )?;
        }
    }
    Ok(())
}

/// Markdown for the GitHub step summary: the impact table. Nothing when the two policies
/// have the same rules and no decision changes (the Action runs the diff on every PR).
pub fn render_step_summary(diff: &Diff<'_>, out: &mut dyn Write) -> io::Result<()> {
    if diff.rules.is_empty() && diff.changes.is_empty() {
        return Ok(());
    }
    let md = crate::report::github::markdown_text;
    writeln!(out, "## binauthz-lint policy diff")?;
    writeln!(out)?;
    writeln!(out, "{}", md(&summary_line(diff)))?;
    if !diff.rules.is_empty() {
        writeln!(out)?;
        writeln!(out, "| Policy change | Rule | Old | New |")?;
        writeln!(out, "|---|---|---|---|")?;
        for r in &diff.rules {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                r.change,
                md(&r.subject),
                md(r.old.as_deref().unwrap_or("")),
                md(r.new.as_deref().unwrap_or(""))
            )?;
        }
    }
    if !diff.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "| Change | Workload | File | Images (old → new) |")?;
        writeln!(out, "|---|---|---|---|")?;
        for c in &diff.changes {
            let images: Vec<String> = c
                .old
                .images
                .iter()
                .zip(&c.new.images)
                .map(|(a, b)| {
                    format!(
                        "{}: {} → {}",
                        md(&b.image),
                        md(&decision_text(&a.verdict)),
                        md(&decision_text(&b.verdict))
                    )
                })
                .collect();
            writeln!(
                out,
                "| {}{} | {} {}/{} | {} | {} |",
                c.change,
                if c.breakglass() { " (break-glass)" } else { "" },
                md(&c.new.kind),
                md(&c.new.namespace),
                md(&c.new.name),
                md(&location_text(&c.new.location)),
                images.join("<br>")
            )?;
        }
    }
    Ok(())
}
