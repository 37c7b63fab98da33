//! A small value tree with line/column positions for attestor and attestation files.
//!
//! Why not serde: these files are gcloud *output* formats that grow new keys, come as a
//! single object, a list, or a YAML stream, and errors must point at the offending value
//! (`file:line:column`). A positioned tree built from `saphyr-parser` events (already a
//! dependency for manifests) gives all of that with a few hundred lines, and keeps the
//! attestation module independent of the manifest tree. JSON is read by the same YAML 1.2
//! parser (JSON is YAML's flow subset); `serde_json` checks JSON files first so that JSON
//! syntax errors are reported in JSON terms, and serves as a position-less fallback for
//! the rare valid JSON that YAML rejects (tabs used as indentation).
//!
//! Budgets: nesting depth is limited (the formats are at most six levels deep) and alias
//! expansion is capped, so a hostile file cannot exhaust the stack or memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::AttestInputError;

/// Deepest nesting accepted. gcloud output nests at most six levels.
const MAX_DEPTH: usize = 64;
/// Most nodes that alias expansion may add to one file.
const MAX_ALIAS_NODES: usize = 100_000;

/// A node with the 1-based position of its first character (0 when unknown).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub line: u32,
    pub column: u32,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub value: Node,
}

impl Node {
    fn new(line: u32, column: u32, value: Value) -> Self {
        Node {
            line,
            column,
            value,
        }
    }

    /// The value of `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// A short name of the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Scalar(_) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn count(&self) -> usize {
        match &self.value {
            Value::Null | Value::Scalar(_) => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|e| e.value.count()).sum::<usize>(),
        }
    }
}

/// Parses `text` into its documents: one for JSON, one or more for a YAML stream (empty
/// documents are dropped).
pub(crate) fn parse_documents(text: &str, file: &str) -> Result<Vec<Node>, AttestInputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let looks_like_json = matches!(text.trim_start().chars().next(), Some('{' | '['));
    if looks_like_json {
        let json_error = |e: serde_json::Error| {
            AttestInputError::new(
                file,
                u32::try_from(e.line()).unwrap_or(u32::MAX),
                u32::try_from(e.column()).unwrap_or(u32::MAX),
                format!("invalid JSON: {}", json_message(&e)),
            )
        };
        // Validation only (no allocation); the tree comes from the YAML reader.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(json_error)?;
        return match parse_yaml(text, file) {
            Ok(docs) => Ok(docs),
            Err(YamlError::Syntax(_)) => {
                let json: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
                Ok(vec![from_json(&json)])
            }
            Err(YamlError::Structure(e)) => Err(e),
        };
    }
    parse_yaml(text, file).map_err(YamlError::into_inner)
}

/// Why YAML reading failed: the text is not YAML (for JSON input: fall back to
/// serde_json), or it is but its structure is refused (duplicate keys, budgets).
enum YamlError {
    Syntax(AttestInputError),
    Structure(AttestInputError),
}

impl YamlError {
    fn into_inner(self) -> AttestInputError {
        match self {
            YamlError::Syntax(e) | YamlError::Structure(e) => e,
        }
    }
}

impl From<AttestInputError> for YamlError {
    fn from(e: AttestInputError) -> Self {
        YamlError::Structure(e)
    }
}

/// serde_json's message without its " at line L column C" suffix (we print the position
/// ourselves).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ").and_then(|at| text.get(..at)) {
        Some(message) => message.to_string(),
        None => text,
    }
}

fn from_json(value: &serde_json::Value) -> Node {
    let value = match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Scalar(b.to_string()),
        serde_json::Value::Number(n) => Value::Scalar(n.to_string()),
        serde_json::Value::String(s) => Value::Scalar(s.clone()),
        serde_json::Value::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| Entry {
                    key: k.clone(),
                    value: from_json(v),
                })
                .collect(),
        ),
    };
    Node::new(0, 0, value)
}

fn position(span: &Span) -> (u32, u32) {
    (
        u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        u32::try_from(span.start.col().saturating_add(1)).unwrap_or(u32::MAX),
    )
}

/// A collection under construction.
enum Frame {
    Seq {
        line: u32,
        column: u32,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: u32,
        column: u32,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, u32, u32)>,
    },
}

struct Builder<'f> {
    file: &'f str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    root: Option<Node>,
}

impl Builder<'_> {
    fn error(&self, line: u32, column: u32, message: impl Into<String>) -> AttestInputError {
        AttestInputError::new(self.file, line, column, message)
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), AttestInputError> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let file = self.file;
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => match node.value {
                    Value::Scalar(text) => {
                        *key = Some((text, node.line, node.column));
                        Ok(())
                    }
                    Value::Null => {
                        *key = Some((String::new(), node.line, node.column));
                        Ok(())
                    }
                    _ => Err(AttestInputError::new(
                        file,
                        node.line,
                        node.column,
                        "a mapping key must be a plain string",
                    )),
                },
                Some((name, key_line, key_column)) => {
                    if entries.iter().any(|e| e.key == name) {
                        return Err(AttestInputError::new(
                            file,
                            key_line,
                            key_column,
                            format!("duplicate key `{name}`"),
                        ));
                    }
                    entries.push(Entry {
                        key: name,
                        value: node,
                    });
                    Ok(())
                }
            },
        }
    }

    fn open(&mut self, frame: Frame, line: u32, column: u32) -> Result<(), AttestInputError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                line,
                column,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self) -> Result<(), AttestInputError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                line,
                column,
                anchor,
                items,
            }) => (Node::new(line, column, Value::Seq(items)), anchor),
            Some(Frame::Map {
                line,
                column,
                anchor,
                entries,
                ..
            }) => (Node::new(line, column, Value::Map(entries)), anchor),
            None => return Err(self.error(0, 0, "unbalanced YAML events")),
        };
        self.complete(node, anchor)
    }
}

fn parse_yaml(text: &str, file: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
    };
    let mut documents = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            YamlError::Syntax(AttestInputError::new(
                file,
                u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
                u32::try_from(e.marker().col().saturating_add(1)).unwrap_or(u32::MAX),
                format!("invalid YAML: {}", e.info()),
            ))
        })?;
        let (line, column) = position(&span);
        match event {
            Event::DocumentStart(_) => {
                builder.root = None;
                builder.anchors.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = builder.root.take()
                    && !matches!(root.value, Value::Null)
                {
                    documents.push(root);
                }
            }
            Event::Scalar(value, style, anchor, _tag) => {
                let is_null = style == ScalarStyle::Plain
                    && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let value = if is_null {
                    Value::Null
                } else {
                    Value::Scalar(value.into_owned())
                };
                builder.complete(Node::new(line, column, value), anchor)?;
            }
            Event::SequenceStart(anchor, _tag) => builder.open(
                Frame::Seq {
                    line,
                    column,
                    anchor,
                    items: Vec::new(),
                },
                line,
                column,
            )?,
            Event::MappingStart(anchor, _tag) => builder.open(
                Frame::Map {
                    line,
                    column,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                },
                line,
                column,
            )?,
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
            Event::Alias(id) => {
                let Some(node) = builder.anchors.get(&id).cloned() else {
                    return Err(builder
                        .error(line, column, "alias to an unknown anchor")
                        .into());
                };
                builder.alias_nodes = builder.alias_nodes.saturating_add(node.count());
                if builder.alias_nodes > MAX_ALIAS_NODES {
                    return Err(builder
                        .error(
                            line,
                            column,
                            format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        )
                        .into());
                }
                builder.complete(node, 0)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_positions_and_streams() {
        let docs =
            parse_documents("---\na: 1\nb:\n  - x\n---\n---\nc: null\n", "f.yaml").expect("parses");
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").expect("b");
        assert_eq!((b.line, b.column), (4, 3));
        assert!(matches!(
            docs[1].get("c").map(|n| &n.value),
            Some(Value::Null)
        ));
    }

    #[test]
    fn json_errors_are_json_errors() {
        let err = parse_documents("{\n  \"a\": 1,\n  \"b\" 2\n}", "f.json").expect_err("bad");
        assert_eq!((err.line, err.column), (3, 7));
        assert!(
            err.message.starts_with("invalid JSON: expected `:`"),
            "{err}"
        );
    }

    #[test]
    fn json_with_tabs_falls_back() {
        let docs = parse_documents("{\n\t\"a\": [\n\t\t\"x\"\n\t]\n}", "f.json").expect("ok");
        assert_eq!(docs.len(), 1);
        assert!(docs[0].get("a").is_some());
    }

    #[test]
    fn duplicate_keys_and_depth() {
        let err = parse_documents("a: 1\nb: 2\na: 3\n", "f.yaml").expect_err("dup");
        assert_eq!((err.line, err.column), (3, 1));
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = parse_documents(&deep, "f.yaml").expect_err("deep");
        assert!(err.message.contains("nesting"), "{err}");
    }

    #[test]
    fn alias_budget() {
        let mut text = String::from("a: &a [1,1,1,1,1,1,1,1,1,1]\n");
        let mut prev = 'a';
        for c in 'b'..='h' {
            text.push_str(&format!(
                "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = c;
        }
        let err = parse_documents(&text, "bomb.yaml").expect_err("bomb");
        assert!(err.message.contains("aliases expand"), "{err}");
    }
}
