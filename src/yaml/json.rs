//! Tree → JSON conversion.

use super::{NodeId, ScalarKind, Tree, Value};

/// Convert a node to JSON as Kubernetes would read it (YAML 1.1 scalars resolved).
/// Used for audit events and table-driven tests. Aliases are expanded; `max_nodes` bounds the
/// output so that hostile input cannot blow it up (`None` when exceeded).
pub fn to_json(tree: &Tree, node: NodeId, max_nodes: usize) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    let mut budget = max_nodes;
    // Iterative post-order build: (node, visited) frames and a value stack.
    enum Frame {
        Enter(NodeId, usize),
        ExitSeq(usize),
        ExitMap(Vec<String>),
    }
    let mut frames = vec![Frame::Enter(node, 0)];
    let mut values: Vec<J> = Vec::new();
    while let Some(frame) = frames.pop() {
        match frame {
            Frame::Enter(id, depth) => {
                budget = budget.checked_sub(1)?;
                if depth > 1024 {
                    return None;
                }
                match &tree.node(id)?.value {
                    Value::Scalar { text, .. } => {
                        let v = match tree.scalar_kind(id)? {
                            ScalarKind::Null => J::Null,
                            ScalarKind::Bool => J::Bool(matches!(
                                text.as_ref(),
                                "y" | "Y"
                                    | "yes"
                                    | "Yes"
                                    | "YES"
                                    | "true"
                                    | "True"
                                    | "TRUE"
                                    | "on"
                                    | "On"
                                    | "ON"
                            )),
                            ScalarKind::Int => text
                                .replace('_', "")
                                .parse::<i64>()
                                .map(J::from)
                                .unwrap_or_else(|_| J::String(text.to_string())),
                            ScalarKind::Float => text
                                .parse::<f64>()
                                .ok()
                                .and_then(serde_json::Number::from_f64)
                                .map(J::Number)
                                .unwrap_or_else(|| J::String(text.to_string())),
                            ScalarKind::Str => J::String(text.to_string()),
                        };
                        values.push(v);
                    }
                    Value::Seq(_) => {
                        let items = tree.seq(id).unwrap_or_default();
                        frames.push(Frame::ExitSeq(items.len()));
                        for item in items.iter().rev() {
                            frames.push(Frame::Enter(*item, depth + 1));
                        }
                    }
                    Value::Map(_) => {
                        let entries = tree.entries(id);
                        let keys = entries
                            .iter()
                            .map(|(k, _)| tree.scalar(*k).unwrap_or("").to_string())
                            .collect();
                        frames.push(Frame::ExitMap(keys));
                        for (_, v) in entries.iter().rev() {
                            frames.push(Frame::Enter(*v, depth + 1));
                        }
                    }
                }
            }
            Frame::ExitSeq(n) => {
                let items = values.split_off(values.len().checked_sub(n)?);
                values.push(J::Array(items));
            }
            Frame::ExitMap(keys) => {
                let items = values.split_off(values.len().checked_sub(keys.len())?);
                values.push(J::Object(keys.into_iter().zip(items).collect()));
            }
        }
    }
    values.pop()
}
