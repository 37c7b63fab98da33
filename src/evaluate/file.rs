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
    /// A Helm template skipped raw: the chart folder it belongs to (display form), so that
    /// a chart none of whose workloads was evaluated can be named.
    pub helm_chart: Option<Box<str>>,
}

impl FileResult {
    /// Give back the spare capacity of the per-file lists: results stay alive until the
    /// whole scan is assembled, and a file's first workload would otherwise hold room for
    /// four (a third of the peak memory of a 20,000-file scan).
    pub fn shrink_to_fit(&mut self) {
        self.workloads.shrink_to_fit();
        self.findings.shrink_to_fit();
    }

    pub fn skipped(display: &str, reason: &str) -> FileResult {
        FileResult {
            display: display.to_string(),
            skipped: Some(reason.to_string()),
            ..FileResult::default()
        }
    }

    /// A Helm chart template, not YAML until rendered; `depth` components below its chart.
    pub fn helm_template(display: &str, depth: usize) -> FileResult {
        FileResult {
            helm_chart: Some(crate::inputs::discover::ancestor_display(display, depth).into()),
            ..FileResult::skipped(display, "helm-template")
        }
    }

    /// Text that is not UTF-8: kubectl's YAML reader refuses the whole file, so it is an
    /// error at the first invalid byte (the file is still listed as skipped, `not-utf8`).
    pub fn not_utf8(display: &str, at: &crate::inputs::read::NotUtf8) -> FileResult {
        let location = Location {
            file: display.to_string(),
            line: at.line,
            column: at.column,
            document: 0,
            end_line: at.line,
            end_column: at.column + 1,
        };
        let mut finding = Finding::new(
            "manifest-invalid",
            Level::Error,
            format!(
                "not valid UTF-8 at byte {} (line {}, column {}): kubectl refuses the file (\"{}\"), so nothing in it can be applied; save it as UTF-8",
                at.byte, at.line, at.column, at.problem
            ),
            location,
        );
        finding.snippet = Some(at.line_text.clone());
        FileResult {
            findings: vec![finding],
            ..FileResult::skipped(display, "not-utf8")
        }
    }
}

/// Characters of a line kept as a finding's snippet.
const SNIPPET_CHARS: usize = 400;

/// Characters shown before a finding that lies beyond [`SNIPPET_CHARS`] of its line.
const WINDOW_BEFORE: usize = 60;

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
        Some(raw.chars().take(SNIPPET_CHARS).collect())
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
        f.snippet_window = self.window(span).map(Box::new);
        f
    }

    /// For a span beyond what [`Source::line_text`] keeps of its line: the part of the line
    /// around it (a little before, the rest after), with the column of its first character.
    pub fn window(&self, span: Span) -> Option<(u32, String)> {
        let end = span.end.column.max(span.start.column) as usize;
        if end < SNIPPET_CHARS {
            return None;
        }
        let text = self.text.strip_prefix('\u{FEFF}').unwrap_or(self.text);
        let raw = text
            .split('\n')
            .nth(span.start.line.checked_sub(1)? as usize)?;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let first = (span.start.column as usize)
            .saturating_sub(WINDOW_BEFORE)
            .max(1);
        let part: String = raw.chars().skip(first - 1).take(SNIPPET_CHARS).collect();
        Some((first as u32, part))
    }
}
