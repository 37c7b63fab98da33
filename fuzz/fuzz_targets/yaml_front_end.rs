//! The YAML front end: parse arbitrary text, convert every document to JSON.
#![no_main]
use binauthz_lint::yaml::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Both readers: the plain YAML stream (policies) and the kubectl manifest route.
    for tree in [
        yaml::parse(&text, &Limits::default()),
        yaml::parse_manifest(&text, &Limits::default()),
    ] {
        for doc in &tree.documents {
            if let Some(root) = doc.root {
                let _ = yaml::to_json(&tree, root, 100_000);
                let _ = tree.entries(root);
            }
        }
    }
});
