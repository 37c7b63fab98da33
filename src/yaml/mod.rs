//! YAML front end: a positioned, arena-backed tree built from `saphyr-parser` events.
//!
//! Why our own tree: Kubernetes manifests need a line and column on every key and value,
//! multi-document streams, and hardening against hostile input (see DEPENDENCIES.md).
//! The builder is iterative (no recursion that could overflow a stack), enforces a nesting
//! depth limit, charges every alias against an expansion budget (billion laughs), and records
//! duplicate keys instead of failing. Aliases share the anchored node (a DAG), so they cost
//! no memory; the budget protects code that walks the tree.

mod json;
mod kubectl;
mod scalar;

pub use json::to_json;

pub use kubectl::parse_manifest;

pub use scalar::{ScalarKind, resolve_plain, route_note};

use saphyr_parser::{Event, Parser, ScalarStyle, Span as RawSpan};
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

/// Where a slice handed to the parser starts in the file, so that positions stay those of
/// the file: lines before it, and columns before it on its first line.
#[derive(Clone, Copy, Debug, Default)]
struct Offset {
    lines: u32,
    first_line_columns: u32,
}

impl Offset {
    fn pos(self, marker: saphyr_parser::Marker) -> Pos {
        let line = u32::try_from(marker.line()).unwrap_or(u32::MAX);
        let mut column = u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX);
        if line <= 1 {
            column = column.saturating_add(self.first_line_columns);
        }
        Pos {
            line: line.saturating_add(self.lines),
            column,
        }
    }

    fn span(self, raw: RawSpan) -> Span {
        Span {
            start: self.pos(raw.start),
            end: self.pos(raw.end),
        }
    }
}

/// A null mapping key as go-yaml resolves it (without the full scalar resolution, which
/// would run on every key of every file).
fn is_null_key(text: &str, style: Style, tag: Option<&str>) -> bool {
    match tag {
        Some("null") => true,
        Some(_) => false,
        None => style == Style::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL"),
    }
}

/// A container being built. Its children live on the builder's shared `children` stack
/// from `first_child` on (keys and values alternate for mappings), so that building does not
/// grow one vector per container: the finished node gets one exactly-sized allocation.
struct Open {
    id: NodeId,
    is_map: bool,
    anchor: usize,
    first_child: usize,
    size: u64,
}

/// Parse a whole YAML (or JSON) stream as one YAML stream, with the indentation leniency of
/// libyaml (the parser of go-yaml, PyYAML and gcloud). Never panics; errors are data in
/// [`Tree::error`]. Manifests go through [`parse_manifest`], which reads them as kubectl does.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Tree<'a> {
    // Editors do not count a byte-order mark as a column.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut builder = Builder::new(text.len(), limits);
    builder.run(text, Offset::default(), false);
    builder.tree
}

struct Builder<'a> {
    tree: Tree<'a>,
    limits: Limits,
    stack: Vec<Open>,
    children: Vec<NodeId>,
    /// Each anchored node and the number of nodes under it, aliases expanded (saturating):
    /// what an alias to it costs the alias budget.
    anchors: HashMap<usize, (NodeId, u64)>,
    alias_spent: u64,
    document: u32,
    in_document: bool,
    root: Option<NodeId>,
    /// Where the slice being parsed starts in the file.
    offset: Offset,
    /// Refuse mapping keys that kubectl cannot turn into JSON object keys (collections, null).
    json_keys_only: bool,
}

impl<'a> Builder<'a> {
    fn new(text_len: usize, limits: &Limits) -> Builder<'a> {
        Builder {
            // Manifests have about one node per 15 bytes (one per 12 reserved, so that nearly
            // no file regrows its arena); collections hold about half of the nodes.
            tree: Tree {
                nodes: Vec::with_capacity(text_len / 12),
                items: Vec::with_capacity(text_len / 64),
                pairs: Vec::with_capacity(text_len / 32),
                ..Tree::default()
            },
            limits: *limits,
            stack: Vec::new(),
            children: Vec::with_capacity(256),
            anchors: HashMap::new(),
            alias_spent: 0,
            document: 0,
            in_document: false,
            root: None,
            offset: Offset::default(),
            json_keys_only: false,
        }
    }

    /// Feed the events of one YAML stream (a slice of the file starting at `offset`) into the
    /// tree, or only its first document (as go-yaml's `Unmarshal` reads). Returns `false`
    /// when building stopped on an error.
    fn run(&mut self, text: &'a str, offset: Offset, first_document_only: bool) -> bool {
        self.offset = offset;
        let mut parser = Parser::new_from_str(text).lenient_indentation(true);
        loop {
            match parser.next_event() {
                None => return true,
                Some(Ok((event, raw))) => {
                    let document_end = matches!(event, Event::DocumentEnd);
                    if let Err(message) = self.event(event, raw) {
                        self.fail(offset.pos(raw.start), message);
                        return false;
                    }
                    if self.tree.error.is_some() {
                        return false;
                    }
                    if document_end && first_document_only {
                        return true;
                    }
                }
                Some(Err(err)) => {
                    self.fail(offset.pos(*err.marker()), err.info().to_string());
                    return false;
                }
            }
        }
    }

    /// Number of documents finished so far.
    fn documents(&self) -> usize {
        self.tree.documents.len()
    }

    /// Start a document; refuses past the document limit.
    fn begin_document(&mut self) -> Result<(), String> {
        if self.tree.documents.len() >= self.limits.max_documents {
            return Err(format!(
                "more than {} documents in one file (raise --max-documents)",
                self.limits.max_documents
            ));
        }
        self.in_document = true;
        self.root = None;
        self.anchors.clear();
        Ok(())
    }

    /// A null scalar as the root of an empty document.
    fn empty_root(&mut self, at: Pos) -> Result<(), String> {
        let id = self.push_node(
            Value::Scalar {
                text: Cow::Borrowed(""),
                style: Style::Plain,
                tag: NO_TAG,
            },
            Span { start: at, end: at },
        )?;
        self.attach(id, 1);
        Ok(())
    }

    fn end_document(&mut self) {
        if self.in_document {
            self.tree.documents.push(Document {
                index: self.document,
                root: self.root.take(),
            });
            self.document = self.document.saturating_add(1);
            self.in_document = false;
        }
    }

    fn fail(&mut self, at: Pos, message: String) {
        if self.tree.error.is_none() {
            self.tree.error = Some(YamlError {
                document: self.document,
                pos: at,
                message,
            });
        }
    }

    fn push_node(&mut self, value: Value<'a>, span: Span) -> Result<NodeId, String> {
        let id = NodeId::try_from(self.tree.nodes.len())
            .map_err(|_| "too many YAML nodes in one file".to_string())?;
        self.tree.nodes.push(Node { value, span });
        Ok(id)
    }

    /// Attach a finished node to its parent (or make it the document root).
    fn attach(&mut self, id: NodeId, size: u64) {
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(open) => {
                open.size = open.size.saturating_add(size);
                self.children.push(id);
            }
        }
    }

    fn event(&mut self, event: Event<'a>, raw: RawSpan) -> Result<(), String> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => self.begin_document()?,
            Event::DocumentEnd => self.end_document(),
            Event::Alias(anchor) => {
                let (target, size) = *self
                    .anchors
                    .get(&anchor)
                    .ok_or_else(|| "alias to an unknown anchor".to_string())?;
                self.alias_spent = self.alias_spent.saturating_add(size);
                if self.alias_spent > self.limits.alias_budget {
                    return Err(format!(
                        "aliases expand to more than {} nodes (a \"billion laughs\" document?); raise --alias-budget if this is legitimate",
                        self.limits.alias_budget
                    ));
                }
                self.attach(target, size);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tag = match tag {
                    None => NO_TAG,
                    Some(t) => {
                        self.tree.tags.push(
                            if t.handle == "!!" || t.handle == "tag:yaml.org,2002:" {
                                t.suffix.clone()
                            } else {
                                format!("{}{}", t.handle, t.suffix)
                            },
                        );
                        u32::try_from(self.tree.tags.len() - 1).unwrap_or(NO_TAG)
                    }
                };
                let id = self.push_node(
                    Value::Scalar {
                        text,
                        style: Style::from_raw(style),
                        tag,
                    },
                    self.offset.span(raw),
                )?;
                if anchor > 0 {
                    self.anchors.insert(anchor, (id, 1));
                }
                self.attach(id, 1);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(format!(
                        "nesting deeper than {} levels (raise --max-depth if this is legitimate)",
                        self.limits.max_depth
                    ));
                }
                let is_map = matches!(event, Event::MappingStart(..));
                let placeholder = if is_map {
                    Value::Map(Children::default())
                } else {
                    Value::Seq(Children::default())
                };
                let id = self.push_node(placeholder, self.offset.span(raw))?;
                self.stack.push(Open {
                    id,
                    is_map,
                    anchor,
                    first_child: self.children.len(),
                    size: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let open = self
                    .stack
                    .pop()
                    .ok_or_else(|| "unbalanced collection end".to_string())?;
                let end = self.offset.pos(raw.end);
                let first = open.first_child.min(self.children.len());
                let value = if open.is_map {
                    let start = self.tree.pairs.len();
                    self.tree.pairs.extend(
                        self.children[first..]
                            .chunks_exact(2)
                            .map(|kv| (kv[0], kv[1])),
                    );
                    let pairs = Children::since(&self.tree.pairs, start);
                    if self.json_keys_only {
                        self.check_json_keys(pairs)?;
                    }
                    self.record_duplicates(pairs);
                    Value::Map(pairs)
                } else {
                    let start = self.tree.items.len();
                    self.tree.items.extend_from_slice(&self.children[first..]);
                    Value::Seq(Children::since(&self.tree.items, start))
                };
                self.children.truncate(first);
                if let Some(node) = self.tree.nodes.get_mut(open.id as usize) {
                    node.value = value;
                    if end > node.span.start {
                        node.span.end = end;
                    }
                }
                if open.anchor > 0 {
                    self.anchors.insert(open.anchor, (open.id, open.size));
                }
                self.attach(open.id, open.size);
            }
        }
        Ok(())
    }

    /// kubectl converts every document to JSON (sigs.k8s.io/yaml): a key that is a mapping or
    /// a sequence (`{{ placeholder }}` templates), or null, has no JSON form and the file is
    /// refused. Booleans and numbers become strings and are kept.
    fn check_json_keys(&mut self, pairs: Children) -> Result<(), String> {
        let tree = &self.tree;
        let problem = tree
            .pairs
            .get(pairs.range())
            .unwrap_or_default()
            .iter()
            .find_map(|(key, _)| {
                let what = match tree.node(*key).map(|n| &n.value) {
                    Some(Value::Map(_)) => "a mapping",
                    Some(Value::Seq(_)) => "a sequence",
                    Some(Value::Scalar { text, style, tag })
                        if is_null_key(text, *style, tree.tag(*tag)) =>
                    {
                        "null"
                    }
                    _ => return None,
                };
                Some((*key, what))
            });
        if let Some((key, what)) = problem {
            let at = self.tree.span(key).start;
            self.fail(
                at,
                format!(
                    "{what} used as a mapping key (an unrendered `{{{{ }}}}` template?): `kubectl apply -f` cannot convert it to a JSON key and refuses the file"
                ),
            );
            // Recorded above at the key; `fail` keeps the first error, so this one is dropped.
            return Err(String::new());
        }
        Ok(())
    }

    fn record_duplicates(&mut self, pairs: Children) {
        let tree = &self.tree;
        let pairs = tree.pairs.get(pairs.range()).unwrap_or_default();
        let mut irregular = false;
        let mut found = Vec::new();
        let duplicate = |key: NodeId, prev: NodeId, text: &str| DuplicateKey {
            document: self.document,
            key: text.to_string(),
            span: tree.span(key),
            first: tree.span(prev),
        };
        // Most mappings are small: compare pairwise without hashing or allocating.
        if pairs.len() <= 16 {
            for (i, (key, _)) in pairs.iter().enumerate() {
                let Some(text) = tree.scalar(*key) else {
                    irregular = true;
                    continue;
                };
                if text == "<<" {
                    irregular = true;
                    continue;
                }
                let earlier = pairs[..i]
                    .iter()
                    .rev()
                    .find(|(k, _)| tree.scalar(*k) == Some(text));
                if let Some((prev, _)) = earlier {
                    found.push(duplicate(*key, *prev, text));
                }
            }
        } else {
            let mut first: HashMap<&str, NodeId> = HashMap::with_capacity(pairs.len());
            for (key, _) in pairs {
                let Some(text) = tree.scalar(*key) else {
                    irregular = true;
                    continue;
                };
                if text == "<<" {
                    irregular = true;
                    continue;
                }
                if let Some(prev) = first.insert(text, *key) {
                    found.push(duplicate(*key, prev, text));
                }
            }
        }
        self.tree.irregular_keys |= irregular || !found.is_empty();
        self.tree.duplicates.extend(found);
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
