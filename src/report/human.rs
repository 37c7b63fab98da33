//! `--format human`: findings grouped by file. Each finding is a
//! `path:line:col: level[rule-id]: message` line (the form editors' problem matchers and
//! `grep` expect), then the source line with the span underlined and the related locations
//! (the policy rule that decided, the break-glass marker) as notes; a closing summary line
//! gives the counts, including scanned and skipped files.
//!
//! The snippet and notes are drawn by `annotate-snippets` (rustc's and cargo's renderer)
//! rather than by hand: it measures display width (wide CJK characters, tabs), trims very long
//! lines around the span, and neutralises control and bidirectional-override characters of
//! the source line, which comes from an untrusted file. [`terminal_safe`] also cleans the
//! messages, paths and notes (C1 controls included), so a manifest cannot send escape
//! sequences to the terminal.

use super::{Finding, Report};
use crate::rules::Level;
use annotate_snippets::{
    AnnotationKind, Group, Level as SnippetLevel, Origin, Renderer, Snippet,
    normalize_untrusted_str,
};
use std::io::{self, Write};

/// Options for the human renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    /// ANSI colours (the binary decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// `--verbose`: list the skipped files with their reasons before the summary.
    pub verbose: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Make untrusted text safe for a terminal, one character for one character (so columns
/// still line up): C0/C1 controls (except tab), DEL and bidirectional controls become U+FFFD.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
            if (c.is_control() && c != '\t') || bidi {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

pub fn render(report: &Report, options: HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: options.color };
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut current_file: Option<&str> = None;
    // PR mode / baseline: what the change introduces first, then what was already there.
    let mut ordered: Vec<&Finding> = report.findings.iter().collect();
    ordered.sort_by_key(|f| f.baseline_state == Some("unchanged"));
    let mut previous_state = None;
    for finding in ordered {
        if finding.baseline_state.is_some() && finding.baseline_state != previous_state {
            let heading = if finding.baseline_state == Some("new") {
                "New in this change:"
            } else {
                "Unchanged (already in the base; not failing):"
            };
            writeln!(out, "{}", paint.wrap("1", heading))?;
            previous_state = finding.baseline_state;
            current_file = None;
        }
        if current_file != Some(finding.location.file.as_str()) {
            writeln!(
                out,
                "{}",
                paint.wrap("1;4", &terminal_safe(&finding.location.file))
            )?;
            current_file = Some(finding.location.file.as_str());
        }
        writeln!(out, "{}", render_finding(finding, &renderer, &paint))?;
        if let Some(w) = finding.workload.as_ref().filter(|w| w.context.is_some()) {
            let context = terminal_safe(w.context.as_deref().unwrap_or_default());
            match &w.cluster {
                Some(cluster) => writeln!(
                    out,
                    "  = context: {context} (cluster {})",
                    terminal_safe(cluster)
                )?,
                None => writeln!(out, "  = context: {context}")?,
            }
        }
        if let Some(cause) = finding.baseline_cause {
            writeln!(out, "  = new in this change: {cause}")?;
        }
        if let Some(s) = &finding.suppression {
            writeln!(
                out,
                "  = approved by exception {} until {} ({})",
                terminal_safe(&s.exception_id),
                s.expires,
                terminal_safe(&s.reason)
            )?;
        }
        writeln!(out)?;
    }
    let approved = report.approved_uses();
    if !approved.is_empty() {
        writeln!(out, "{}", paint.wrap("1", "Approved exceptions:"))?;
        let rows: Vec<[String; 7]> = approved
            .iter()
            .map(|a| {
                let s = a.suppression;
                [
                    terminal_safe(&a.what),
                    a.finding.rule_id.to_string(),
                    terminal_safe(&s.exception_id),
                    terminal_safe(s.owner.as_deref().unwrap_or("-")),
                    terminal_safe(s.ticket.as_deref().unwrap_or("-")),
                    s.expires.clone(),
                    s.days_left.to_string(),
                ]
            })
            .collect();
        let header = [
            "workload",
            "rule",
            "exception",
            "owner",
            "ticket",
            "expires",
            "days left",
        ];
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("  {}", padded.join("  ").trim_end())
        };
        writeln!(out, "{}", line(header.to_vec()))?;
        for row in &rows {
            writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
        }
        writeln!(out)?;
    }
    if options.verbose {
        write_skipped(report, out)?;
    }
    write_summary(report, options.color, out)
}

/// `--verbose`: every skipped file with its reason (the JSON report's `skipped[]`).
pub fn write_skipped(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.skipped.is_empty() {
        return Ok(());
    }
    writeln!(out, "Skipped files:")?;
    for skipped in &report.skipped {
        writeln!(
            out,
            "  {}: {}",
            terminal_safe(&skipped.file),
            skipped.reason
        )?;
    }
    writeln!(out)
}

/// The closing summary: the counts line, then the findings per rule.
pub fn write_summary(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: color };
    for notice in &report.policy_notices {
        writeln!(out, "{} {notice}", paint.wrap("1", "Policy:"))?;
    }
    writeln!(out, "{}", summary_line(report, &paint))?;
    if let Some(by_rule) = by_rule_line(report) {
        writeln!(out, "{by_rule}")?;
    }
    Ok(())
}

/// `By rule: image-denied 3 (error), breakglass-used 2 (warning)`: errors first, then by
/// count, then by id.
fn by_rule_line(report: &Report) -> Option<String> {
    let mut counts: std::collections::BTreeMap<(&str, Level), usize> =
        std::collections::BTreeMap::new();
    for f in &report.findings {
        *counts.entry((f.rule_id, f.level)).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let mut rows: Vec<((&str, Level), usize)> = counts.into_iter().collect();
    rows.sort_by(|((a_id, a_level), a_n), ((b_id, b_level), b_n)| {
        b_level.cmp(a_level).then(b_n.cmp(a_n)).then(a_id.cmp(b_id))
    });
    let parts: Vec<String> = rows
        .iter()
        .map(|((id, level), n)| format!("{id} {n} ({})", level.as_str()))
        .collect();
    Some(format!("By rule: {}", parts.join(", ")))
}

fn summary_line(report: &Report, paint: &Paint) -> String {
    let s = &report.summary;
    let c = &s.findings;
    let findings = format!(
        "{}, {}, {}",
        plural(c.error, "error"),
        plural(c.warning, "warning"),
        plural(c.note, "note")
    );
    let findings = if c.error > 0 {
        paint.wrap("1;31", &findings)
    } else if c.warning > 0 {
        paint.wrap("1;33", &findings)
    } else {
        paint.wrap("1;32", &findings)
    };
    let baseline = match (s.new, s.unchanged, s.absent) {
        (Some(new), Some(unchanged), Some(absent)) => {
            format!("; {new} new, {unchanged} unchanged, {absent} resolved by this change")
        }
        _ => String::new(),
    };
    // Continuous validation: only with platform policies (contract §15).
    let cv = match (s.cv_non_conformant, s.cv_undecided) {
        (Some(non_conformant), Some(undecided)) => format!(
            "; continuous validation: {non_conformant} non-conformant, {undecided} undecided"
        ),
        _ => String::new(),
    };
    // Cloud Run (contract §12): said only when there is any, so GKE-only output is unchanged.
    let cloud_run = if s.platforms.cloudrun > 0 {
        format!(
            ", {} unresolved ({} Cloud Run)",
            s.unresolved, s.platforms.cloudrun
        )
    } else {
        String::new()
    };
    // Files as the JSON `summary.files` counts them (every candidate), then how many were
    // read; workload verdicts before the image count, so no number reads as images.
    format!(
        "{} {} ({} scanned, {} skipped); {}: {} admitted{}, {} denied{}; {}; {}{}",
        paint.wrap("1", "Summary:"),
        plural(s.files, "file"),
        s.files.saturating_sub(s.skipped_files),
        s.skipped_files,
        plural(s.workloads, "workload"),
        s.admitted,
        admitted_parts(s),
        s.denied,
        cloud_run + &cv,
        plural(s.images, "image"),
        findings,
        baseline
    )
}

/// Dry-run denials and break-glass are ways of being admitted: shown inside the admitted
/// count (` (of which 1 dry-run denied, 1 break-glass)`), so the parts never read as more
/// workloads than there are. Nothing when neither happened.
fn admitted_parts(s: &super::Summary) -> String {
    let mut parts = Vec::new();
    if s.dryrun_denied > 0 {
        parts.push(format!("{} dry-run denied", s.dryrun_denied));
    }
    if s.breakglass > 0 {
        parts.push(format!("{} break-glass", s.breakglass));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" (of which {})", parts.join(", "))
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn snippet_level(level: Level) -> SnippetLevel<'static> {
    match level {
        Level::Error => SnippetLevel::ERROR,
        Level::Warning => SnippetLevel::WARNING,
        Level::Note => SnippetLevel::NOTE,
    }
}

/// Byte offset of the 0-based character `index` in `line` (its length when past the end).
fn byte_offset(line: &str, index: usize) -> usize {
    line.char_indices()
        .nth(index)
        .map(|(i, _)| i)
        .unwrap_or(line.len())
}

fn level_name(level: Level, paint: &Paint) -> String {
    match level {
        Level::Error => paint.wrap("1;31", "error"),
        Level::Warning => paint.wrap("1;33", "warning"),
        Level::Note => paint.wrap("1;36", "note"),
    }
}

/// One finding: a `path:line:col: level[rule-id]: message` line (the form editors' problem
/// matchers and `grep` expect), then the source line with the span underlined and the
/// related locations as notes, drawn by annotate-snippets.
fn render_finding(finding: &Finding, renderer: &Renderer, paint: &Paint) -> String {
    let loc = &finding.location;
    let mut text = format!(
        "{}: {}{}: {}",
        paint.wrap(
            "1",
            &format!("{}:{}:{}", terminal_safe(&loc.file), loc.line, loc.column)
        ),
        level_name(finding.level, paint),
        paint.wrap("1", &format!("[{}]", finding.rule_id)),
        normalize_untrusted_str(&terminal_safe(&finding.message))
    );
    let mut groups = Vec::new();
    // A finding far to the right of a long line (a minified JSON manifest): the part of the
    // line around it, so that what the message is about is on screen.
    let (snippet, first_column) = match (&finding.snippet_window, &finding.snippet) {
        (Some(window), _) => (Some(&window.1), window.0),
        (None, snippet) => (snippet.as_ref(), 1),
    };
    if let Some(line) = snippet {
        let line = terminal_safe(line);
        let start = byte_offset(&line, loc.column.saturating_sub(first_column) as usize);
        // A span on one line ends at its end column; a longer one is underlined to the end
        // of its first line; a point gets one caret.
        let end = if loc.end_line == loc.line && loc.end_column > loc.column {
            byte_offset(&line, loc.end_column.saturating_sub(first_column) as usize)
        } else if loc.end_line > loc.line {
            line.len()
        } else {
            start
        };
        groups.push(
            Group::with_level(snippet_level(finding.level)).element(
                Snippet::source(line)
                    .line_start(loc.line as usize)
                    .fold(false)
                    .annotation(AnnotationKind::Primary.span(start..end.max(start))),
            ),
        );
    }
    // Related locations (the policy rule that decided, a break-glass marker, ...) as notes
    // with their own `-->` line.
    for related in &finding.related {
        let r = &related.location;
        groups.push(
            Group::with_title(
                SnippetLevel::NOTE
                    .secondary_title(normalize_untrusted_str(&terminal_safe(&related.message))),
            )
            .element(
                Origin::path(terminal_safe(&r.file))
                    .line(r.line as usize)
                    .char_column(r.column as usize),
            ),
        );
    }
    if !groups.is_empty() {
        text.push('\n');
        text.push_str(&renderer.render(&groups));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, Related};

    fn finding(snippet: &str, column: u32, end_column: u32) -> Finding {
        let mut f = Finding::new(
            "image-denied",
            Level::Error,
            "denied \x1b[31mred".to_string(),
            Location {
                file: "a.yaml".to_string(),
                line: 7,
                column,
                document: 0,
                end_line: 7,
                end_column,
            },
        );
        f.snippet = Some(snippet.to_string());
        f.related.push(Related {
            message: "default admission rule".to_string(),
            location: Location::file_start("policy.yaml"),
        });
        f
    }

    #[test]
    fn underlines_the_span_and_neutralises_controls() {
        let text = render_finding(
            &finding("  image: nginx", 10, 15),
            &Renderer::plain(),
            &Paint { on: false },
        );
        assert_eq!(
            text,
            "a.yaml:7:10: error[image-denied]: denied \u{fffd}[31mred\n  \
             |\n\
             7 |   image: nginx\n  \
             |          ^^^^^\n  \
             |\n\
             note: default admission rule\n \
             --> policy.yaml:1:1"
        );
    }

    #[test]
    fn wide_characters_line_up() {
        let text = render_finding(
            &finding("  image: 画像:1", 10, 14),
            &Renderer::plain(),
            &Paint { on: false },
        );
        assert!(
            text.contains("7 |   image: 画像:1\n  |          ^^^^^^"),
            "{text}"
        );
    }
}
