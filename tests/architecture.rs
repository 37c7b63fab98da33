//! docs/architecture.md matches the code: every folder and top-level file of `src/` is
//! described there, and the binary stays thin.

use std::path::Path;

#[test]
fn every_src_folder_and_file_is_in_the_architecture_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).expect("src") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "lib.rs" {
            continue;
        }
        let wanted = if entry.path().is_dir() {
            format!("`src/{name}/`")
        } else {
            format!("`src/{name}`")
        };
        if !doc.contains(&wanted) {
            missing.push(wanted);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not describe {missing:?}"
    );
}

#[test]
fn main_rs_is_a_thin_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines = std::fs::read_to_string(root.join("src/main.rs"))
        .expect("src/main.rs")
        .lines()
        .count();
    assert!(
        lines < 250,
        "src/main.rs has {lines} lines: orchestration belongs in src/app/"
    );
}

#[test]
fn no_source_file_is_above_a_thousand_lines() {
    fn walk(dir: &Path, out: &mut Vec<(String, usize)>) {
        for entry in std::fs::read_dir(dir).expect("src folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path)
                    .expect("source")
                    .lines()
                    .count();
                if lines > 1_000 {
                    out.push((path.display().to_string(), lines));
                }
            }
        }
    }
    let mut long = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut long,
    );
    assert!(
        long.is_empty(),
        "split these (docs/architecture.md: files stay readable): {long:?}"
    );
}
