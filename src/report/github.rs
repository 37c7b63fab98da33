//! `--format github`: GitHub Actions workflow commands (`::error file=…,line=…::message`),
//! one per finding, and the Markdown job summary written to `$GITHUB_STEP_SUMMARY`.
//!
//! Escaping follows the Actions runner (`ActionCommand`): in the message (data) `%`, `\r` and
//! `\n` are percent-encoded; in property values `:` and `,` are too.

use super::paths::{RepoPaths, Resolved};
use super::{Finding, Report};
use crate::policy::decision::Decision;
use crate::rules::{self, Level};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Options for the GitHub renderers.
#[derive(Clone, Debug)]
pub struct GithubOptions {
    /// Annotation paths are relative to the repository root (the workflow's checkout).
    pub paths: RepoPaths,
}

/// Escape the message of a workflow command.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escape a property value of a workflow command.
pub fn escape_property(text: &str) -> String {
    // The data escapes first (they introduce no `:` or `,`), then the property-only ones.
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "notice",
    }
}

/// The `file=` of an annotation: the repository-relative path, for files in the repository
/// only. GitHub cannot place an absolute path (a policy outside the checkout) or standard
/// input; those annotations have no `file=` and name the place in the message instead.
fn annotation_path(file: &str, paths: &RepoPaths) -> Option<String> {
    match paths.resolve(file) {
        Resolved::InRoot(rel) => Some(rel),
        Resolved::Stdin | Resolved::Outside(_) => None,
    }
}

/// `path:line:col` for a message (repository-relative, absolute outside it, `<stdin>`).
fn location_text(loc: &super::Location, paths: &RepoPaths) -> String {
    format!(
        "{}:{}:{}",
        paths.repo_relative(&loc.file),
        loc.line.max(1),
        loc.column.max(1)
    )
}

/// GitHub displays at most this many annotations of each level per step; the rest are
/// dropped without a word, so the renderer chooses which ones are shown.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// Workflow commands for the findings: errors first, then warnings, then notes (each in
/// report order), at most [`ANNOTATIONS_PER_LEVEL`] of each. When some are left out, a
/// final notice says how many and where to see them all (the step summary and code
/// scanning have every finding); it takes the place of the tenth note when needed, so it
/// is always displayed.
pub fn render(report: &Report, options: &GithubOptions, out: &mut dyn Write) -> io::Result<()> {
    // PR mode / baseline: annotate what the change introduces; unchanged findings stay in
    // SARIF and the JSON report.
    let annotated: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.baseline_state != Some("unchanged"))
        .collect();
    let of_level = |level: Level| -> Vec<&Finding> {
        annotated
            .iter()
            .copied()
            .filter(|f| f.level == level)
            .collect()
    };
    let (errors, warnings, notes) = (
        of_level(Level::Error),
        of_level(Level::Warning),
        of_level(Level::Note),
    );
    let over = |list: &[&Finding]| list.len().saturating_sub(ANNOTATIONS_PER_LEVEL);
    let truncated = over(&errors) + over(&warnings) + over(&notes) > 0;
    let note_cap = if truncated {
        ANNOTATIONS_PER_LEVEL - 1
    } else {
        ANNOTATIONS_PER_LEVEL
    };
    let mut left_out = Vec::new();
    for (list, cap, name) in [
        (&errors, ANNOTATIONS_PER_LEVEL, "error"),
        (&warnings, ANNOTATIONS_PER_LEVEL, "warning"),
        (&notes, note_cap, "note"),
    ] {
        for finding in list.iter().take(cap) {
            writeln!(out, "{}", annotation(finding, &options.paths))?;
        }
        let rest = list.len().saturating_sub(cap);
        if rest > 0 {
            left_out.push(format!("{rest} {name}{}", if rest == 1 { "" } else { "s" }));
        }
    }
    if !left_out.is_empty() {
        let total = annotated.len()
            - (errors.len().min(ANNOTATIONS_PER_LEVEL)
                + warnings.len().min(ANNOTATIONS_PER_LEVEL)
                + notes.len().min(note_cap));
        writeln!(
            out,
            "::notice title={}::{}",
            escape_property("binauthz-lint: more findings"),
            escape_data(&format!(
                "{total} more: see the step summary / code scanning ({} not annotated; GitHub shows at most {ANNOTATIONS_PER_LEVEL} annotations of each level per step)",
                left_out.join(", ")
            ))
        )?;
    }
    Ok(())
}

/// An invalid policy (exit code 2): an `::error` at each of its errors, so the check
/// points at the line to fix although nothing was scanned.
pub fn policy_error(
    diagnostics: &[crate::policy::PolicyDiagnostic],
    paths: &RepoPaths,
    out: &mut dyn Write,
) -> io::Result<()> {
    for d in diagnostics
        .iter()
        .filter(|d| d.severity == crate::policy::Severity::Error)
    {
        let finding = policy_finding(d);
        if d.line == 0 {
            // No position (the file is missing or unreadable): no file to annotate.
            writeln!(
                out,
                "::error title={}::{}",
                escape_property(&format!("{} (binauthz-lint)", finding.rule_id)),
                escape_data(&finding.message)
            )?;
        } else {
            writeln!(out, "{}", annotation(&finding, paths))?;
        }
    }
    Ok(())
}

fn policy_finding(d: &crate::policy::PolicyDiagnostic) -> Finding {
    let line = d.line.max(1);
    let column = d.column.max(1);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str(&format!(" ({help})"));
    }
    Finding::new(
        d.rule_id,
        Level::Error,
        message,
        super::Location {
            file: d.file.clone(),
            line,
            column,
            document: 0,
            end_line: d.end_line.max(line),
            end_column: d.end_column.max(column),
        },
    )
}

/// The job summary of a run that stopped at an invalid policy: what to fix, where.
pub fn policy_error_summary(
    diagnostics: &[crate::policy::PolicyDiagnostic],
    display: &str,
    paths: &RepoPaths,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "## binauthz-lint")?;
    writeln!(out)?;
    writeln!(
        out,
        "**The policy {} is invalid: nothing was scanned.** Fix the following and run again (`binauthz-lint policy validate {}` shows the same locally):",
        markdown_text(&paths.repo_relative(display)),
        markdown_text(&paths.repo_relative(display))
    )?;
    writeln!(out)?;
    writeln!(out, "| Where | Problem |")?;
    writeln!(out, "|---|---|")?;
    for d in diagnostics
        .iter()
        .filter(|d| d.severity == crate::policy::Severity::Error)
    {
        let f = policy_finding(d);
        let where_ = if d.line > 0 {
            format!(
                "{}:{}:{}",
                paths.repo_relative(&f.location.file),
                f.location.line,
                f.location.column
            )
        } else {
            paths.repo_relative(&f.location.file)
        };
        writeln!(
            out,
            "| {} | {} |",
            markdown_text(&where_),
            markdown_text(&f.message)
        )?;
    }
    writeln!(out)
}

/// The workflow command of one finding.
pub fn annotation(finding: &Finding, paths: &RepoPaths) -> String {
    let loc = &finding.location;
    let mut props: Vec<(&str, String)> = Vec::new();
    let placed = annotation_path(&loc.file, paths);
    let mut message = match &placed {
        Some(_) => finding.message.clone(),
        None => format!("{}: {}", location_text(loc, paths), finding.message),
    };
    if let Some(path) = placed {
        let line = loc.line.max(1);
        let end_line = loc.end_line.max(line);
        props.push(("file", path));
        props.push(("line", line.to_string()));
        props.push(("endLine", end_line.to_string()));
        // GitHub only honours columns on single-line annotations.
        if end_line == line {
            props.push(("col", loc.column.max(1).to_string()));
            if loc.end_column > loc.column {
                props.push(("endColumn", loc.end_column.to_string()));
            }
        }
    }
    props.push(("title", format!("{} (binauthz-lint)", finding.rule_id)));
    let props: Vec<String> = props
        .into_iter()
        .map(|(k, v)| format!("{k}={}", escape_property(&v)))
        .collect();
    for related in &finding.related {
        let where_ = match paths.resolve(&related.location.file) {
            Resolved::InRoot(path) => format!(
                " ({}:{}:{})",
                path, related.location.line, related.location.column
            ),
            Resolved::Stdin | Resolved::Outside(_) => {
                format!(" ({})", location_text(&related.location, paths))
            }
        };
        message.push_str(&format!("\nnote: {}{where_}", related.message));
    }
    format!(
        "::{} {}::{}",
        command(finding.level),
        props.join(","),
        escape_data(&message)
    )
}

/// Escape text for a GitHub-flavoured Markdown table cell or inline text (never at the start
/// of a line): the ASCII punctuation that can start markup there (emphasis, code, links,
/// HTML, entities, strikethrough, math, cell breaks) is backslash-escaped and line breaks
/// become spaces, so manifest content is shown literally.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Rows shown per table before "… and N more".
const MAX_ROWS: usize = 100;

/// The Markdown job summary: counts, denied workloads, break-glass workloads, findings by
/// rule. The binary appends it to `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(
    report: &Report,
    options: &GithubOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let s = &report.summary;
    let paths = &options.paths;
    writeln!(out, "## binauthz-lint")?;
    writeln!(out)?;
    writeln!(
        out,
        "Policy: {}",
        markdown_text(&match paths.resolve(&report.policy.display) {
            Resolved::InRoot(rel) if report.policy.display != "<built-in default>" => rel,
            _ => report.policy.display.clone(),
        })
    )?;
    writeln!(out)?;
    for notice in &report.policy_notices {
        writeln!(out, "> {}", markdown_text(notice))?;
        writeln!(out)?;
    }
    if let (Some(new), Some(unchanged), Some(absent)) = (s.new, s.unchanged, s.absent) {
        writeln!(
            out,
            "**{new} new, {unchanged} unchanged, {absent} resolved by this PR** (only new findings fail the check)"
        )?;
        writeln!(out)?;
    }
    writeln!(out, "| | count |")?;
    writeln!(out, "|---|---:|")?;
    for (label, count) in [
        ("Files scanned", s.files - s.skipped_files.min(s.files)),
        ("Files skipped", s.skipped_files),
        ("Workloads", s.workloads),
        ("Workloads denied", s.denied),
        ("Admitted only because the rule is dry-run", s.dryrun_denied),
        ("Break-glass used", s.breakglass),
        ("Errors", s.findings.error),
        ("Warnings", s.findings.warning),
        ("Notes", s.findings.note),
    ] {
        writeln!(out, "| {label} | {count} |")?;
    }
    // Continuous validation: only with platform policies (contract §15).
    if let (Some(non_conformant), Some(undecided)) = (s.cv_non_conformant, s.cv_undecided) {
        writeln!(
            out,
            "| Workloads continuous validation will log (non-conformant) | {non_conformant} |"
        )?;
        writeln!(
            out,
            "| Workloads with checks decided only online | {undecided} |"
        )?;
    }
    // Cloud Run (contract §12): rows only when there is any, so GKE-only output is unchanged.
    if s.platforms.cloudrun > 0 {
        writeln!(
            out,
            "| Cloud Run services and jobs | {} |",
            s.platforms.cloudrun
        )?;
        writeln!(
            out,
            "| Unresolved (tag resolved at deploy, or a platform policy) | {} |",
            s.unresolved
        )?;
    }

    let denied: Vec<_> = report
        .workloads
        .iter()
        .filter(|w| w.admitted == Some(false))
        .collect();
    if !denied.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Workloads denied")?;
        writeln!(out)?;
        writeln!(out, "| Workload | Namespace | File | Denied images |")?;
        writeln!(out, "|---|---|---|---|")?;
        for w in denied.iter().take(MAX_ROWS) {
            let images: Vec<String> = w
                .images
                .iter()
                .filter(|i| i.verdict.decision == Decision::Deny)
                .map(|i| {
                    format!(
                        "{} ({}, {} rule)",
                        markdown_text(&i.image),
                        i.verdict.reason.as_str(),
                        markdown_text(i.verdict.rule.as_deref().unwrap_or("default"))
                    )
                })
                .collect();
            writeln!(
                out,
                "| {} | {} | {}:{} | {} |",
                workload_cell(w, &report.workloads),
                markdown_text(&w.namespace),
                markdown_text(&paths.repo_relative(&w.location.file)),
                w.location.line,
                images.join("<br>")
            )?;
        }
        more(out, denied.len())?;
    }

    let approved = report.approved_uses();
    if !approved.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Approved exceptions")?;
        writeln!(out)?;
        writeln!(
            out,
            "| Workload | Rule | Exception | Owner | Ticket | Expires | Days left |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---:|")?;
        for a in approved.iter().take(MAX_ROWS) {
            let s = a.suppression;
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                markdown_text(&a.what),
                a.finding.rule_id,
                markdown_text(&s.exception_id),
                markdown_text(s.owner.as_deref().unwrap_or("")),
                markdown_text(s.ticket.as_deref().unwrap_or("")),
                s.expires,
                s.days_left
            )?;
        }
        more(out, approved.len())?;
    }

    let breakglass: Vec<_> = report
        .workloads
        .iter()
        .filter(|w| w.breakglass.as_ref().is_some_and(|b| b.effective))
        .collect();
    if !breakglass.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Break-glass used")?;
        writeln!(out)?;
        writeln!(out, "| Workload | Namespace | Marker | Overrides |")?;
        writeln!(out, "|---|---|---|---|")?;
        for w in breakglass.iter().take(MAX_ROWS) {
            let marker = w
                .breakglass
                .iter()
                .flat_map(|b| &b.sources)
                .find(|m| m.effective);
            let marker = match marker {
                // Cloud Run: the justification is what reviewers need to read.
                Some(m) if m.kind == "justification" => format!(
                    "justification \"{}\" at {}:{}",
                    markdown_text(&m.value),
                    markdown_text(&paths.repo_relative(&m.location.file)),
                    m.location.line
                ),
                Some(m) => format!(
                    "{} {} at {}:{}",
                    m.kind,
                    markdown_text(&m.key),
                    markdown_text(&paths.repo_relative(&m.location.file)),
                    m.location.line
                ),
                None => String::new(),
            };
            let overridden: Vec<String> = w
                .images
                .iter()
                .filter(|i| i.verdict.decision == Decision::Deny)
                .map(|i| markdown_text(&i.image))
                .collect();
            let cv_note = if w.cv_verdict() == Some(crate::policy::platform::Verdict::NonConformant)
            {
                "<br>(continuous validation will still log this pod)"
            } else {
                ""
            };
            writeln!(
                out,
                "| {} | {} | {} | {}{cv_note} |",
                workload_cell(w, &report.workloads),
                markdown_text(&w.namespace),
                marker,
                if overridden.is_empty() {
                    "nothing (no image was denied)".to_string()
                } else {
                    overridden.join("<br>")
                }
            )?;
        }
        more(out, breakglass.len())?;
    }

    let mut by_rule: BTreeMap<&str, (Level, usize)> = BTreeMap::new();
    for f in &report.findings {
        by_rule.entry(f.rule_id).or_insert((f.level, 0)).1 += 1;
    }
    if !by_rule.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Findings by rule")?;
        writeln!(out)?;
        writeln!(out, "| Rule | Level | Count |")?;
        writeln!(out, "|---|---|---:|")?;
        for (rule_id, (level, count)) in &by_rule {
            let name = match rules::find(rule_id) {
                Some(rule) => format!("[{}]({})", markdown_text(rule_id), rule.help_uri()),
                None => markdown_text(rule_id),
            };
            writeln!(out, "| {name} | {} | {count} |", level.as_str())?;
        }
    }

    // Code scanning and annotations cannot place these on a file of the checkout: say so
    // here, with the place, so that they are not lost (SARIF has them as notifications).
    let unplaced: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| annotation_path(&f.location.file, paths).is_none())
        .collect();
    if !unplaced.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Findings outside the repository")?;
        writeln!(out)?;
        writeln!(
            out,
            "These are in files outside the checkout (or standard input), so code scanning cannot show them on a file; the SARIF report lists them under `toolExecutionNotifications`."
        )?;
        writeln!(out)?;
        writeln!(out, "| Location | Rule | Level | Message |")?;
        writeln!(out, "|---|---|---|---|")?;
        for f in unplaced.iter().take(MAX_ROWS) {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                markdown_text(&location_text(&f.location, paths)),
                markdown_text(f.rule_id),
                f.level.as_str(),
                markdown_text(&f.message)
            )?;
        }
        more(out, unplaced.len())?;
    }
    writeln!(out)
}

/// `Kind name`, with the pod template's route when the object has several (two RayService
/// worker groups are two rows that must not read as one workload listed twice).
fn workload_cell(
    w: &crate::report::WorkloadReport,
    all: &[crate::report::WorkloadReport],
) -> String {
    let shared = all
        .iter()
        .filter(|o| {
            o.kind == w.kind
                && o.name == w.name
                && o.namespace == w.namespace
                && o.location.file == w.location.file
                && o.location.document == w.location.document
        })
        .take(2)
        .count()
        > 1;
    if shared && !w.route.is_empty() {
        format!(
            "{} {} ({})",
            markdown_text(w.display_kind()),
            markdown_text(&w.name),
            markdown_text(&w.route)
        )
    } else {
        format!(
            "{} {}",
            markdown_text(w.display_kind()),
            markdown_text(&w.name)
        )
    }
}

fn more(out: &mut dyn Write, total: usize) -> io::Result<()> {
    if total > MAX_ROWS {
        writeln!(out)?;
        writeln!(
            out,
            "… and {} more (see the full report).",
            total - MAX_ROWS
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, Related};
    use std::path::Path;

    fn paths() -> RepoPaths {
        RepoPaths::new(Path::new("/repo"), Path::new("/repo"))
    }

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
    }

    #[test]
    fn columns_only_on_single_line_spans() {
        let mut f = Finding::new(
            "manifest-invalid",
            Level::Error,
            "bad".to_string(),
            Location {
                file: "a.yaml".to_string(),
                line: 3,
                column: 5,
                document: 0,
                end_line: 4,
                end_column: 2,
            },
        );
        assert_eq!(
            annotation(&f, &paths()),
            "::error file=a.yaml,line=3,endLine=4,title=manifest-invalid (binauthz-lint)::bad"
        );
        f.location.end_line = 3;
        f.location.end_column = 9;
        f.level = Level::Note;
        f.related.push(Related {
            message: "see".to_string(),
            location: Location::file_start("b.yaml"),
        });
        assert_eq!(
            annotation(&f, &paths()),
            "::notice file=a.yaml,line=3,endLine=3,col=5,endColumn=9,title=manifest-invalid (binauthz-lint)::bad%0Anote: see (b.yaml:1:1)"
        );
    }

    #[test]
    fn stdin_has_no_file() {
        let f = Finding::new(
            "manifest-invalid",
            Level::Warning,
            "bad".to_string(),
            Location::file_start("<stdin>"),
        );
        assert_eq!(
            annotation(&f, &paths()),
            "::warning title=manifest-invalid (binauthz-lint)::<stdin>:1:1: bad"
        );
    }

    fn report_of(levels: &[(Level, usize)]) -> Report {
        let mut report = Report::new("p.yaml");
        for (level, count) in levels {
            for i in 0..*count {
                report.findings.push(Finding::new(
                    "manifest-invalid",
                    *level,
                    format!("{} {i}", level.as_str()),
                    Location::file_start("a.yaml"),
                ));
            }
        }
        report
    }

    fn commands(report: &Report) -> Vec<String> {
        let mut out = Vec::new();
        render(report, &GithubOptions { paths: paths() }, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn notes_alone_over_the_cap_keep_room_for_the_summary() {
        let report = report_of(&[(Level::Note, 12)]);
        let got = commands(&report);
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|c| c == "::notice"));
        let mut out = Vec::new();
        render(&report, &GithubOptions { paths: paths() }, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.lines()
                .last()
                .unwrap()
                .contains("::3 more: see the step summary / code scanning (3 notes not annotated"),
            "{text}"
        );
    }

    #[test]
    fn at_the_cap_nothing_is_left_out() {
        let report = report_of(&[(Level::Warning, 10), (Level::Note, 10), (Level::Error, 10)]);
        let got = commands(&report);
        assert_eq!(got.len(), 30);
        assert_eq!(got[0], "::error");
        assert_eq!(got[29], "::notice");
    }

    #[test]
    fn files_outside_the_repository_have_no_file_property() {
        let mut f = Finding::new(
            "policy-unknown-field",
            Level::Warning,
            "unknown field".to_string(),
            Location {
                file: "/tmp/policy.yaml".to_string(),
                line: 4,
                column: 3,
                document: 0,
                end_line: 4,
                end_column: 8,
            },
        );
        f.related.push(Related {
            message: "rule".to_string(),
            location: Location::file_start("../elsewhere/p.yaml"),
        });
        let text = annotation(&f, &paths());
        assert_eq!(
            text,
            "::warning title=policy-unknown-field (binauthz-lint)::/tmp/policy.yaml:4:3: unknown field%0Anote: rule (/elsewhere/p.yaml:1:1)"
        );
        assert!(!text.contains("file="), "{text}");
    }

    #[test]
    fn markdown_is_literal() {
        assert_eq!(markdown_text("a|b\n<x>*"), "a\\|b \\<x\\>\\*");
    }
}
