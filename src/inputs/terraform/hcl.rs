//! `.tf` files → [`Module`]: HCL parsed by `hcl-edit` (byte spans on every item), then
//! evaluated as far as contract §13 item 3 allows and no further:
//! - literals (strings without interpolation, heredocs, numbers, booleans, null, lists and
//!   objects of literals);
//! - `var.X` (and traversals into it, `var.X.key`, `var.X[0]`) → the literal `default` of
//!   its `variable` block, located at the `var.X` expression;
//! - `TYPE.NAME.ATTR` → a [`Value::Reference`] the caller may resolve (the policy source
//!   resolves attestor `name`/`id`; everyone else treats it as unresolved).
//!
//! Everything else (`dynamic` blocks, `for`, function calls, locals, conditionals,
//! operators, interpolation, module outputs, data sources) is [`Value::Unresolved`] with the
//! reason, at the expression.

use std::collections::HashMap;

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Block, BlockLabel, Body, Structure};
use hcl_edit::template::{Element, Template};

use super::{Attr, LineIndex, Loc, Module, Node, ReadError, Resource, SourceFile, Value};

/// Deepest bracket nesting we hand to the parser: `hcl-edit` parses recursively, and a stack
/// overflow cannot be caught. Real configurations nest a handful of levels.
const MAX_NESTING: usize = 64;

/// A reference to another resource's attribute: `TYPE.NAME.ATTR`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub resource_type: String,
    pub name: String,
    /// The attribute read (`name`, `id`, …); `None` for the bare resource.
    pub attr: Option<String>,
    /// True when the traversal indexes an instance (`T.N["k"].attr`) or goes deeper than one
    /// attribute: such a reference is never resolved.
    pub indexed: bool,
    /// The expression as written, for messages.
    pub text: String,
}

/// Parse the given files as one module.
pub fn parse_module(files: Vec<SourceFile>) -> Module {
    let mut module = Module {
        files,
        ..Module::default()
    };
    let mut parsed: Vec<(usize, Body)> = Vec::new();
    for (index, file) in module.files.iter().enumerate() {
        let lines = LineIndex::new(&file.text);
        if let Some(offset) = too_deep(&file.text) {
            module.errors.push(ReadError {
                loc: Loc {
                    file: index,
                    span: lines.span(&file.text, offset..offset),
                },
                message: format!("brackets nest deeper than {MAX_NESTING} levels"),
            });
            continue;
        }
        // A parser bug must not take the whole run down: a panic is this file's error.
        let text = file.text.as_str();
        let result = std::panic::catch_unwind(|| hcl_edit::parser::parse_body(text));
        let Ok(result) = result else {
            module.errors.push(ReadError {
                loc: Loc {
                    file: index,
                    span: lines.span(&file.text, 0..0),
                },
                message: "the HCL parser failed on this file (internal error)".to_string(),
            });
            continue;
        };
        match result {
            Ok(body) => parsed.push((index, body)),
            Err(err) => {
                let offset = err.location().offset();
                module.errors.push(ReadError {
                    loc: Loc {
                        file: index,
                        span: lines.span(&file.text, offset..offset),
                    },
                    message: format!("not valid HCL: {}", err.message()),
                });
            }
        }
    }
    // Variables first: any file may use a variable another file declares.
    let mut variables: HashMap<String, Node> = HashMap::new();
    let no_variables = HashMap::new();
    for (index, body) in &parsed {
        let eval = Evaluator::new(&module.files, *index, &no_variables);
        for block in body.get_blocks("variable") {
            let Some(name) = block.labels.first().map(label_text) else {
                continue;
            };
            let value = match block.body.get_attribute("default") {
                Some(attr) => eval.expr(&attr.value, 0),
                None => Node {
                    value: Value::Unresolved(format!(
                        "`var.{name}`, whose `variable` block has no `default`"
                    )),
                    loc: eval.loc(block.ident.span()),
                },
            };
            variables.insert(name.to_string(), value);
        }
    }
    for (index, body) in &parsed {
        let eval = Evaluator::new(&module.files, *index, &variables);
        for block in body.get_blocks("resource") {
            let (Some(resource_type), Some(name)) = (
                block.labels.first().map(label_text),
                block.labels.get(1).map(label_text),
            ) else {
                continue;
            };
            let repetition = ["count", "for_each"].iter().find_map(|meta| {
                block
                    .body
                    .get_attribute(meta)
                    .map(|a| (meta.to_string(), eval.loc(a.key.span())))
            });
            module.resources.push(Resource {
                resource_type: resource_type.to_string(),
                name: name.to_string(),
                address: format!("{resource_type}.{name}"),
                loc: eval.loc(header_span(block)),
                body: eval.body(&block.body, header_span(block), 0),
                repetition,
            });
        }
    }
    module
}

fn label_text(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Ident(ident) => ident.as_str(),
        BlockLabel::String(text) => text.as_str(),
    }
}

/// From the block's identifier to the end of its last label: one line, the block's name.
fn header_span(block: &Block) -> Option<std::ops::Range<usize>> {
    let start = block.ident.span()?.start;
    let end = block
        .labels
        .last()
        .and_then(|l| match l {
            BlockLabel::Ident(i) => i.span(),
            BlockLabel::String(s) => s.span(),
        })
        .or_else(|| block.ident.span())?
        .end;
    Some(start..end)
}

/// The offset where bracket nesting first exceeds [`MAX_NESTING`] (strings included: a
/// conservative count that never under-estimates).
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

struct Evaluator<'a> {
    files: &'a [SourceFile],
    file: usize,
    lines: LineIndex,
    variables: &'a HashMap<String, Node>,
}

impl<'a> Evaluator<'a> {
    fn new(
        files: &'a [SourceFile],
        file: usize,
        variables: &'a HashMap<String, Node>,
    ) -> Evaluator<'a> {
        let text = files.get(file).map_or("", |f| f.text.as_str());
        Evaluator {
            files,
            file,
            lines: LineIndex::new(text),
            variables,
        }
    }

    fn text(&self) -> &str {
        self.files.get(self.file).map_or("", |f| f.text.as_str())
    }

    fn loc(&self, range: Option<std::ops::Range<usize>>) -> Loc {
        Loc {
            file: self.file,
            span: range
                .map(|r| self.lines.span(self.text(), r))
                .unwrap_or_default(),
        }
    }

    fn source(&self, range: Option<std::ops::Range<usize>>) -> String {
        range
            .and_then(|r| self.text().get(r))
            .map(|s| {
                let s = s.trim();
                if s.chars().count() > 80 {
                    format!("{}…", s.chars().take(77).collect::<String>())
                } else {
                    s.to_string()
                }
            })
            .unwrap_or_default()
    }

    /// A block body: attributes and nested blocks (as lists of objects, the plan's shape).
    fn body(&self, body: &Body, span: Option<std::ops::Range<usize>>, depth: usize) -> Node {
        let mut attrs: Vec<Attr> = Vec::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => attrs.push(Attr {
                    key: attr.key.as_str().to_string(),
                    key_loc: self.loc(attr.key.span()),
                    value: self.expr(&attr.value, depth + 1),
                }),
                Structure::Block(block) => {
                    let dynamic = block.ident.as_str() == "dynamic";
                    let key = if dynamic {
                        match block.labels.first() {
                            Some(label) => label_text(label).to_string(),
                            None => continue,
                        }
                    } else {
                        block.ident.as_str().to_string()
                    };
                    let loc = self.loc(header_span(block));
                    let item = if dynamic {
                        Node {
                            value: Value::Unresolved(format!("a `dynamic \"{key}\"` block")),
                            loc,
                        }
                    } else {
                        self.body(&block.body, header_span(block), depth + 1)
                    };
                    match attrs.iter_mut().find(|a| a.key == key) {
                        Some(existing) => match &mut existing.value.value {
                            Value::List(items) if item.unresolved().is_none() => items.push(item),
                            Value::List(_) => existing.value = item,
                            // An earlier `dynamic` block keeps the whole set unresolved.
                            _ => {}
                        },
                        None => attrs.push(Attr {
                            key,
                            key_loc: loc,
                            value: if dynamic {
                                item
                            } else {
                                Node {
                                    loc,
                                    value: Value::List(vec![item]),
                                }
                            },
                        }),
                    }
                }
            }
        }
        Node {
            value: Value::Object(attrs),
            loc: self.loc(span),
        }
    }

    fn unresolved(&self, why: impl Into<String>, range: Option<std::ops::Range<usize>>) -> Node {
        Node {
            value: Value::Unresolved(why.into()),
            loc: self.loc(range),
        }
    }

    fn expr(&self, expr: &Expression, depth: usize) -> Node {
        let range = expr.span();
        let at = |value: Value| Node {
            value,
            loc: self.loc(range.clone()),
        };
        if depth > MAX_NESTING {
            return self.unresolved("an expression nested too deeply", range);
        }
        match expr {
            Expression::Null(_) => at(Value::Null),
            Expression::Bool(b) => at(Value::Bool(*b.value())),
            Expression::Number(n) => at(Value::Number(n.value().to_string())),
            Expression::String(s) => at(Value::String(s.value().to_string())),
            Expression::Array(items) => at(Value::List(
                items.iter().map(|e| self.expr(e, depth + 1)).collect(),
            )),
            Expression::Object(object) => {
                let mut attrs = Vec::new();
                for (key, value) in object.iter() {
                    let key_text = match key {
                        ObjectKey::Ident(ident) => ident.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                        ObjectKey::Expression(other) => {
                            return self.unresolved(
                                format!(
                                    "an object key that is an expression (`{}`)",
                                    self.source(other.span())
                                ),
                                other.span(),
                            );
                        }
                    };
                    attrs.push(Attr {
                        key: key_text,
                        key_loc: self.loc(key.span()),
                        value: self.expr(value.expr(), depth + 1),
                    });
                }
                at(Value::Object(attrs))
            }
            Expression::StringTemplate(template) => match literal_template(template.iter()) {
                Some(text) => at(Value::String(text)),
                None => self.unresolved(
                    format!("string interpolation (`{}`)", self.source(range.clone())),
                    range,
                ),
            },
            Expression::HeredocTemplate(heredoc) => match literal_heredoc(&heredoc.template) {
                Some(text) => at(Value::String(text)),
                None => self.unresolved("a heredoc with interpolation", range),
            },
            Expression::Parenthesis(inner) => {
                let mut node = self.expr(inner.inner(), depth + 1);
                node.loc = self.loc(range);
                node
            }
            Expression::Variable(ident) => {
                self.unresolved(format!("the symbol `{}`", ident.as_str()), range)
            }
            Expression::Conditional(_) => self.unresolved(
                format!(
                    "a conditional expression (`{}`)",
                    self.source(range.clone())
                ),
                range,
            ),
            Expression::FuncCall(call) => self.unresolved(
                format!("a call of the function `{}`", call.name.name.as_str()),
                range,
            ),
            Expression::ForExpr(_) => self.unresolved("a `for` expression", range),
            Expression::UnaryOp(op) => match (op.operator.value(), &op.expr) {
                (UnaryOperator::Neg, Expression::Number(n)) => {
                    at(Value::Number(format!("-{}", n.value())))
                }
                _ => self.unresolved("an operator expression", range),
            },
            Expression::BinaryOp(_) => self.unresolved(
                format!("an operator expression (`{}`)", self.source(range.clone())),
                range,
            ),
            Expression::Traversal(traversal) => self.traversal(traversal, range),
        }
    }

    fn traversal(
        &self,
        traversal: &hcl_edit::expr::Traversal,
        range: Option<std::ops::Range<usize>>,
    ) -> Node {
        let text = self.source(range.clone());
        let Expression::Variable(root) = &traversal.expr else {
            return self.unresolved(format!("an expression (`{text}`)"), range);
        };
        let ops: Vec<&TraversalOperator> = traversal.operators.iter().map(|o| o.value()).collect();
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(ident)) => Some(ident.as_str()),
            _ => None,
        };
        match root.as_str() {
            "var" => {
                let Some(name) = attr(0) else {
                    return self.unresolved(format!("an expression (`{text}`)"), range);
                };
                let Some(default) = self.variables.get(name) else {
                    return self.unresolved(
                        format!("`var.{name}`, which no `variable` block of this module declares"),
                        range,
                    );
                };
                let mut node = default.clone();
                for op in ops.iter().skip(1) {
                    node = match step(&node, op) {
                        Some(next) => next,
                        None => {
                            return self.unresolved(
                                format!(
                                    "`{text}`, which the default of `var.{name}` does not have"
                                ),
                                range,
                            );
                        }
                    };
                }
                if let Value::Unresolved(why) = &node.value {
                    return self.unresolved(why.clone(), range);
                }
                relocate(&mut node, self.loc(range));
                node
            }
            "local" => self.unresolved(format!("a local value (`{text}`)"), range),
            "module" => self.unresolved(format!("a module output (`{text}`)"), range),
            "data" => self.unresolved(format!("a data source attribute (`{text}`)"), range),
            "each" | "count" | "self" | "path" | "terraform" => {
                self.unresolved(format!("`{text}`"), range)
            }
            resource_type => {
                let Some(name) = attr(0) else {
                    return self.unresolved(format!("an expression (`{text}`)"), range);
                };
                let reference = Reference {
                    resource_type: resource_type.to_string(),
                    name: name.to_string(),
                    attr: attr(1).map(str::to_string),
                    indexed: ops.len() > 2 || (ops.len() == 2 && attr(1).is_none()),
                    text,
                };
                Node {
                    value: Value::Reference(reference),
                    loc: self.loc(range),
                }
            }
        }
    }
}

/// One traversal step into a literal value.
fn step(node: &Node, op: &TraversalOperator) -> Option<Node> {
    match op {
        TraversalOperator::GetAttr(ident) => node.get(ident.as_str()).cloned(),
        TraversalOperator::Index(Expression::String(key)) => node.get(key.value()).cloned(),
        TraversalOperator::Index(Expression::Number(n)) => {
            let i = usize::try_from(n.value().as_u64()?).ok()?;
            match &node.value {
                Value::List(items) => items.get(i).cloned(),
                _ => None,
            }
        }
        TraversalOperator::LegacyIndex(i) => {
            let i = usize::try_from(*i.value()).ok()?;
            match &node.value {
                Value::List(items) => items.get(i).cloned(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A value taken from a variable's default is reported where it is used.
fn relocate(node: &mut Node, loc: Loc) {
    node.loc = loc;
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|n| relocate(n, loc)),
        Value::Object(attrs) => attrs.iter_mut().for_each(|a| {
            a.key_loc = loc;
            relocate(&mut a.value, loc);
        }),
        _ => {}
    }
}

fn literal_template<'e>(elements: impl Iterator<Item = &'e Element>) -> Option<String> {
    let mut out = String::new();
    for element in elements {
        match element {
            Element::Literal(text) => out.push_str(text.value()),
            _ => return None,
        }
    }
    Some(out)
}

fn literal_heredoc(template: &Template) -> Option<String> {
    literal_template(template.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(text: &str) -> Module {
        parse_module(vec![SourceFile {
            display: "main.tf".into(),
            text: text.into(),
        }])
    }

    #[test]
    fn literals_variables_and_references() {
        let m = module(
            "variable \"p\" {\n  default = \"acme\"\n}\nvariable \"o\" {\n  default = { mode = \"ALWAYS_DENY\" }\n}\nresource \"t\" \"n\" {\n  a = \"x\"\n  b = var.p\n  c = var.o.mode\n  d = other.thing.id\n  e = \"${var.p}-x\"\n  f = <<-EOT\n    line\n  EOT\n  blk {\n    g = 1\n  }\n  blk {\n    g = -2\n  }\n  dynamic \"dyn\" {\n    for_each = []\n    content {}\n  }\n}\n",
        );
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let r = &m.resources[0];
        assert_eq!(r.address, "t.n");
        assert_eq!(r.body.get("a").and_then(Node::as_str), Some("x"));
        let b = r.body.get("b").expect("b");
        assert_eq!(b.as_str(), Some("acme"));
        assert_eq!((b.loc.span.start.line, b.loc.span.start.column), (9, 7));
        assert_eq!(r.body.get("c").and_then(Node::as_str), Some("ALWAYS_DENY"));
        assert!(matches!(
            &r.body.get("d").expect("d").value,
            Value::Reference(Reference { attr: Some(a), indexed: false, .. }) if a == "id"
        ));
        assert!(r.body.get("e").and_then(Node::unresolved).is_some());
        assert_eq!(r.body.get("f").and_then(Node::as_str), Some("line\n"));
        match &r.body.get("blk").expect("blk").value {
            Value::List(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(r.body.get("dyn").and_then(Node::unresolved).is_some());
    }

    #[test]
    fn syntax_errors_and_deep_nesting_are_errors() {
        assert_eq!(module("resource \"t\" {").errors.len(), 1);
        let deep = format!("a = {}{}", "[".repeat(500), "]".repeat(500));
        assert_eq!(module(&deep).errors.len(), 1);
    }
}
