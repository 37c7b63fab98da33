//! rustc-style rendering of policy diagnostics (annotate-snippets 0.12): the message, the
//! `file:line:column`, the offending line with the text underlined, and a help line.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{PolicyDiagnostic, Severity};

/// Byte offset of a 1-based (line, code-point column) in `text`, clamped to the line.
fn offset(text: &str, line: u32, column: u32) -> Option<usize> {
    let mut start = 0usize;
    for _ in 1..line {
        start += text.get(start..)?.find('\n')? + 1;
    }
    let rest = text.get(start..)?;
    let line_len = rest.find('\n').unwrap_or(rest.len());
    let line_text = rest.get(..line_len)?.trim_end_matches('\r');
    let skip = usize::try_from(column.saturating_sub(1)).ok()?;
    let within = line_text
        .char_indices()
        .nth(skip)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// The byte range to underline: the diagnostic's span clipped to its first line (block
/// collections span many lines; the first shows the key), and at least one character.
fn range(text: &str, d: &PolicyDiagnostic) -> Option<std::ops::Range<usize>> {
    let start = offset(text, d.line, d.column)?;
    let rest = text.get(start..)?;
    let line_end = start + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let mut end = if d.end_line == d.line && d.end_column > d.column {
        offset(text, d.end_line, d.end_column)?.min(line_end)
    } else {
        // Multi-line or empty: the first line's visible text.
        start + text.get(start..line_end)?.trim_end().len()
    };
    if end <= start {
        end = start
            + rest
                .chars()
                .next()
                .filter(|c| *c != '\n')
                .map_or(0, char::len_utf8);
    }
    Some(start..end)
}

/// Render diagnostics against the text of the file they point into. `color` selects ANSI
/// styling (for terminals); without it the output is plain text, stable for snapshots.
pub fn render_diagnostics(diags: &[PolicyDiagnostic], source_text: &str, color: bool) -> String {
    // Positions were computed on the text without a byte-order mark (yaml::parse strips it).
    let text = source_text.strip_prefix('\u{FEFF}').unwrap_or(source_text);
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        let title = level.primary_title(d.message.as_str()).id(d.rule_id);
        let snippet_range = if d.line > 0 { range(text, d) } else { None };
        let mut group = match snippet_range {
            Some(r) => {
                let annotation = AnnotationKind::Primary.span(r).label(d.label.as_str());
                title.element(
                    Snippet::source(text)
                        .path(d.file.as_str())
                        .annotation(annotation),
                )
            }
            None if d.line > 0 => title.element(
                annotate_snippets::Origin::path(d.file.as_str())
                    .line(d.line as usize)
                    .char_column(d.column.saturating_sub(1) as usize),
            ),
            None => Group::with_title(title),
        };
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}
