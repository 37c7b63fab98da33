//! Approved exceptions (contract §7, §11.4–5): a live entry of the config's `exceptions:`
//! downgrades the findings it matches to notes with a `suppression` (they stay in every
//! report, so the audit trail keeps every approved break-glass visible); entries that expire,
//! are about to, or match nothing become findings at the entry.

pub use crate::report::Suppression;
use crate::report::{Finding, Location, Report, WorkloadReport};
use crate::rules::Level;
use crate::settings::config::{Config, Date, Exception};
use std::collections::HashMap;
use std::path::Path;

/// Days before `expires` from which an entry is reported as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 7;

/// The identity of the workload behind a finding, as exceptions match it.
struct Subject<'a> {
    kind: Option<&'a str>,
    name: Option<&'a str>,
    namespace: Option<&'a str>,
    context: Option<&'a str>,
    /// The finding's file, relative to the config's folder (`None` outside it or stdin).
    path: Option<String>,
    /// Image findings: their container; workload findings: every container of the workload.
    containers: Vec<&'a str>,
    images: Vec<&'a str>,
}

fn matches(exception: &Exception, finding: &Finding, subject: &Subject<'_>) -> bool {
    let m = &exception.matcher;
    exception.rules.iter().any(|r| r == finding.rule_id)
        && m.kind.as_deref().is_none_or(|k| subject.kind == Some(k))
        && (m.name.is_none() || subject.name.is_some_and(|n| m.name_matches(n)))
        && m.namespace
            .as_deref()
            .is_none_or(|ns| subject.namespace == Some(ns))
        && m.context
            .as_deref()
            .is_none_or(|c| subject.context == Some(c))
        && m.path_matches(subject.path.as_deref())
        && m.container
            .as_deref()
            .is_none_or(|c| subject.containers.contains(&c))
        && m.image.as_deref().is_none_or(|prefix| {
            subject
                .images
                .iter()
                .any(|image| crate::settings::config::ExceptionMatch::image_matches(prefix, image))
        })
}

fn entry_location(config: &Config, exception: &Exception) -> Location {
    let span = exception.span;
    Location {
        file: config.display.clone(),
        line: span.start.line.max(1),
        column: span.start.column.max(1),
        document: 0,
        end_line: span.start.line.max(1),
        end_column: span.start.column.max(1),
    }
}

fn entry_finding(
    config: &Config,
    exception: &Exception,
    rule_id: &'static str,
    level: Level,
    message: String,
) -> Finding {
    let location = entry_location(config, exception);
    let snippet = config
        .text
        .split('\n')
        .nth(location.line as usize - 1)
        .map(|l| l.trim_end_matches('\r').chars().take(400).collect());
    let mut finding = Finding::new(rule_id, level, message, location);
    finding.snippet = snippet;
    finding
}

/// Apply the config's exceptions to a finished report (before fingerprints are assigned).
/// `cwd` anchors the report's relative file paths. `whole_tree`: the scan covered the
/// config's whole folder, so an entry that matches nothing is really unused (a pre-commit
/// run over a few changed files must not call every other entry unused).
pub fn apply(report: &mut Report, config: &Config, today: Date, cwd: &Path, whole_tree: bool) {
    if config.exceptions.is_empty() {
        return;
    }
    let today_days = today.days();
    // Workloads by (file, kind, namespace, name): a workload-level finding (break-glass)
    // matches `container` / `image` through the workload's containers.
    let mut workloads: HashMap<(&str, &str, &str, &str), &WorkloadReport> = HashMap::new();
    for w in &report.workloads {
        workloads
            .entry((&w.location.file, &w.kind, &w.namespace, &w.name))
            .or_insert(w);
    }
    let mut used = vec![0usize; config.exceptions.len()];
    let mut decisions: Vec<Option<usize>> = Vec::with_capacity(report.findings.len());
    for finding in &report.findings {
        let workload = finding.workload.as_ref();
        let owner = workload.and_then(|w| {
            workloads
                .get(&(
                    finding.location.file.as_str(),
                    w.kind.as_str(),
                    w.namespace.as_str(),
                    w.name.as_str(),
                ))
                .copied()
        });
        let (containers, images) = match (&finding.container, &finding.image, owner) {
            (Some(c), image, _) => (vec![c.as_str()], image.iter().map(String::as_str).collect()),
            (None, _, Some(w)) => (
                w.images.iter().map(|i| i.container.as_str()).collect(),
                w.images.iter().map(|i| i.image.as_str()).collect(),
            ),
            (None, image, None) => (Vec::new(), image.iter().map(String::as_str).collect()),
        };
        let abs = crate::report::paths::normalize(&cwd.join(&finding.location.file));
        let subject = Subject {
            kind: workload.map(|w| w.kind.as_str()),
            name: workload.map(|w| w.name.as_str()),
            namespace: workload.map(|w| w.namespace.as_str()),
            context: workload.and_then(|w| w.context.as_deref()),
            path: (finding.location.file != "<stdin>")
                .then(|| config.relative(&abs))
                .flatten(),
            containers,
            images,
        };
        let hit = config
            .exceptions
            .iter()
            .position(|e| matches(e, finding, &subject));
        if let Some(count) = hit.and_then(|i| used.get_mut(i)) {
            *count += 1;
        }
        decisions.push(hit);
    }

    // (file, kind, namespace, name) → the exception approving that workload's break-glass.
    let mut approved_workloads: HashMap<(String, String, String, String), String> = HashMap::new();
    for (finding, decision) in report.findings.iter_mut().zip(&decisions) {
        let Some(exception) = decision.and_then(|i| config.exceptions.get(i)) else {
            continue;
        };
        let days_left = exception.expires.days() - today_days;
        if days_left < 0 {
            // Expired: the finding keeps its level and gets no suppression.
            continue;
        }
        finding.level = Level::Note;
        finding.suppression = Some(Suppression {
            exception_id: exception.id.clone(),
            reason: exception.reason.clone(),
            owner: exception.owner.clone(),
            ticket: exception.ticket.clone(),
            expires: exception.expires.to_string(),
            location: entry_location(config, exception),
            days_left,
        });
        if let (true, Some(w)) = (finding.rule_id == "breakglass-used", &finding.workload) {
            approved_workloads
                .entry((
                    finding.location.file.clone(),
                    w.kind.clone(),
                    w.namespace.clone(),
                    w.name.clone(),
                ))
                .or_insert_with(|| exception.id.clone());
        }
    }
    if !approved_workloads.is_empty() {
        for w in &mut report.workloads {
            let key = (
                w.location.file.clone(),
                w.kind.clone(),
                w.namespace.clone(),
                w.name.clone(),
            );
            w.approved_by = approved_workloads.get(&key).cloned();
        }
        report.audit_events = crate::report::audit::events(&report.workloads);
    }

    for (exception, count) in config.exceptions.iter().zip(&used) {
        let days_left = exception.expires.days() - today_days;
        let covers = exception.rules.join(", ");
        if days_left < 0 {
            let ago = -days_left;
            report.findings.push(entry_finding(
                config,
                exception,
                "exception-expired",
                Level::Error,
                format!(
                    "exception `{}` expired on {} ({ago} day{} ago): the {count} finding{} it matches ({covers}) count again; renew it with a new review or remove the entry",
                    exception.id,
                    exception.expires,
                    if ago == 1 { "" } else { "s" },
                    if *count == 1 { "" } else { "s" },
                ),
            ));
            continue;
        }
        if days_left <= EXPIRING_WITHIN_DAYS {
            let when = match days_left {
                0 => "today (its last valid day)".to_string(),
                1 => "tomorrow".to_string(),
                n => format!("in {n} days"),
            };
            report.findings.push(entry_finding(
                config,
                exception,
                "exception-expiring",
                Level::Note,
                format!(
                    "exception `{}` expires {when}, on {}: after that the findings it approves fail again",
                    exception.id, exception.expires
                ),
            ));
        }
        if *count == 0 && whole_tree {
            report.findings.push(entry_finding(
                config,
                exception,
                "exception-unused",
                Level::Warning,
                format!(
                    "exception `{}` matches no finding of this scan ({covers}): the workload was fixed, renamed or moved; remove the entry",
                    exception.id
                ),
            ));
        }
    }
    report.finish();
}
