//! One file's part of the report, and the mapping of its positions to report locations.

use crate::report::{Finding, Location, WorkloadReport};
use crate::rules::Level;
use crate::yaml::Span;

/// Everything one file contributes to the report.
#[derive(Clone, Debug, Default)]
pub struct FileResult {
    pub display: String,
    /// Set when the file was not evaluated; the reason as in the contract's `skipped[]`.
    pub skipped: Option<String>,
    pub documents: usize,
    pub workloads: Vec<WorkloadReport>,
    pub findings: Vec<Finding>,
}

impl FileResult {
    pub fn skipped(display: &str, reason: &str) -> FileResult {
        FileResult {
            display: display.to_string(),
            skipped: Some(reason.to_string()),
            ..FileResult::default()
        }
    }
}

/// Maps positions of one file to report locations and source snippets.
pub struct Source<'a> {
    pub display: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn location(&self, span: Span, document: u32) -> Location {
        let end = if span.end.line == 0 {
            span.start
        } else {
            span.end
        };
        Location {
            file: self.display.to_string(),
            line: span.start.line.max(1),
            column: span.start.column.max(1),
            document,
            end_line: end.line.max(span.start.line).max(1),
            end_column: end.column.max(1),
        }
    }

    /// The text of a 1-based line, without its line break (capped for huge lines).
    pub fn line_text(&self, line: u32) -> Option<String> {
        let text = self.text.strip_prefix('\u{FEFF}').unwrap_or(self.text);
        let raw = text.split('\n').nth(line.checked_sub(1)? as usize)?;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        Some(raw.chars().take(400).collect())
    }

    pub fn finding(
        &self,
        rule_id: &'static str,
        level: Level,
        message: String,
        span: Span,
        document: u32,
    ) -> Finding {
        let mut f = Finding::new(rule_id, level, message, self.location(span, document));
        f.snippet = self.line_text(span.start.line);
        f
    }
}
