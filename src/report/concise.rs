//! `--format concise`: one line per finding, `path:line:col: level[rule-id] message` (the
//! shape of ruff's concise output), then the summary. For CI logs and `grep`: no source
//! snippets, no notes, a message always on one line, no colour.

use super::human::{self, terminal_safe};
use super::{Finding, Report};
use std::io::{self, Write};

/// Options for the concise renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConciseOptions {
    /// `--verbose`: list the skipped files before the summary.
    pub verbose: bool,
}

pub fn render(report: &Report, options: ConciseOptions, out: &mut dyn Write) -> io::Result<()> {
    // PR mode / baseline: what the change introduces first, as in the human format.
    let mut ordered: Vec<&Finding> = report.findings.iter().collect();
    ordered.sort_by_key(|f| f.baseline_state == Some("unchanged"));
    for finding in ordered {
        writeln!(out, "{}", line(finding))?;
    }
    if options.verbose {
        human::write_skipped(report, out)?;
    }
    human::write_summary(report, false, out)
}

/// The one line of a finding; line breaks in the message become spaces and untrusted
/// text is made terminal-safe.
pub fn line(finding: &Finding) -> String {
    let loc = &finding.location;
    let message: String = finding
        .message
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let state = match finding.baseline_state {
        Some("unchanged") => " (unchanged)",
        _ => "",
    };
    // A note only because an exception approves it: say so, as the human format does.
    let approved = match &finding.suppression {
        Some(s) => terminal_safe(&format!(
            " (approved by exception {} until {})",
            s.exception_id, s.expires
        )),
        None => String::new(),
    };
    format!(
        "{}:{}:{}: {}[{}] {}{state}{approved}",
        terminal_safe(&loc.file),
        loc.line,
        loc.column,
        finding.level.as_str(),
        finding.rule_id,
        terminal_safe(&message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Location;
    use crate::rules::Level;

    #[test]
    fn one_line_per_finding() {
        let f = Finding::new(
            "image-denied",
            Level::Error,
            "denied\nsecond \x1b[31mline".to_string(),
            Location {
                file: "k8s/a.yaml".to_string(),
                line: 7,
                column: 16,
                document: 0,
                end_line: 7,
                end_column: 20,
            },
        );
        assert_eq!(
            line(&f),
            "k8s/a.yaml:7:16: error[image-denied] denied second \u{fffd}[31mline"
        );
    }
}
