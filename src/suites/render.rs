//! Outputs of `binauthz-lint test`: the human table, the JSON of contract §16 and JUnit XML.
//! Each is a pure function of the results; nothing else is ever written to the same stream
//! (CI systems parse it whole).

use super::Actual;
use super::run::{SuiteResult, describe};
use serde_json::{Value, json};
use std::io::{self, Write};

/// Totals over every suite run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub suites: usize,
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
}

impl Summary {
    pub fn of(results: &[SuiteResult]) -> Summary {
        let cases: usize = results.iter().map(|s| s.cases.len()).sum();
        let failed: usize = results.iter().map(SuiteResult::failed).sum();
        Summary {
            suites: results.len(),
            cases,
            passed: cases - failed,
            failed,
        }
    }
}

fn actual_json(actual: &Option<Actual>) -> Value {
    match actual {
        None => Value::Null,
        Some(a) => json!({
            "decision": a.decision.as_str(),
            "rule": a.rule,
            "cv": a.cv,
        }),
    }
}

/// `--format json` (contract §16): `{schemaVersion, suites: [{file, cases: [{name, passed,
/// expect, actual: {decision, rule, cv}, message}]}], summary}`, plus `policy` per suite and
/// `id`, `line`, `expectRule`, `expectCv`, `workloads` per case.
pub fn json(results: &[SuiteResult], out: &mut dyn Write) -> io::Result<()> {
    let summary = Summary::of(results);
    let suites: Vec<Value> = results
        .iter()
        .map(|suite| {
            let cases: Vec<Value> = suite
                .cases
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "id": c.id,
                        "line": c.line,
                        "passed": c.passed,
                        "expect": c.expect.as_str(),
                        "expectRule": c.expect_rule,
                        "expectCv": c.expect_cv,
                        "actual": actual_json(&c.actual),
                        "message": c.message,
                        "workloads": c.workloads,
                    })
                })
                .collect();
            json!({"file": suite.file, "policy": suite.policy, "cases": cases})
        })
        .collect();
    let document = json!({
        "schemaVersion": 1,
        "suites": suites,
        "summary": {
            "suites": summary.suites,
            "cases": summary.cases,
            "passed": summary.passed,
            "failed": summary.failed,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Text for XML character data and attribute values: the five special characters escaped,
/// and characters XML 1.0 cannot carry at all (C0 controls other than tab, newline and
/// carriage return; U+FFFE, U+FFFF) replaced by U+FFFD, so the document stays well-formed
/// whatever a message quotes.
fn xml_escape(text: &str) -> String {
    escape(text, true)
}

/// Character data: like [`xml_escape`], but line breaks and tabs stay as they are (they are
/// kept verbatim in element content, and CI systems show the failure text as written).
fn xml_text(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values normalise raw newlines and tabs to spaces: keep them as
            // character references so a message survives a parser unchanged.
            '\n' | '\t' if !attribute => out.push(c),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            // A raw carriage return is normalised away by every XML parser.
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `--format junit`: one `testsuite` per suite file, one `testcase` per case named
/// `FILE::NAME` (unique: names are unique per file; stable: no time or host attributes), a
/// `failure` with expected vs actual for each failed case. Valid against the Jenkins JUnit
/// schema (`testdata/schemas/junit-10.xsd`).
pub fn junit(results: &[SuiteResult], out: &mut dyn Write) -> io::Result<()> {
    let summary = Summary::of(results);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="binauthz-lint test" tests="{}" failures="{}" errors="0">"#,
        summary.cases, summary.failed
    )?;
    for suite in results {
        let file = xml_escape(&suite.file);
        writeln!(
            out,
            r#"  <testsuite name="{file}" tests="{}" failures="{}" errors="0" skipped="0">"#,
            suite.cases.len(),
            suite.failed()
        )?;
        writeln!(out, "    <properties>")?;
        writeln!(
            out,
            r#"      <property name="policy" value="{}"/>"#,
            xml_escape(&suite.policy)
        )?;
        writeln!(out, "    </properties>")?;
        for case in &suite.cases {
            let open = format!(
                r#"    <testcase name="{}" classname="{file}""#,
                xml_escape(&case.id)
            );
            if case.passed {
                writeln!(out, "{open}/>")?;
                continue;
            }
            let message = case.message.as_deref().unwrap_or("failed");
            let actual = case
                .actual
                .as_ref()
                .map_or_else(|| "not evaluated".to_string(), describe);
            let expected = describe(&Actual {
                decision: case.expect,
                rule: case.expect_rule.clone(),
                cv: case.expect_cv.clone(),
            });
            let body = format!(
                "expected: {expected}\nactual:   {actual}\n{message}\ncase at {}:{}",
                suite.file, case.line
            );
            let kind = if case.actual.is_some() {
                "mismatch"
            } else {
                "not-evaluated"
            };
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                r#"      <failure message="{}" type="{kind}">{}</failure>"#,
                xml_escape(message),
                xml_text(&body)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// Options of the human table.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    pub color: bool,
}

/// The human table: per suite, each case with pass/FAIL, what was expected and what
/// happened (decision and rule), and why a failed case failed; then the totals.
pub fn human(
    results: &[SuiteResult],
    options: HumanOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = |code: &str, text: &str| {
        if options.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let width = |text: &str| text.chars().count();
    for suite in results {
        writeln!(out, "{} (policy {})", suite.file, suite.policy)?;
        let rows: Vec<(bool, String, String, String)> = suite
            .cases
            .iter()
            .map(|c| {
                let expected = describe(&Actual {
                    decision: c.expect,
                    rule: c.expect_rule.clone(),
                    cv: c.expect_cv.clone(),
                });
                let actual = c
                    .actual
                    .as_ref()
                    .map_or_else(|| "not evaluated".to_string(), describe);
                (c.passed, c.name.clone(), expected, actual)
            })
            .collect();
        // Long names would push the columns off any terminal: cap the name column.
        let name_w = rows
            .iter()
            .map(|r| width(&r.1))
            .chain([4])
            .max()
            .unwrap_or(4)
            .min(60);
        let expected_w = rows
            .iter()
            .map(|r| width(&r.2))
            .chain([8])
            .max()
            .unwrap_or(8);
        writeln!(
            out,
            "  {:<8}{:<name_w$}  {:<expected_w$}  ACTUAL",
            "RESULT", "CASE", "EXPECTED"
        )?;
        for (case, (passed, name, expected, actual)) in suite.cases.iter().zip(&rows) {
            let result = if *passed {
                paint("32", "pass    ")
            } else {
                paint("1;31", "FAIL    ")
            };
            let pad = name_w.saturating_sub(width(name));
            writeln!(
                out,
                "  {result}{name}{}  {expected:<expected_w$}  {actual}",
                " ".repeat(pad)
            )?;
            if let Some(message) = case.message.as_deref().filter(|_| !case.passed) {
                writeln!(out, "          {}:{}: {message}", suite.file, case.line)?;
            }
        }
        writeln!(out)?;
    }
    let s = Summary::of(results);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let verdict = if s.failed == 0 {
        paint("32", "ok")
    } else {
        paint("1;31", "FAILED")
    };
    writeln!(
        out,
        "Test result: {verdict}. {}, {}: {} passed, {} failed",
        plural(s.suites, "suite"),
        plural(s.cases, "case"),
        s.passed,
        s.failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(
            xml_escape("a<b & \"c\" 'd'>\n\u{1}\u{FFFF}é"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;\u{FFFD}\u{FFFD}é"
        );
        assert_eq!(xml_text("a\n\tb\r]]>"), "a\n\tb&#13;]]&gt;");
    }
}
