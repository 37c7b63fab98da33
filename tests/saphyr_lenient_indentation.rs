//! The vendored saphyr-parser fork (vendor/saphyr-parser/PATCHES.md): the opt-in
//! `lenient_indentation` accepts what libyaml accepts, with the events and spans of the
//! correctly indented equivalent, and the default stays strict YAML 1.2.

use saphyr_parser::{Event, Parser};

/// Events (with their scalar text) and the start line/column of each, or the error message.
fn events(text: &str, lenient: bool) -> Result<Vec<(String, usize, usize)>, String> {
    let mut parser = Parser::new_from_str(text).lenient_indentation(lenient);
    let mut out = Vec::new();
    loop {
        match parser.next_event() {
            None => return Ok(out),
            Some(Ok((event, span))) => {
                let name = match &event {
                    Event::Scalar(text, ..) => format!("scalar {text}"),
                    other => format!("{other:?}"),
                };
                out.push((name, span.start.line(), span.start.col()));
            }
            Some(Err(err)) => return Err(err.info().to_string()),
        }
    }
}

/// Lenient events without positions, to compare with an indented equivalent.
fn shapes(text: &str) -> Vec<String> {
    events(text, true)
        .expect("lenient parse")
        .into_iter()
        .map(|(name, _, _)| name)
        .collect()
}

const CASES: &[(&str, &str, &str)] = &[
    (
        "flow sequence closed under its key",
        "a:\n  args: [\n  x,\n  y\n  ]\n",
        "a:\n  args: [\n    x,\n    y\n    ]\n",
    ),
    (
        "flow sequence continued at column 1",
        "a:\n  cmd: [sh, -c,\n\"echo hi\"\n]\n",
        "a:\n  cmd: [sh, -c,\n    \"echo hi\"\n    ]\n",
    ),
    (
        "flow mapping closed left of its key",
        "m:\n  labels: {\n a: b,\n c: d\n}\n",
        "m:\n  labels: {\n    a: b,\n    c: d\n    }\n",
    ),
    (
        "double-quoted scalar continued left of its key",
        "d:\n  s: \"one\n two\nthree\"\n",
        "d:\n  s: \"one\n    two\n    three\"\n",
    ),
    (
        "single-quoted scalar continued at the key's column",
        "d:\n  s: 'one\n  two'\n",
        "d:\n  s: 'one\n    two'\n",
    ),
];

#[test]
fn default_stays_strict_yaml_1_2() {
    for (name, lenient_text, indented) in CASES {
        assert!(
            events(lenient_text, false).is_err(),
            "{name}: strict parse accepted it"
        );
        assert!(
            events(indented, false).is_ok(),
            "{name}: indented form refused"
        );
    }
}

#[test]
fn lenient_accepts_with_the_indented_events() {
    for (name, lenient_text, indented) in CASES {
        assert_eq!(shapes(lenient_text), shapes(indented), "{name}");
    }
}

#[test]
fn lenient_spans_are_where_the_text_is() {
    let got = events("a:\n  cmd: [sh,\n\"x y\"\n]\n", true).expect("lenient");
    let x = got
        .iter()
        .find(|(name, ..)| name == "scalar x y")
        .expect("scalar");
    assert_eq!((x.1, x.2), (3, 0));
    let folded = events("d:\n  s: \"one\ntwo\"\n", true).expect("lenient");
    assert!(
        folded
            .iter()
            .any(|(name, l, c)| name == "scalar one two" && *l == 2 && *c == 5)
    );
}

#[test]
fn lenient_keeps_block_structure_checks() {
    for refused in [
        "a:\n  b: 1\n c: 2\n",
        "a:\n\tb: 1\n",
        "x: \"one\n---\ntwo\"\n",
        "a: [1,\n...\n]\n",
        "a: [1, 2\n",
    ] {
        assert!(events(refused, true).is_err(), "{refused:?} accepted");
    }
}
