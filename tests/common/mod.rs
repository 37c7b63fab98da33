//! Helpers shared by the table-driven tests.
#![allow(dead_code)]

use binauthz_lint::yaml::{self, Limits};
use serde_json::Value;
use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Read a YAML table file (a list of cases) into JSON values with our own parser.
pub fn load_table(relative: &str) -> Vec<Value> {
    let path = repo_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tree = yaml::parse(&text, &Limits::default());
    assert!(tree.error.is_none(), "{}: {:?}", path.display(), tree.error);
    let root = tree.documents[0].root.expect("table root");
    match yaml::to_json(&tree, root, 10_000_000).expect("table to json") {
        Value::Array(cases) => cases,
        other => panic!("{}: expected a list of cases, got {other}", path.display()),
    }
}

/// `expected` ⊆ `actual`: objects need only the expected keys, arrays must match in length,
/// and a string written `"~text"` only needs to contain `text`.
pub fn assert_subset(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k}: missing in {actual}"));
                assert_subset(ev, av, &format!("{path}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(
                e.len(),
                a.len(),
                "{path}: expected {} items, got {}: {actual:#}",
                e.len(),
                a.len()
            );
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_subset(ev, av, &format!("{path}[{i}]"));
            }
        }
        // `"~text"` in a table means "contains text".
        (Value::String(e), Value::String(a)) if e.starts_with('~') => {
            assert!(
                a.contains(&e[1..]),
                "{path}: {a:?} does not contain {:?}",
                &e[1..]
            );
        }
        (Value::Number(e), Value::Number(a)) => {
            assert_eq!(e.as_f64(), a.as_f64(), "{path}");
        }
        _ => assert_eq!(expected, actual, "{path}"),
    }
}

pub fn fixture(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

/// Load a policy given inline in a table case.
pub fn load_policy_text(text: &str) -> binauthz_lint::policy::Policy {
    match binauthz_lint::policy::load_policy_str(text, "policy.yaml") {
        Ok(loaded) => loaded.policy,
        Err(err) => panic!("invalid test policy:\n{}", err.render(false)),
    }
}
