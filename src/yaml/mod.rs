//! YAML front end: a positioned, arena-backed tree built from `saphyr-parser` events.
//!
//! Why our own tree: Kubernetes manifests need a line and column on every key and value,
//! multi-document streams, and hardening against hostile input (see DEPENDENCIES.md).
//! The builder is iterative (no recursion that could overflow a stack), enforces a nesting
//! depth limit, charges every alias against an expansion budget (billion laughs), and records
//! duplicate keys instead of failing. Aliases share the anchored node (a DAG), so they cost
//! no memory; the budget protects code that walks the tree.

mod build;
mod json;
mod kubectl;
mod scalar;

pub use build::parse;
use build::{Builder, Offset};
pub use json::to_json;

pub use kubectl::parse_manifest;

pub use scalar::{ScalarKind, resolve_plain, route_note};

use saphyr_parser::ScalarStyle;
use std::borrow::Cow;
use std::collections::HashMap;

/// Index of a node in a [`Tree`].
pub type NodeId = u32;

/// A 1-based line and 1-based column counted in Unicode code points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A half-open range of positions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Tree<'_> {
    /// The checks every strict settings file (config, test suite) starts with: the parse
    /// error, duplicate keys, and exactly one document. Each problem goes to `error` (span,
    /// message, label); `None` when the file cannot be read further, else the document's
    /// root (`Some(None)` for an empty file).
    pub fn single_document_root(
        &self,
        what: &str,
        mut error: impl FnMut(Span, String, &'static str),
    ) -> Option<Option<NodeId>> {
        if let Some(err) = &self.error {
            let at = Span {
                start: err.pos,
                end: err.pos,
            };
            error(
                at,
                format!("not valid YAML: {}", err.message),
                "parsing stopped here",
            );
            return None;
        }
        for dup in &self.duplicates {
            let message = format!(
                "`{}` is repeated (first at line {}); say it once",
                dup.key, dup.first.start.line
            );
            error(dup.span, message, "repeated key");
        }
        if self.documents.len() > 1 {
            let span = self
                .documents
                .get(1)
                .and_then(|d| d.root)
                .map(|r| self.span(r))
                .unwrap_or_default();
            error(
                span,
                format!("a {what} file holds one YAML document"),
                "second document",
            );
            return None;
        }
        Some(self.documents.first().and_then(|d| d.root))
    }
}

impl Span {
    /// The columns of `text[start..end]` inside the scalar `text` written at this span, when
    /// the scalar is on one line and has no escapes (otherwise the whole scalar): a
    /// diagnostic can underline the offending part of a pattern, not the whole value.
    pub fn within_scalar(self, text: &str, start: usize, end: usize) -> Span {
        let span = self;
        let width = span.end.column.saturating_sub(span.start.column);
        let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        let quote = if width == chars {
            0
        } else if width == chars.saturating_add(2) {
            1
        } else {
            return span;
        };
        if span.start.line != span.end.line || start > end {
            return span;
        }
        let (Some(before), Some(inner)) = (text.get(..start), text.get(start..end)) else {
            return span;
        };
        let col = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let first = span.start.column + quote + col(before.chars().count());
        Span {
            start: Pos {
                line: span.start.line,
                column: first,
            },
            end: Pos {
                line: span.start.line,
                column: first + col(inner.chars().count()),
            },
        }
    }
}

/// How a scalar was written; Kubernetes (go-yaml v2, YAML 1.1) only resolves plain scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Style {
    fn from_raw(style: ScalarStyle) -> Style {
        match style {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

/// A node's value. Collections hold a range of the tree's shared child lists, so that a
/// file's tree is a few flat vectors (no allocation per collection, 48-byte nodes).
#[derive(Debug)]
pub enum Value<'a> {
    Scalar {
        /// Borrowed from the source text when the scalar needs no unescaping or folding.
        text: Cow<'a, str>,
        style: Style,
        /// The tag suffix when one was written (`!!str` → `str`), as an index into the tree's
        /// tags; [`NO_TAG`] for none (nearly every scalar).
        tag: u32,
    },
    /// Items `start..start + len` of the tree's sequence items.
    Seq(Children),
    /// Pairs `start..start + len` of the tree's mapping entries.
    Map(Children),
}

/// A scalar without a tag.
const NO_TAG: u32 = u32::MAX;

/// Where a collection's children are in the tree's shared lists.
#[derive(Clone, Copy, Debug, Default)]
pub struct Children {
    start: u32,
    len: u32,
}

impl Children {
    fn range(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }

    /// The children appended to `list` from `start` on.
    fn since<T>(list: &[T], start: usize) -> Children {
        Children {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(list.len().saturating_sub(start)).unwrap_or(0),
        }
    }
}

#[derive(Debug)]
pub struct Node<'a> {
    pub value: Value<'a>,
    pub span: Span,
}

/// Limits that keep hostile input bounded.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum nesting of sequences and mappings.
    pub max_depth: usize,
    /// Maximum number of nodes reachable through aliases, summed over the file.
    pub alias_budget: u64,
    /// Maximum number of documents in one file.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            alias_budget: 1_000_000,
            max_documents: 100_000,
        }
    }
}

/// One document of a stream.
#[derive(Debug)]
pub struct Document {
    /// 0-based index of the document in its file.
    pub index: u32,
    /// `None` for an empty or comments-only document.
    pub root: Option<NodeId>,
}

/// A key that appears twice in one mapping.
#[derive(Debug, Clone)]
pub struct DuplicateKey {
    pub document: u32,
    pub key: String,
    pub span: Span,
    pub first: Span,
}

/// Why a file could not be (fully) parsed.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub document: u32,
    pub pos: Pos,
    pub message: String,
}

impl YamlError {
    /// One of binauthz-lint's own resource limits (depth, aliases, documents) stopped the
    /// reading, not the syntax: each of those messages names the option that raises it.
    /// The parser's own flow-nesting guard (`recursion limit exceeded`) counts too.
    pub fn is_limit(&self) -> bool {
        self.message.contains("(raise --")
            || self.message.contains("; raise --")
            || self.message.contains("recursion limit")
    }
}

/// A parsed file: an arena of nodes and the documents that point into it.
#[derive(Debug, Default)]
pub struct Tree<'a> {
    nodes: Vec<Node<'a>>,
    /// The items of every sequence, each sequence's contiguous.
    items: Vec<NodeId>,
    /// The entries of every mapping, each mapping's contiguous, as written.
    pairs: Vec<(NodeId, NodeId)>,
    /// Tags written in the file (rare), referenced by index from scalars.
    tags: Vec<String>,
    pub documents: Vec<Document>,
    pub duplicates: Vec<DuplicateKey>,
    /// Set when parsing stopped early; documents before the error are kept.
    pub error: Option<YamlError>,
    /// Some mapping has a key that is not a scalar, a `<<` key or a repeated key: only then
    /// can [`Tree::entries`] differ from the entries as written (nearly every manifest has
    /// none, and its lookups skip the merge and last-wins work).
    irregular_keys: bool,
}

/// Nodes of a tree are only dropped as a flat vector, so deep trees never recurse on drop.
impl<'a> Tree<'a> {
    pub fn node(&self, id: NodeId) -> Option<&Node<'a>> {
        self.nodes.get(id as usize)
    }

    pub fn span(&self, id: NodeId) -> Span {
        self.node(id).map(|n| n.span).unwrap_or_default()
    }

    /// The scalar text of a node, whatever its style.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.value {
            Value::Scalar { text, .. } => Some(text.as_ref()),
            _ => None,
        }
    }

    /// The scalar with its style and tag.
    pub fn scalar_full(&self, id: NodeId) -> Option<(&str, Style, Option<&str>)> {
        match &self.node(id)?.value {
            Value::Scalar { text, style, tag } => Some((text.as_ref(), *style, self.tag(*tag))),
            _ => None,
        }
    }

    /// How Kubernetes' YAML 1.1 decoder reads a scalar node.
    pub fn scalar_kind(&self, id: NodeId) -> Option<ScalarKind> {
        let (text, style, tag) = self.scalar_full(id)?;
        Some(match tag {
            Some("str") => ScalarKind::Str,
            Some(_) | None if style != Style::Plain => ScalarKind::Str,
            _ => resolve_plain(text),
        })
    }

    /// A string value as Kubernetes reads it: quoted scalars, and plain scalars that do not
    /// resolve to null, booleans or numbers.
    pub fn string(&self, id: NodeId) -> Option<&str> {
        match self.scalar_kind(id)? {
            ScalarKind::Str => self.scalar(id),
            _ => None,
        }
    }

    pub fn is_null(&self, id: NodeId) -> bool {
        matches!(self.scalar_kind(id), Some(ScalarKind::Null))
    }

    fn tag(&self, tag: u32) -> Option<&str> {
        self.tags.get(tag as usize).map(String::as_str)
    }

    pub fn seq(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.node(id)?.value {
            Value::Seq(items) => self.items.get(items.range()),
            _ => None,
        }
    }

    pub fn map(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.node(id)?.value {
            Value::Map(entries) => self.pairs.get(entries.range()),
            _ => None,
        }
    }

    /// Look a key up in a mapping: the last occurrence wins (as a non-strict Kubernetes
    /// decoder keeps it), then YAML merge keys (`<<`) are consulted, explicit keys first.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_entry(map, key).map(|(_, v)| v)
    }

    /// Like [`Tree::get`], returning the key node too.
    pub fn get_entry(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        self.get_entry_depth(map, key, 0)
    }

    fn get_entry_depth(&self, map: NodeId, key: &str, depth: usize) -> Option<(NodeId, NodeId)> {
        let entries = self.map(map)?;
        if let Some(found) = entries
            .iter()
            .rev()
            .find(|(k, _)| self.scalar(*k) == Some(key))
        {
            return Some(*found);
        }
        // Merge keys: bounded depth keeps a cycle-free walk cheap even on hostile input.
        if depth >= 8 || !self.irregular_keys {
            return None;
        }
        for (k, v) in entries.iter().rev() {
            if self.is_merge_key(*k) {
                let sources: Vec<NodeId> = match self.seq(*v) {
                    Some(items) => items.to_vec(),
                    None => vec![*v],
                };
                for source in sources {
                    if let Some(found) = self.get_entry_depth(source, key, depth + 1) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    fn is_merge_key(&self, id: NodeId) -> bool {
        matches!(self.scalar_full(id), Some(("<<", Style::Plain, _)))
    }

    /// Follow a route of mapping keys.
    pub fn path(&self, mut node: NodeId, route: &[&str]) -> Option<NodeId> {
        for key in route {
            node = self.get(node, key)?;
        }
        Some(node)
    }

    /// The entries of a mapping with merge keys expanded (explicit keys win, last wins).
    pub fn entries(&self, map: NodeId) -> Vec<(NodeId, NodeId)> {
        let Some(own) = self.map(map) else {
            return Vec::new();
        };
        if !self.irregular_keys {
            return own.to_vec();
        }
        // Fast path for nearly every mapping: no merge key and no repeated key, so the
        // entries are exactly as written (no hashing, one allocation).
        if own.len() <= 32 && !own.iter().any(|(k, _)| self.is_merge_key(*k)) {
            let distinct = own.iter().enumerate().all(|(i, (k, _))| {
                let name = self.scalar(*k);
                own[..i].iter().all(|(p, _)| self.scalar(*p) != name)
            });
            if distinct {
                return own.to_vec();
            }
        }
        let mut out: Vec<(NodeId, NodeId)> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut merged: Vec<(NodeId, NodeId)> = Vec::new();
        for (k, v) in own {
            if self.is_merge_key(*k) {
                let sources: Vec<NodeId> = match self.seq(*v) {
                    Some(items) => items.to_vec(),
                    None => vec![*v],
                };
                for source in sources {
                    if let Some(entries) = self.map(source) {
                        merged.extend(entries.iter().filter(|(mk, _)| !self.is_merge_key(*mk)));
                    }
                }
                continue;
            }
            let name = self.scalar(*k).unwrap_or("");
            if let Some(i) = seen.get(name) {
                out[*i] = (*k, *v);
            } else {
                seen.insert(name, out.len());
                out.push((*k, *v));
            }
        }
        for (k, v) in merged {
            let name = self.scalar(k).unwrap_or("");
            if !seen.contains_key(name) {
                seen.insert(name, out.len());
                out.push((k, v));
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Builds a one-document tree node by node, for inputs that are not YAML text but are
/// validated as a policy document all the same (Terraform, Config Connector `spec`): every
/// node keeps the span of the value it came from in its own source file, so diagnostics
/// point there. Strings should be `DoubleQuoted` (always strings), numbers, booleans and
/// null `Plain` (resolved like YAML).
#[derive(Debug, Default)]
pub struct TreeBuilder {
    tree: Tree<'static>,
}

impl TreeBuilder {
    fn push(&mut self, value: Value<'static>, span: Span) -> NodeId {
        let id = NodeId::try_from(self.tree.nodes.len()).unwrap_or(NodeId::MAX);
        self.tree.nodes.push(Node { value, span });
        id
    }

    pub fn scalar(&mut self, text: impl Into<String>, style: Style, span: Span) -> NodeId {
        self.push(
            Value::Scalar {
                text: Cow::Owned(text.into()),
                style,
                tag: NO_TAG,
            },
            span,
        )
    }

    pub fn seq(&mut self, items: Vec<NodeId>, span: Span) -> NodeId {
        let start = self.tree.items.len();
        self.tree.items.extend(items);
        let children = Children::since(&self.tree.items, start);
        self.push(Value::Seq(children), span)
    }

    pub fn map(&mut self, entries: Vec<(NodeId, NodeId)>, span: Span) -> NodeId {
        let start = self.tree.pairs.len();
        self.tree.pairs.extend(entries);
        let children = Children::since(&self.tree.pairs, start);
        self.push(Value::Map(children), span)
    }

    /// Copy a node of another tree (spans, styles and tags kept), for sources whose values
    /// are YAML already (a Config Connector `spec`).
    pub fn copy(&mut self, from: &Tree, node: NodeId) -> NodeId {
        self.copy_depth(from, node, 0)
    }

    fn copy_depth(&mut self, from: &Tree, node: NodeId, depth: usize) -> NodeId {
        let span = from.span(node);
        // Parsed trees are at most `Limits::max_depth` deep; aliases cannot make a cycle.
        match from.node(node).map(|n| &n.value) {
            Some(Value::Scalar { text, style, tag }) => {
                let tag = match from.tag(*tag) {
                    Some(t) => {
                        self.tree.tags.push(t.to_string());
                        u32::try_from(self.tree.tags.len() - 1).unwrap_or(NO_TAG)
                    }
                    None => NO_TAG,
                };
                let value = Value::Scalar {
                    text: Cow::Owned(text.to_string()),
                    style: *style,
                    tag,
                };
                self.push(value, span)
            }
            Some(Value::Seq(_)) if depth < 512 => {
                let items = from
                    .seq(node)
                    .unwrap_or_default()
                    .iter()
                    .map(|i| self.copy_depth(from, *i, depth + 1))
                    .collect();
                self.seq(items, span)
            }
            Some(Value::Map(_)) if depth < 512 => {
                let entries = from
                    .map(node)
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| {
                        (
                            self.copy_depth(from, *k, depth + 1),
                            self.copy_depth(from, *v, depth + 1),
                        )
                    })
                    .collect();
                self.map(entries, span)
            }
            _ => self.push(
                Value::Scalar {
                    text: Cow::Borrowed("null"),
                    style: Style::Plain,
                    tag: NO_TAG,
                },
                span,
            ),
        }
    }

    /// The tree with `root` as its only document.
    pub fn finish(mut self, root: NodeId) -> Tree<'static> {
        // Its mappings are not checked for repeated keys: lookups take the general path.
        self.tree.irregular_keys = true;
        self.tree.documents.push(Document {
            index: 0,
            root: Some(root),
        });
        self.tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_root(tree: &Tree, i: usize) -> NodeId {
        tree.documents[i].root.unwrap()
    }

    #[test]
    fn positions_of_values() {
        let tree = parse("a: 1\nb:\n  c: \"x\"\n  d: [p, 'q']\n", &Limits::default());
        assert!(tree.error.is_none());
        let root = doc_root(&tree, 0);
        let c = tree.path(root, &["b", "c"]).unwrap();
        assert_eq!(tree.span(c).start, Pos { line: 3, column: 6 });
        let d = tree.path(root, &["b", "d"]).unwrap();
        let q = tree.seq(d).unwrap()[1];
        assert_eq!(
            tree.span(q).start,
            Pos {
                line: 4,
                column: 10
            }
        );
        assert_eq!(tree.string(q), Some("q"));
    }

    #[test]
    fn multi_document_streams() {
        let tree = parse(
            "---\na: 1\n---\n# only a comment\n---\n...\n---\nb: 2\n",
            &Limits::default(),
        );
        assert!(tree.error.is_none(), "{:?}", tree.error);
        let empty: Vec<bool> = tree
            .documents
            .iter()
            .map(|d| d.root.is_none_or(|r| tree.is_null(r)))
            .collect();
        assert_eq!(empty, vec![false, true, true, false]);
        assert_eq!(tree.documents[3].index, 3);
    }

    #[test]
    fn duplicates_are_recorded_and_last_wins() {
        let tree = parse("a: 1\na: 2\n", &Limits::default());
        assert_eq!(tree.duplicates.len(), 1);
        assert_eq!(tree.duplicates[0].span.start.line, 2);
        let root = doc_root(&tree, 0);
        assert_eq!(tree.scalar(tree.get(root, "a").unwrap()), Some("2"));
    }

    #[test]
    fn merge_keys() {
        let tree = parse(
            "base: &b {x: 1, y: 2}\nobj:\n  <<: *b\n  y: 3\n",
            &Limits::default(),
        );
        let root = doc_root(&tree, 0);
        let obj = tree.get(root, "obj").unwrap();
        assert_eq!(tree.scalar(tree.get(obj, "x").unwrap()), Some("1"));
        assert_eq!(tree.scalar(tree.get(obj, "y").unwrap()), Some("3"));
        assert_eq!(tree.entries(obj).len(), 2);
    }

    #[test]
    fn depth_limit() {
        let deep = "[".repeat(10_000);
        let tree = parse(&deep, &Limits::default());
        let err = tree.error.unwrap();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
        let deep_block = "- ".repeat(5_000) + "x\n";
        let tree = parse(&deep_block, &Limits::default());
        assert!(tree.error.is_some(), "{} docs", tree.documents.len());
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut s = String::from("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            s.push_str(&format!(
                "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = n;
        }
        let tree = parse(&s, &Limits::default());
        assert!(tree.error.unwrap().message.contains("aliases"));
    }

    #[test]
    fn errors_have_positions() {
        let tree = parse("a: 1\nb: [1, 2\n", &Limits::default());
        let err = tree.error.unwrap();
        assert!(err.pos.line >= 2, "{err:?}");
    }

    #[test]
    fn bom_and_crlf() {
        let tree = parse("\u{FEFF}a: x\r\nb: z\r\n", &Limits::default());
        assert!(tree.error.is_none());
        let root = doc_root(&tree, 0);
        let b = tree.get(root, "b").unwrap();
        assert_eq!(tree.span(b).start, Pos { line: 2, column: 4 });
        assert_eq!(tree.string(b), Some("z"));
    }
}
