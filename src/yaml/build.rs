//! Building a [`Tree`] from the parser's events: positions, limits (depth, documents, alias
//! budget), kubectl's JSON-key rule and duplicate keys, recorded as the events arrive.

use super::*;
use saphyr_parser::{Event, Parser, Span as RawSpan};
use std::borrow::Cow;
use std::collections::HashMap;

/// Where a slice handed to the parser starts in the file, so that positions stay those of
/// the file: lines before it, and columns before it on its first line.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Offset {
    pub(super) lines: u32,
    pub(super) first_line_columns: u32,
}

impl Offset {
    pub(super) fn pos(self, marker: saphyr_parser::Marker) -> Pos {
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

    pub(super) fn span(self, raw: RawSpan) -> Span {
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

pub(super) struct Builder<'a> {
    pub(super) tree: Tree<'a>,
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
    pub(super) json_keys_only: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn new(text_len: usize, limits: &Limits) -> Builder<'a> {
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
    pub(super) fn run(&mut self, text: &'a str, offset: Offset, first_document_only: bool) -> bool {
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
    pub(super) fn documents(&self) -> usize {
        self.tree.documents.len()
    }

    /// Start a document; refuses past the document limit.
    pub(super) fn begin_document(&mut self) -> Result<(), String> {
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
    pub(super) fn empty_root(&mut self, at: Pos) -> Result<(), String> {
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

    pub(super) fn end_document(&mut self) {
        if self.in_document {
            self.tree.documents.push(Document {
                index: self.document,
                root: self.root.take(),
            });
            self.document = self.document.saturating_add(1);
            self.in_document = false;
        }
    }

    pub(super) fn fail(&mut self, at: Pos, message: String) {
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
