//! Property tests: arbitrary input never panics the YAML front end or the scan of one file.

use binauthz_lint::policy::Policy;
use binauthz_lint::scan::{ScanSettings, scan_text};
use binauthz_lint::yaml::{self, Limits};
use proptest::prelude::*;

/// Fragments that make random text look like (broken) manifests.
fn manifestish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "apiVersion: v1\n",
        "kind: Pod\n",
        "kind: List\n",
        "items:\n",
        "- ",
        "  ",
        "spec:\n",
        "containers:\n",
        "image: ",
        "name: x\n",
        "&a ",
        "*a",
        "<<: ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "---\n",
        "...\n",
        // The kubectl reader: separators with content, JSON streams, keys without a JSON form.
        "--- !!map\n",
        "... x\n",
        "{\"a\": ",
        "}{",
        "\n",
        "\"",
        "'",
        "|\n",
        ">\n",
        "#",
        "\t",
        "\r\n",
        "true",
        "123",
        "~",
        ":",
        "template:\n",
        "metadata:\n",
        "labels:\n",
        "image-policy.k8s.io/break-glass: ",
        "!!str ",
        "? ",
        "%YAML 1.2\n",
        "\u{FEFF}",
        "é",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for tree in [
            yaml::parse(&text, &Limits::default()),
            yaml::parse_manifest(&text, &Limits::default()),
        ] {
            for doc in &tree.documents {
                if let Some(root) = doc.root {
                    let _ = yaml::to_json(&tree, root, 100_000);
                }
            }
        }
        let _ = scan_text("fuzz.yaml", &text, &ScanSettings::default(), &Policy::builtin_default());
    }

    #[test]
    fn manifest_like_text_never_panics(text in manifestish()) {
        let _ = scan_text("fuzz.yaml", &text, &ScanSettings::default(), &Policy::builtin_default());
    }
}
