//! `--format human`: findings grouped by file, `path:line:col`, the source line with the span
//! underlined, related locations as notes, and a closing summary.

use super::{Finding, Report};
use crate::rules::Level;
use std::io::{self, Write};

/// Options for the human renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    pub color: bool,
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
    fn level(&self, level: Level) -> String {
        match level {
            Level::Error => self.wrap("1;31", "error"),
            Level::Warning => self.wrap("1;33", "warning"),
            Level::Note => self.wrap("1;36", "note"),
        }
    }
}

pub fn render(report: &Report, options: HumanOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: options.color };
    let mut current_file: Option<&str> = None;
    for finding in &report.findings {
        if current_file != Some(finding.location.file.as_str()) {
            if current_file.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", paint.wrap("1;4", &finding.location.file))?;
            current_file = Some(finding.location.file.as_str());
        }
        render_finding(finding, &paint, out)?;
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
    }
    let s = &report.summary;
    writeln!(
        out,
        "{} {} scanned, {} skipped; {} workload{}, {} image{}: {} admitted, {} denied, {} dry-run denied, {} break-glass; {} error{}, {} warning{}, {} note{}",
        paint.wrap("1", "Summary:"),
        plural(s.files - s.skipped_files, "file"),
        s.skipped_files,
        s.workloads,
        if s.workloads == 1 { "" } else { "s" },
        s.images,
        if s.images == 1 { "" } else { "s" },
        s.admitted,
        s.denied,
        s.dryrun_denied,
        s.breakglass,
        s.findings.error,
        if s.findings.error == 1 { "" } else { "s" },
        s.findings.warning,
        if s.findings.warning == 1 { "" } else { "s" },
        s.findings.note,
        if s.findings.note == 1 { "" } else { "s" },
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn render_finding(finding: &Finding, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let loc = &finding.location;
    writeln!(
        out,
        "{}:{}:{}: {}[{}]: {}",
        loc.file,
        loc.line,
        loc.column,
        paint.level(finding.level),
        finding.rule_id,
        finding.message
    )?;
    if let Some(line) = &finding.snippet {
        let gutter = loc.line.to_string();
        let pad = " ".repeat(gutter.len());
        writeln!(out, "{pad} {}", paint.wrap("1;34", "|"))?;
        writeln!(
            out,
            "{} {} {}",
            paint.wrap("1;34", &gutter),
            paint.wrap("1;34", "|"),
            line
        )?;
        let start = loc.column.saturating_sub(1) as usize;
        let line_len = line.chars().count();
        let end = if loc.end_line == loc.line && loc.end_column > loc.column {
            (loc.end_column - 1) as usize
        } else {
            line_len.max(start + 1)
        };
        let width = end.saturating_sub(start).max(1);
        // Keep tabs so the caret lines up under tab-indented text.
        let indent: String = line
            .chars()
            .take(start)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        writeln!(
            out,
            "{pad} {} {indent}{}",
            paint.wrap("1;34", "|"),
            paint.wrap(
                if finding.level == Level::Error {
                    "1;31"
                } else {
                    "1;33"
                },
                &"^".repeat(width)
            )
        )?;
    }
    for related in &finding.related {
        writeln!(
            out,
            "  {} {} ({}:{}:{})",
            paint.wrap("1;36", "= note:"),
            related.message,
            related.location.file,
            related.location.line,
            related.location.column
        )?;
    }
    Ok(())
}
