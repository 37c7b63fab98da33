//! Manifest files read the way `kubectl apply -f` reads them.
//!
//! kubectl (k8s.io/apimachinery `yaml.YAMLOrJSONDecoder`) does not hand a file to a YAML
//! stream parser as a whole:
//! - when the first non-space character of the first 4096 bytes is `{`, the file is a stream
//!   of strict JSON values (Go's `encoding/json`): `{…}{…}` is two objects, a trailing comma
//!   or a YAML flow mapping is refused, and nothing after a syntax error is read;
//! - otherwise it is split into documents on lines that start with `---` (`YAMLReader`); a
//!   separator line may only carry spaces or a comment after the dashes (`--- !!map` is
//!   refused), and each document is decoded by go-yaml, which reads only the first YAML
//!   document of it: whatever follows a `...` line is ignored, valid or not.
//!
//! Each piece is then parsed by the (lenient-indentation) YAML parser on a slice of the file,
//! so that positions stay those of the file and no text is copied.

use super::{Builder, Limits, Offset, Pos, Tree};

/// Parse a manifest file as `kubectl apply -f` decodes it. Never panics; errors are data in
/// [`Tree::error`], documents before the error are kept.
pub fn parse_manifest<'a>(text: &'a str, limits: &Limits) -> Tree<'a> {
    let json = starts_as_json(text);
    // Editors do not count a byte-order mark as a column.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut builder = Builder::new(text.len(), limits);
    builder.json_keys_only = true;
    if json {
        json_stream(&mut builder, text);
    } else if needs_pieces(text) {
        yaml_documents(&mut builder, text);
    } else {
        // Nothing in the file reads differently piece by piece: one stream, one parser.
        builder.run(text, Offset::default(), false);
    }
    builder.tree
}

/// Whether kubectl's piece-by-piece reading can differ from one YAML stream: only then is
/// the file cut into pieces (one parser each). In a stream without `...` lines, directives,
/// carriage returns, and with `---` lines that the YAML parser also takes for separators,
/// every separator line of kubectl starts a document of the stream, and each piece is
/// exactly one document, so both readings give the same documents, values and positions.
fn needs_pieces(text: &str) -> bool {
    let bytes = text.as_bytes();
    if memchr::memchr(b'\r', bytes).is_some() {
        return true;
    }
    let line_starts = |marker: &'static [u8; 4]| {
        let first = bytes.starts_with(&marker[1..]).then_some(0);
        first
            .into_iter()
            .chain(memchr::memmem::find_iter(bytes, marker).map(|newline| newline + 1))
    };
    let plain_separator = |start: usize| {
        // `---` then the end of the line, a space or a tab: the YAML parser's separator too.
        // (`---#c`, `---\u{a0}` are separators to kubectl only; `--- x` is refused.)
        match bytes.get(start + 3) {
            None | Some(b'\n') => true,
            Some(b' ' | b'\t') => {
                let line = &text[start..];
                let line = line.split('\n').next().unwrap_or(line);
                matches!(separator(line), Separator::Yes)
            }
            Some(_) => false,
        }
    };
    if line_starts(b"\n---").any(|start| !plain_separator(start)) {
        return true;
    }
    if line_starts(b"\n...").any(|start| {
        let line = &text[start..];
        is_document_end(line.split('\n').next().unwrap_or(line))
    }) {
        return true;
    }
    bytes.first() == Some(&b'%') || memchr::memmem::find(bytes, b"\n%").is_some()
}

/// kubectl's `GuessJSONStream`: peek 4096 bytes, skip Unicode white space, look for `{`.
/// A byte-order mark is not white space, so a file starting with one is read as YAML.
fn starts_as_json(text: &str) -> bool {
    const PEEK: usize = 4096;
    text.char_indices()
        .take_while(|(at, _)| *at < PEEK)
        .find(|(_, c)| !c.is_whitespace())
        .is_some_and(|(_, c)| c == '{')
}

/// Lines before `at` and code points between the last line break and `at`.
fn offset_of(text: &str, at: usize) -> Offset {
    let before = text.get(..at).unwrap_or(text);
    let lines = before.bytes().filter(|b| *b == b'\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let columns = before.get(line_start..).map_or(0, |s| s.chars().count());
    Offset {
        lines: u32::try_from(lines).unwrap_or(u32::MAX),
        first_line_columns: u32::try_from(columns).unwrap_or(u32::MAX),
    }
}

fn json_stream<'a>(builder: &mut Builder<'a>, text: &'a str) {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    let mut end = 0usize;
    loop {
        match values.next() {
            None => return,
            Some(Ok(_)) => {
                let start = end
                    + text.get(end..).map_or(0, |rest| {
                        rest.len() - rest.trim_start_matches(json_space).len()
                    });
                end = values.byte_offset();
                let Some(value) = text.get(start..end) else {
                    builder.fail(
                        Pos { line: 1, column: 1 },
                        "internal error: JSON value outside the file".to_string(),
                    );
                    return;
                };
                // Strict JSON is YAML, so the positioned tree comes from the YAML parser.
                if !builder.run(value, offset_of(text, start), true) {
                    return;
                }
            }
            Some(Err(err)) => {
                builder.fail(json_error_pos(text, &err), json_error_message(&err));
                return;
            }
        }
    }
}

/// `encoding/json` white space between values.
fn json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// serde_json counts columns in bytes; reports count code points.
fn json_error_pos(text: &str, err: &serde_json::Error) -> Pos {
    let line = err.line().max(1);
    let byte_column = err.column();
    let columns = text.split('\n').nth(line - 1).map_or(byte_column, |l| {
        let upto = byte_column.min(l.len());
        let mut cut = upto;
        while cut > 0 && !l.is_char_boundary(cut) {
            cut -= 1;
        }
        l[..cut].chars().count() + (upto - cut)
    });
    Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(columns.max(1)).unwrap_or(u32::MAX),
    }
}

fn json_error_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    // serde_json appends " at line L column C"; the finding has its own position.
    let reason = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    format!(
        "invalid JSON: {reason} (`kubectl apply -f` reads a file that starts with `{{` as a stream of strict JSON values and refuses it; `kubectl kustomize` reads it as YAML)"
    )
}

/// A line that go-yaml takes for a document end marker: `...` then a blank or the end.
fn is_document_end(line: &str) -> bool {
    line.strip_prefix("...").is_some_and(|rest| {
        rest.chars().next().is_none_or(|c| {
            matches!(
                c,
                ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
            )
        })
    })
}

/// kubectl's `YAMLReader`: a line starting with `---` separates documents when the rest of
/// it, trimmed, is empty or a comment; any other `---` line is an error.
enum Separator {
    No,
    Yes,
    Invalid,
}

fn separator(line: &str) -> Separator {
    match line.strip_prefix("---") {
        None => Separator::No,
        Some(rest) => {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                Separator::Yes
            } else {
                Separator::Invalid
            }
        }
    }
}

fn yaml_documents<'a>(builder: &mut Builder<'a>, text: &'a str) {
    // The document being collected: where it starts, its line offset, whether a separator
    // line opened it (then it is a document even when empty), and where a `...` ends it.
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut explicit = false;
    let mut end_marker: Option<usize> = None;
    let mut at = 0usize;
    let mut line_no = 0u32;
    for line in text.split_inclusive('\n') {
        match separator(line) {
            Separator::No => {
                if end_marker.is_none() && is_document_end(line) {
                    end_marker = Some(at);
                }
            }
            Separator::Yes => {
                let end = end_marker.unwrap_or(at);
                if !document(builder, text, start..end, start_line, explicit) {
                    return;
                }
                start = at + line.len();
                start_line = line_no.saturating_add(1);
                explicit = true;
                end_marker = None;
            }
            Separator::Invalid => {
                let shown: String = line.trim_end().chars().take(40).collect();
                builder.fail(
                    Pos {
                        line: line_no.saturating_add(1),
                        column: 1,
                    },
                    format!(
                        "invalid document separator `{shown}`: `kubectl apply -f` allows only spaces or a comment after `---` on its line and refuses the file (`kubectl kustomize` accepts it); put the content on the next line"
                    ),
                );
                return;
            }
        }
        at += line.len();
        line_no = line_no.saturating_add(1);
    }
    let end = end_marker.unwrap_or(text.len());
    document(builder, text, start..end, start_line, explicit);
}

/// Parse one document's text. A separator always opens a document, even an empty one (as a
/// YAML stream parser counts them); text before the first separator is a document only when
/// it has content.
fn document<'a>(
    builder: &mut Builder<'a>,
    text: &'a str,
    range: std::ops::Range<usize>,
    lines_before: u32,
    explicit: bool,
) -> bool {
    let Some(slice) = text.get(range) else {
        builder.fail(
            Pos {
                line: lines_before.saturating_add(1),
                column: 1,
            },
            "internal error: document outside the file".to_string(),
        );
        return false;
    };
    let before = builder.documents();
    let offset = Offset {
        lines: lines_before,
        first_line_columns: 0,
    };
    // go-yaml decodes only the first document of each piece: with line breaks that are not
    // `\n` (a lone `\r`), the `---` lines are not separators to kubectl and later documents
    // of the piece are never read.
    if !builder.run(slice, offset, true) {
        return false;
    }
    if explicit && builder.documents() == before {
        if let Err(message) = builder.begin_document() {
            builder.fail(
                Pos {
                    line: lines_before.max(1),
                    column: 1,
                },
                message,
            );
            return false;
        }
        // An empty document has a null root, as the YAML parser gives it.
        let at = Pos {
            line: lines_before.saturating_add(1),
            column: 1,
        };
        if let Err(message) = builder.empty_root(at) {
            builder.fail(at, message);
            return false;
        }
        builder.end_document();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tree: &Tree) -> Vec<Option<String>> {
        tree.documents
            .iter()
            .map(|d| {
                let root = d.root?;
                let meta = tree.get(root, "metadata")?;
                Some(tree.scalar(tree.get(meta, "name")?)?.to_string())
            })
            .collect()
    }

    #[test]
    fn json_stream_of_concatenated_objects_keeps_positions() {
        let text = "{\"metadata\": {\"name\": \"a\"}}\n  {\"metadata\": {\"name\": \"b\"}}{\"metadata\": {\"name\": \"c\"}}\n";
        let tree = parse_manifest(text, &Limits::default());
        assert!(tree.error.is_none(), "{:?}", tree.error);
        assert_eq!(
            names(&tree),
            vec![Some("a".into()), Some("b".into()), Some("c".into())]
        );
        let root = tree.documents[2].root.unwrap();
        let c = tree.path(root, &["metadata", "name"]).unwrap();
        assert_eq!(
            tree.span(c).start,
            Pos {
                line: 2,
                column: 52
            }
        );
        assert_eq!(tree.documents[2].index, 2);
    }

    #[test]
    fn json_stream_refuses_what_encoding_json_refuses() {
        for bad in [
            "{\"a\": 1,}",
            "{a: 1}",
            "{\"a\": 1}\n---\nb: 2\n",
            "{\"a\": 'x'}",
        ] {
            let tree = parse_manifest(bad, &Limits::default());
            let err = tree.error.expect(bad);
            assert!(err.message.starts_with("invalid JSON"), "{bad}: {err:?}");
        }
        // The object before the syntax error is kept, as kubectl applies it.
        let tree = parse_manifest("{\"a\": 1}\n---\n", &Limits::default());
        assert_eq!(tree.documents.len(), 1);
        assert_eq!(tree.error.unwrap().pos, Pos { line: 2, column: 2 });
    }

    #[test]
    fn deep_json_keeps_the_depth_limit() {
        let nested = |depth: usize| "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        let shallow = nested(100);
        let tree = parse_manifest(&shallow, &Limits::default());
        assert!(tree.error.is_none(), "{:?}", tree.error);
        let deep = nested(100_000);
        let tree = parse_manifest(&deep, &Limits::default());
        let err = tree.error.expect("too deep");
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
    }

    #[test]
    fn json_detection_is_kubectls() {
        assert!(starts_as_json(" \n\t{}"));
        assert!(!starts_as_json("# c\n{}"));
        assert!(!starts_as_json("[{}]"));
        assert!(!starts_as_json("\u{FEFF}{}"));
        assert!(!starts_as_json(&(" ".repeat(4096) + "{}")));
    }

    #[test]
    fn separator_with_content_is_refused_with_its_line() {
        let tree = parse_manifest("a: 1\n--- !!map\nb: 2\n", &Limits::default());
        let err = tree.error.unwrap();
        assert_eq!(err.pos, Pos { line: 2, column: 1 });
        assert!(err.message.contains("--- !!map"), "{err:?}");
        for ok in ["---\na: 1\n", "--- # c\na: 1\n", "---   \r\na: 1\n"] {
            let tree = parse_manifest(ok, &Limits::default());
            assert!(tree.error.is_none(), "{ok:?}: {:?}", tree.error);
        }
    }

    #[test]
    fn content_after_document_end_is_ignored() {
        let text = "a: 1\n... trailing\nnot: [valid\n---\nb: 2\n";
        let tree = parse_manifest(text, &Limits::default());
        assert!(tree.error.is_none(), "{:?}", tree.error);
        assert_eq!(tree.documents.len(), 2);
        let b = tree.get(tree.documents[1].root.unwrap(), "b").unwrap();
        assert_eq!(tree.span(b).start, Pos { line: 5, column: 4 });
        // `...x` is a plain scalar, not a marker.
        assert!(!is_document_end("...x\n"));
    }

    #[test]
    fn only_the_first_document_of_a_piece_is_read() {
        // Carriage returns alone: one piece for kubectl's line splitter, two YAML documents.
        let text = "metadata:\r  name: a\r---\rmetadata:\r  name: b\r";
        let tree = parse_manifest(text, &Limits::default());
        assert!(tree.error.is_none(), "{:?}", tree.error);
        assert_eq!(names(&tree), vec![Some("a".into())]);
    }

    #[test]
    fn pieces_only_when_the_readings_can_differ() {
        for stream in [
            "a: 1\n---\nb: 2\n",
            "--- # c\na: 1\n---\t\nb: 2\n---",
            "a: \"x --- y\"\n- ---\n",
        ] {
            assert!(!needs_pieces(stream), "{stream:?}");
        }
        for pieces in [
            "a: 1\r\n",
            "a: 1\n--- !!map\nb: 2\n",
            "---#c\na: 1\n",
            "a: 1\n...\n",
            "... x\n",
            "%YAML 1.2\n---\na: 1\n",
            "---x\n",
        ] {
            assert!(needs_pieces(pieces), "{pieces:?}");
        }
    }

    /// Both readings of a file, as (documents as JSON, refused).
    fn readings(text: &str) -> [(Vec<Option<serde_json::Value>>, bool); 2] {
        let read = |pieces: bool| {
            let mut builder = Builder::new(text.len(), &Limits::default());
            builder.json_keys_only = true;
            if pieces {
                yaml_documents(&mut builder, text);
            } else {
                builder.run(text, Offset::default(), false);
            }
            let tree = builder.tree;
            let docs = tree
                .documents
                .iter()
                .map(|d| d.root.and_then(|r| super::super::to_json(&tree, r, 10_000)))
                .collect();
            (docs, tree.error.is_some())
        };
        [read(false), read(true)]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// When `needs_pieces` says no, one stream reads exactly like kubectl's pieces.
        #[test]
        fn the_stream_shortcut_reads_like_the_pieces(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "a: 1\n", "b:\n", "  - x\n", "- y\n", "---\n", "--- # c\n", "--- \n",
                "k: [1,\n", "]\n", "s: \"q\n", "\"\n", "{", "}", "#c\n", "  ", "c: d\n",
                "? ", ": ", "|\n", "  t\n", "&a ", "*a\n", "---", "\n",
            ]),
            0..40,
        )) {
            let text = parts.concat();
            if !needs_pieces(&text) && !starts_as_json(&text) {
                let [stream, pieces] = readings(&text);
                // The refusal must agree; documents too when both read the file.
                proptest::prop_assert_eq!(stream.1, pieces.1, "{:?}", text);
                if !stream.1 {
                    proptest::prop_assert_eq!(stream.0, pieces.0, "{:?}", text);
                }
            }
        }
    }

    #[test]
    fn a_directive_is_refused_as_go_yaml_refuses_it() {
        let tree = parse_manifest("%YAML 1.2\n---\na: 1\n", &Limits::default());
        assert!(tree.error.is_some());
    }

    #[test]
    fn document_count_matches_a_stream_parser() {
        let text = "# head\n---\na: 1\n---\n# only a comment\n---\n...\n---\nb: 2\n---\n";
        let manifest = parse_manifest(text, &Limits::default());
        let stream = super::super::parse(text, &Limits::default());
        assert_eq!(manifest.documents.len(), stream.documents.len());
        assert_eq!(manifest.documents.len(), 5);
    }

    #[test]
    fn keys_without_a_json_form_are_refused_at_the_key() {
        for (text, line, column) in [
            ("a:\n  replicas: {{replicas}}\n", 2, 14),
            ("? [a, b]\n: x\n", 1, 3),
            ("data:\n  ~: x\n", 2, 3),
            ("data:\n  : x\n", 2, 3),
        ] {
            let tree = parse_manifest(text, &Limits::default());
            let err = tree.error.expect(text);
            assert!(err.message.contains("mapping key"), "{text:?}: {err:?}");
            assert_eq!(err.pos, Pos { line, column }, "{text:?}");
        }
        for fine in ["1: x\n", "true: x\n", "'null': x\n", "!!str ~: x\n"] {
            let tree = parse_manifest(fine, &Limits::default());
            assert!(tree.error.is_none(), "{fine:?}: {:?}", tree.error);
        }
        // The plain YAML reader (policies) keeps such keys.
        assert!(
            super::super::parse("? [a]\n: x\n", &Limits::default())
                .error
                .is_none()
        );
    }

    #[test]
    fn document_limit_counts_empty_documents() {
        let limits = Limits {
            max_documents: 2,
            ..Limits::default()
        };
        let tree = parse_manifest("---\n---\n---\n", &limits);
        assert!(tree.error.unwrap().message.contains("documents"));
    }
}
