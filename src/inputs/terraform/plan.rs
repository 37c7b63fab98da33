//! Plan JSON (`terraform show -json PLAN`) → located resources.
//!
//! The JSON is read with our YAML front end (JSON is YAML's flow subset) so that every
//! value keeps its line and column: a finding about a planned value points into the plan
//! file. `planned_values` gives the values (root module and `child_modules`, recursively);
//! `resource_changes[].change.after_unknown` marks the leaves Terraform only knows after
//! apply, which become [`Value::Unresolved`] here ("omitted or set to null" in `values`).
//! The `configuration` section is kept per resource (`expressions`) so a caller can tell a
//! computed value from a configured one and see what an unknown value references.

use std::collections::HashMap;

use crate::yaml::{self, Limits, NodeId, ScalarKind, Tree};

use super::{Attr, Loc, Node, ReadError, Resource, SourceFile, Value};

/// Why a value is unresolved in a plan.
pub const UNKNOWN_UNTIL_APPLY: &str = "unknown until apply";

/// A plan: its one file and its planned resources.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub files: Vec<SourceFile>,
    pub resources: Vec<Resource>,
    /// `configuration` `expressions` of each planned resource, by planned address without
    /// the instance key.
    expressions: HashMap<String, serde_json::Value>,
}

impl Plan {
    pub fn of_type<'p>(&'p self, resource_type: &'p str) -> impl Iterator<Item = &'p Resource> {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// The configuration expressions of a planned resource (`{"name": {"constant_value":
    /// …}, "x": {"references": [...]}, "block": [{…}]}`), when the plan has them.
    pub fn expressions(&self, resource: &Resource) -> Option<&serde_json::Value> {
        self.expressions
            .get(without_instance_key(&resource.address))
    }

    /// `module.a.module.b.` for `module.a.module.b.TYPE.NAME[…]`; empty for the root.
    pub fn module_prefix(address: &str) -> &str {
        let mut end = 0;
        let mut rest = address;
        while let Some(after) = rest.strip_prefix("module.") {
            let name_len = after.find('.').unwrap_or(after.len());
            let consumed = "module.".len() + name_len + 1;
            if consumed > rest.len() {
                break;
            }
            end += consumed;
            rest = &address[end..];
        }
        &address[..end]
    }
}

fn without_instance_key(address: &str) -> &str {
    match address.rfind('[') {
        Some(i) if address.ends_with(']') && !address[i..].contains('.') => &address[..i],
        _ => address,
    }
}

/// True for `terraform show -json` output: a top-level mapping with `format_version` and
/// `planned_values`.
pub fn is_plan_json(tree: &Tree) -> bool {
    let Some(root) = tree.documents.first().and_then(|d| d.root) else {
        return false;
    };
    tree.get(root, "format_version").is_some() && tree.get(root, "planned_values").is_some()
}

/// Read a plan; `Err` when the file is not a readable plan.
pub fn parse_plan(file: SourceFile) -> Result<Plan, ReadError> {
    let text = file.text.clone();
    let tree = yaml::parse(&text, &Limits::default());
    if let Some(err) = &tree.error {
        return Err(ReadError {
            loc: Loc {
                file: 0,
                span: crate::yaml::Span {
                    start: err.pos,
                    end: err.pos,
                },
            },
            message: format!("not valid JSON: {}", err.message),
        });
    }
    let root = tree.documents.first().and_then(|d| d.root);
    let Some(root) = root.filter(|_| is_plan_json(&tree)) else {
        return Err(ReadError {
            loc: Loc::default(),
            message: "not a Terraform plan: no top-level `format_version` and `planned_values`"
                .to_string(),
        });
    };
    let reader = Reader { tree: &tree };
    let mut plan = Plan {
        files: vec![file],
        ..Plan::default()
    };
    let unknown = reader.after_unknown(root);
    if let Some(module) = tree.path(root, &["planned_values", "root_module"]) {
        let mut stack = vec![module];
        let mut budget = 100_000usize;
        while let Some(module) = stack.pop() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                break;
            }
            for resource in tree
                .get(module, "resources")
                .and_then(|r| tree.seq(r))
                .unwrap_or(&[])
            {
                if let Some(r) = reader.resource(*resource, &unknown) {
                    plan.resources.push(r);
                }
            }
            if let Some(children) = tree.get(module, "child_modules").and_then(|c| tree.seq(c)) {
                stack.extend(children.iter().rev());
            }
        }
    }
    if let Some(config) = tree.path(root, &["configuration", "root_module"]) {
        reader.expressions(config, "", &mut plan.expressions, 0);
    }
    Ok(plan)
}

struct Reader<'t> {
    tree: &'t Tree<'t>,
}

impl Reader<'_> {
    fn loc(&self, node: NodeId) -> Loc {
        Loc {
            file: 0,
            span: self.tree.span(node),
        }
    }

    /// `resource_changes[].change.after_unknown` by address.
    fn after_unknown(&self, root: NodeId) -> HashMap<String, NodeId> {
        let mut out = HashMap::new();
        let changes = self
            .tree
            .get(root, "resource_changes")
            .and_then(|c| self.tree.seq(c))
            .unwrap_or(&[]);
        for change in changes {
            let address = self
                .tree
                .get(*change, "address")
                .and_then(|a| self.tree.string(a));
            let unknown = self.tree.path(*change, &["change", "after_unknown"]);
            if let (Some(address), Some(unknown)) = (address, unknown) {
                out.insert(address.to_string(), unknown);
            }
        }
        out
    }

    fn resource(&self, node: NodeId, unknown: &HashMap<String, NodeId>) -> Option<Resource> {
        let text = |key: &str| self.tree.get(node, key).and_then(|v| self.tree.string(v));
        let (address_node, address) = {
            let n = self.tree.get(node, "address")?;
            (n, self.tree.string(n)?)
        };
        // Data sources are read, not managed: they are not policies or workloads.
        if text("mode") == Some("data") {
            return None;
        }
        let values = self.tree.get(node, "values");
        let mut body = match values {
            Some(v) => self.node(v, 0),
            None => Node {
                value: Value::Object(Vec::new()),
                loc: self.loc(address_node),
            },
        };
        if let Some(u) = unknown.get(address) {
            self.overlay(&mut body, *u, 0);
        }
        Some(Resource {
            resource_type: text("type")?.to_string(),
            name: text("name")?.to_string(),
            address: address.to_string(),
            loc: self.loc(address_node),
            body,
            repetition: None,
        })
    }

    fn node(&self, id: NodeId, depth: usize) -> Node {
        let loc = self.loc(id);
        if depth > 128 {
            return Node {
                value: Value::Unresolved("a value nested too deeply".into()),
                loc,
            };
        }
        let value = if let Some(items) = self.tree.seq(id) {
            Value::List(items.iter().map(|i| self.node(*i, depth + 1)).collect())
        } else if self.tree.map(id).is_some() {
            Value::Object(
                self.tree
                    .entries(id)
                    .into_iter()
                    .map(|(k, v)| Attr {
                        key: self.tree.scalar(k).unwrap_or("").to_string(),
                        key_loc: self.loc(k),
                        value: self.node(v, depth + 1),
                    })
                    .collect(),
            )
        } else {
            let text = self.tree.scalar(id).unwrap_or("");
            match self.tree.scalar_kind(id) {
                Some(ScalarKind::Null) => Value::Null,
                Some(ScalarKind::Bool) => Value::Bool(text == "true"),
                Some(ScalarKind::Int | ScalarKind::Float) => Value::Number(text.to_string()),
                _ => Value::String(text.to_string()),
            }
        };
        Node { value, loc }
    }

    /// Mark the leaves `after_unknown` says are unknown.
    fn overlay(&self, value: &mut Node, unknown: NodeId, depth: usize) {
        if depth > 128 {
            return;
        }
        if self.tree.scalar(unknown) == Some("true") {
            // Point at the planned value when it is written, else at the `true` marker.
            let loc = if matches!(value.value, Value::Null) || value.loc.span == Default::default()
            {
                self.loc(unknown)
            } else {
                value.loc
            };
            *value = Node {
                value: Value::Unresolved(UNKNOWN_UNTIL_APPLY.to_string()),
                loc,
            };
        } else if self.tree.map(unknown).is_some() {
            if matches!(value.value, Value::Null) {
                value.value = Value::Object(Vec::new());
            }
            let Value::Object(attrs) = &mut value.value else {
                return;
            };
            for (k, u) in self.tree.entries(unknown) {
                let key = self.tree.scalar(k).unwrap_or("");
                if !self.has_unknown(u, depth) {
                    continue;
                }
                let index = match attrs.iter().position(|a| a.key == key) {
                    Some(i) => i,
                    None => {
                        attrs.push(Attr {
                            key: key.to_string(),
                            key_loc: self.loc(k),
                            value: Node {
                                value: Value::Null,
                                loc: self.loc(u),
                            },
                        });
                        attrs.len() - 1
                    }
                };
                if let Some(attr) = attrs.get_mut(index) {
                    self.overlay(&mut attr.value, u, depth + 1);
                }
            }
        } else if let Some(items) = self.tree.seq(unknown) {
            if matches!(value.value, Value::Null) {
                value.value = Value::List(Vec::new());
            }
            let Value::List(values) = &mut value.value else {
                return;
            };
            for (i, u) in items.iter().enumerate() {
                if !self.has_unknown(*u, depth) {
                    continue;
                }
                while values.len() <= i {
                    values.push(Node {
                        value: Value::Null,
                        loc: self.loc(*u),
                    });
                }
                if let Some(v) = values.get_mut(i) {
                    self.overlay(v, *u, depth + 1);
                }
            }
        }
    }

    /// Whether an `after_unknown` subtree marks anything unknown.
    fn has_unknown(&self, node: NodeId, depth: usize) -> bool {
        if depth > 128 {
            return false;
        }
        if let Some(items) = self.tree.seq(node) {
            return items.iter().any(|i| self.has_unknown(*i, depth + 1));
        }
        if self.tree.map(node).is_some() {
            return self
                .tree
                .entries(node)
                .iter()
                .any(|(_, v)| self.has_unknown(*v, depth + 1));
        }
        self.tree.scalar(node) == Some("true")
    }

    /// `configuration` resources' `expressions`, keyed by planned address.
    fn expressions(
        &self,
        module: NodeId,
        prefix: &str,
        out: &mut HashMap<String, serde_json::Value>,
        depth: usize,
    ) {
        if depth > 32 {
            return;
        }
        for resource in self
            .tree
            .get(module, "resources")
            .and_then(|r| self.tree.seq(r))
            .unwrap_or(&[])
        {
            let address = self
                .tree
                .get(*resource, "address")
                .and_then(|a| self.tree.string(a));
            let expressions = self.tree.get(*resource, "expressions");
            if let (Some(address), Some(expressions)) = (address, expressions)
                && let Some(json) = yaml::to_json(self.tree, expressions, 1_000_000)
            {
                out.insert(format!("{prefix}{address}"), json);
            }
        }
        if let Some(calls) = self.tree.get(module, "module_calls") {
            for (name, call) in self.tree.entries(calls) {
                let name = self.tree.scalar(name).unwrap_or("");
                if let Some(inner) = self.tree.get(call, "module") {
                    self.expressions(inner, &format!("{prefix}module.{name}."), out, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_prefixes() {
        assert_eq!(Plan::module_prefix("t.n"), "");
        assert_eq!(Plan::module_prefix("module.a.t.n"), "module.a.");
        assert_eq!(
            Plan::module_prefix("module.a.module.b.t.n[\"k\"]"),
            "module.a.module.b."
        );
        assert_eq!(without_instance_key("module.a.t.n[\"k\"]"), "module.a.t.n");
        assert_eq!(without_instance_key("t.n"), "t.n");
    }

    #[test]
    fn unknown_values_are_unresolved_where_the_plan_says() {
        let text = r#"{"format_version": "1.2", "planned_values": {"root_module": {"child_modules": [{"address": "module.m", "resources": [
  {"address": "module.m.t.n", "mode": "managed", "type": "t", "name": "n",
   "values": {"a": "x", "rule": [{"mode": "ALWAYS_DENY"}]}}]}]}},
 "resource_changes": [{"address": "module.m.t.n", "change": {"after_unknown": {"id": true, "rule": [{"by": true}]}}}]}"#;
        let plan = parse_plan(SourceFile {
            display: "plan.json".into(),
            text: text.into(),
        })
        .expect("plan");
        let r = &plan.resources[0];
        assert_eq!(r.address, "module.m.t.n");
        assert_eq!(r.body.get("a").and_then(Node::as_str), Some("x"));
        assert_eq!(
            r.body.get("id").and_then(Node::unresolved).as_deref(),
            Some(UNKNOWN_UNTIL_APPLY)
        );
        let Some(Value::List(rules)) = r.body.get("rule").map(|n| &n.value) else {
            panic!("rule");
        };
        assert!(rules[0].get("by").and_then(Node::unresolved).is_some());
        assert_eq!(
            rules[0].get("mode").and_then(Node::as_str),
            Some("ALWAYS_DENY")
        );
    }
}
