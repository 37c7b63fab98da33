//! Terraform, read without running Terraform: `.tf` configuration (HCL with spans) and plan
//! JSON (`terraform show -json PLAN`), both turned into one generic, located model —
//! resources by type, each with its attributes and nested blocks as a value tree where every
//! value knows its `file:line:column`.
//!
//! Why generic: policy sources (contract §13) and Cloud Run resources (§12 item 6) read the
//! same files; each caller maps the resource types it knows. Nothing here guesses a value:
//! what is not a literal (contract §13 item 3) becomes [`Value::Unresolved`] with the reason,
//! located at the expression, and the caller decides whether it matters.
//!
//! Shape of the model (the plan JSON shape, so that one mapping serves both inputs):
//! attributes are object keys; nested blocks `b { … }` are a key `b` holding a list of
//! objects, one per block, as `planned_values` prints them.

mod hcl;
mod plan;

pub use hcl::{Reference, parse_module};
pub use plan::{Plan, UNKNOWN_UNTIL_APPLY, is_plan_json, parse_plan};

use crate::yaml::{Pos, Span};

/// Byte offsets → 1-based line and column in Unicode code points (the tool's convention
/// everywhere, SARIF `columnKind: unicodeCodePoints`).
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The position of byte `offset` (clamped to the text; a offset inside a UTF-8 sequence
    /// counts the sequence's character).
    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text
            .get(start..)
            .map(|rest| {
                rest.char_indices()
                    .take_while(|(i, _)| start + i < offset)
                    .count()
            })
            .unwrap_or(0);
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    pub fn span(&self, text: &str, range: std::ops::Range<usize>) -> Span {
        Span {
            start: self.pos(text, range.start),
            end: self.pos(text, range.end),
        }
    }
}

/// One file of a module or the plan, as it is displayed in diagnostics.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub display: String,
    pub text: String,
}

/// Where a value is written: an index into the file list of its [`Module`] or [`Plan`], and
/// the span in that file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    pub file: usize,
    pub span: Span,
}

/// A located value.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// As written (HCL) or printed (JSON).
    Number(String),
    String(String),
    /// Tuples, lists, sets, and the blocks of one type.
    List(Vec<Node>),
    /// Objects and block bodies, in source order.
    Object(Vec<Attr>),
    /// Not a literal: why, in words ("a `for` expression", "unknown until apply").
    Unresolved(String),
    /// `TYPE.NAME.ATTR`: another resource's attribute, unresolved unless the caller knows
    /// how to resolve it (attestor names in policy sources).
    Reference(Reference),
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub key: String,
    pub key_loc: Loc,
    pub value: Node,
}

impl Node {
    /// The attribute `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_attr(key).map(|a| &a.value)
    }

    pub fn get_attr(&self, key: &str) -> Option<&Attr> {
        match &self.value {
            Value::Object(attrs) => attrs.iter().rev().find(|a| a.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The reason when the value is not known.
    pub fn unresolved(&self) -> Option<String> {
        match &self.value {
            Value::Unresolved(why) => Some(why.clone()),
            Value::Reference(r) => Some(format!("another resource's attribute (`{}`)", r.text)),
            _ => None,
        }
    }

    /// "a string", "a list", … for type errors.
    pub fn describe(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Object(_) => "an object",
            Value::Unresolved(_) | Value::Reference(_) => "a value that is not a literal",
        }
    }
}

/// One `resource` (or planned resource instance).
#[derive(Clone, Debug)]
pub struct Resource {
    pub resource_type: String,
    pub name: String,
    /// `TYPE.NAME` in a configuration; the plan's `address`
    /// (`module.x.TYPE.NAME["key"]`) in a plan.
    pub address: String,
    /// The block header (`resource "T" "N"`) or the plan entry.
    pub loc: Loc,
    /// The body: an [`Value::Object`].
    pub body: Node,
    /// `count` / `for_each` of a configuration resource: its instances are not literal.
    pub repetition: Option<(String, Loc)>,
}

/// A syntax error or an unreadable file.
#[derive(Clone, Debug)]
pub struct ReadError {
    pub loc: Loc,
    pub message: String,
}

/// A `.tf` file or a folder of `.tf` files read as one module (module sources are not
/// followed, contract §13 item 3).
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub files: Vec<SourceFile>,
    pub resources: Vec<Resource>,
    pub errors: Vec<ReadError>,
}

impl Module {
    /// Resources of one type, in file order.
    pub fn of_type<'m>(&'m self, resource_type: &'m str) -> impl Iterator<Item = &'m Resource> {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_code_points() {
        let text = "a = \"é\"\nbé = 1\n";
        let index = LineIndex::new(text);
        assert_eq!(index.pos(text, 0), Pos { line: 1, column: 1 });
        // `"é"` ends at byte 8 (é is two bytes): column 8 (after 7 characters).
        assert_eq!(index.pos(text, 8), Pos { line: 1, column: 8 });
        let b = text.find("bé").unwrap_or(0);
        assert_eq!(index.pos(text, b + 3), Pos { line: 2, column: 3 });
        assert_eq!(index.pos(text, 10_000).line, 3);
    }
}
