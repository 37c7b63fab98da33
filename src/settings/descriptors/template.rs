//! ApplicationSet template substitution (contract §14): the fasttemplate forms
//! (`{{path}}`, `{{path.basename}}`, `{{path[N]}}`, list keys `{{key}}`) and, with
//! `goTemplate: true`, the Go forms (`{{.path.path}}`, `{{.path.basename}}`,
//! `{{index .path.segments N}}`, `{{.key}}`). An expression it cannot evaluate is left as
//! written, so a context name shows what was not resolved instead of silently dropping it.

use serde_json::{Map, Value};

/// The parameters one generator element gives the template.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    /// For `{{.x.y}}` (Go templates).
    pub tree: Map<String, Value>,
    /// For `{{x.y}}` (fasttemplate): flattened keys.
    pub flat: Vec<(String, String)>,
}

/// A git directories generator's parameters for one folder.
pub(crate) fn directory(path: &str) -> Params {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let basename = segments.last().copied().unwrap_or("");
    let normalized = basename_normalized(basename);
    let mut flat = vec![
        ("path".to_string(), path.to_string()),
        ("path.path".to_string(), path.to_string()),
        ("path.basename".to_string(), basename.to_string()),
        ("path.basenameNormalized".to_string(), normalized.clone()),
    ];
    for (i, s) in segments.iter().enumerate() {
        flat.push((format!("path[{i}]"), (*s).to_string()));
    }
    let mut inner = Map::new();
    inner.insert("path".into(), Value::from(path));
    inner.insert("basename".into(), Value::from(basename));
    inner.insert("basenameNormalized".into(), Value::from(normalized));
    inner.insert(
        "segments".into(),
        Value::Array(segments.iter().map(|s| Value::from(*s)).collect()),
    );
    let mut tree = Map::new();
    tree.insert("path".into(), Value::Object(inner));
    Params { tree, flat }
}

/// A list generator element's parameters.
pub(crate) fn element(element: &Map<String, Value>) -> Params {
    let mut flat = Vec::new();
    flatten("", &Value::Object(element.clone()), &mut flat);
    Params {
        tree: element.clone(),
        flat,
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        _ => {}
    }
}

/// Argo CD's `basenameNormalized`: lowercase, anything but letters, digits, `-` and `.`
/// replaced by `-`.
fn basename_normalized(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Substitute every string of a template value.
pub(crate) fn apply(template: &Value, params: &Params, go: bool) -> Value {
    match template {
        Value::String(s) => Value::String(substitute(s, params, go)),
        Value::Array(items) => Value::Array(items.iter().map(|v| apply(v, params, go)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (substitute(k, params, go), apply(v, params, go)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One string with its `{{ … }}` expressions evaluated.
pub(crate) fn substitute(text: &str, params: &Params, go: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let whole = &rest[start..start + 2 + len + 2];
        let expr = rest[start + 2..start + 2 + len]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let value = if go {
            go_value(expr, params)
        } else {
            params
                .flat
                .iter()
                .find(|(k, _)| k == expr)
                .map(|(_, v)| v.clone())
        };
        out.push_str(value.as_deref().unwrap_or(whole));
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// `.a.b` and `index .a.b N` of a Go template.
fn go_value(expr: &str, params: &Params) -> Option<String> {
    let lookup = |path: &str| -> Option<Value> {
        let path = path.strip_prefix('.')?;
        let mut parts = path.split('.');
        let mut v = params.tree.get(parts.next()?)?.clone();
        for p in parts {
            v = v.get(p)?.clone();
        }
        Some(v)
    };
    let scalar = |v: Value| match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let words: Vec<&str> = expr.split_whitespace().collect();
    match words.as_slice() {
        [path] => scalar(lookup(path)?),
        ["index", path, n] => {
            let index: usize = n.parse().ok()?;
            scalar(lookup(path)?.get(index)?.clone())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_template_forms() {
        let p = directory("clusters/prod-us");
        assert_eq!(
            substitute("{{path.basename}}-{{path[0]}}", &p, false),
            "prod-us-clusters"
        );
        assert_eq!(
            substitute("{{.path.basename}}/{{index .path.segments 1}}", &p, true),
            "prod-us/prod-us"
        );
        assert_eq!(substitute("{{.path.path}}", &p, true), "clusters/prod-us");
        // Unknown expressions stay as written.
        assert_eq!(substitute("{{nope}}", &p, false), "{{nope}}");
    }
}
