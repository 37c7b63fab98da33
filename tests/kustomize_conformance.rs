//! Kustomize roots (contract §9, §11.7) against `testdata/kustomize`: the raw default (no
//! tool runs) and `--render kustomize` with the real `kubectl kustomize` of the machine.
//! Render tests skip with a loud message when `kubectl` is missing.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kustomize")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Every file under `dir` with its content (to prove the tree is left as it was).
fn snapshot_tree(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_dir() {
            snapshot_tree(&entry.path(), out);
        } else {
            out.insert(entry.path(), fs::read(entry.path()).expect("read"));
        }
    }
}

fn kubectl_available() -> bool {
    let ok = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "\n*** SKIPPED: `kubectl` is not on PATH, so the `--render kustomize` conformance tests did not run ***\n"
        );
    }
    ok
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    report: Value,
}

fn scan(dir: &Path, tmp: &Path, args: &[&str]) -> Run {
    let output = bin()
        .current_dir(dir)
        .env("TMPDIR", tmp)
        .args([
            "scan",
            "repo",
            "--policy",
            "policy.yaml",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        report,
    }
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == rule)
        .collect()
}

fn at(value: &Value) -> (String, u64) {
    (
        value["location"]["file"].as_str().unwrap_or("").to_string(),
        value["location"]["line"].as_u64().unwrap_or(0),
    )
}

fn message(f: &Value) -> &str {
    f["message"].as_str().unwrap_or("")
}

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().expect("tempdir");
    let work = root.path().join("work");
    let tmp = root.path().join("tmp");
    copy_tree(&fixture(), &work);
    fs::create_dir_all(&tmp).expect("tmp");
    (root, work, tmp)
}

#[test]
fn raw_mode_reports_each_root_once_with_its_transformers_and_never_evaluates_patches() {
    let (_guard, work, tmp) = setup();
    let run = scan(&work, &tmp, &[]);
    let report = &run.report;
    assert_eq!(report["summary"]["kustomizeRoots"], 6, "{report:#}");
    assert_eq!(report["summary"]["renderedRoots"], 0);

    let notes = findings(report, "kustomize-not-rendered");
    let by_file: BTreeMap<String, &str> = notes.iter().map(|n| (at(n).0, message(n))).collect();
    assert_eq!(notes.len(), 6, "one note per root, none for the base");
    assert!(!by_file.contains_key("repo/base/kustomization.yaml"));
    for (overlay, transformer) in [
        ("digest", "`images`"),
        ("namespaced", "`namespace`"),
        ("labels", "`labels`"),
        ("common", "`commonLabels`"),
        ("patched", "`patches`"),
    ] {
        let file = format!("repo/overlays/{overlay}/kustomization.yaml");
        let text = by_file
            .get(&file)
            .unwrap_or_else(|| panic!("no note at {file}"));
        assert!(text.contains(transformer), "{file}: {text}");
        assert!(text.contains("--render kustomize"), "{text}");
    }

    // The patch is skipped as a patch, never a (phantom, image-less) workload.
    let skipped = report["skipped"].as_array().expect("skipped");
    assert!(skipped.iter().any(
        |s| s["file"] == "repo/overlays/patched/breakglass-patch.yaml"
            && s["reason"] == "kustomize-patch"
    ));
    let workloads = report["workloads"].as_array().expect("workloads");
    assert!(
        workloads
            .iter()
            .all(|w| w["location"]["file"] != "repo/overlays/patched/breakglass-patch.yaml")
    );
    assert!(workloads.iter().all(|w| w.get("renderedFrom").is_none()));

    // Break-glass added by an overlay is a finding at that line, even raw.
    let mut places: Vec<(String, u64)> = findings(report, "breakglass-in-kustomization")
        .iter()
        .map(|f| at(f))
        .collect();
    places.sort();
    assert_eq!(
        places,
        vec![
            ("repo/overlays/common/kustomization.yaml".to_string(), 4),
            ("repo/overlays/labels/kustomization.yaml".to_string(), 5),
            ("repo/overlays/patched/breakglass-patch.yaml".to_string(), 9),
        ]
    );
    assert_eq!(run.code, 1);
}

#[test]
fn a_scan_without_kustomizations_has_no_kustomize_summary_fields() {
    let (_guard, work, tmp) = setup();
    let output = bin()
        .current_dir(&work)
        .env("TMPDIR", &tmp)
        .args(["scan", "repo/plain", "--format", "json"])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(report["summary"].get("kustomizeRoots").is_none());
    assert!(report["summary"].get("renderedRoots").is_none());
}

#[test]
fn rendered_roots_are_evaluated_as_the_cluster_receives_them() {
    if !kubectl_available() {
        return;
    }
    let (_guard, work, tmp) = setup();
    let mut before = BTreeMap::new();
    snapshot_tree(&work, &mut before);
    let run = scan(&work, &tmp, &["--render", "kustomize", "-j1"]);
    let report = &run.report;
    assert_eq!(report["summary"]["kustomizeRoots"], 6, "{report:#}");
    assert_eq!(report["summary"]["renderedRoots"], 5);

    // The base is counted once per root that rendered it, located in the base file.
    let workloads = report["workloads"].as_array().expect("workloads");
    let rendered: BTreeMap<&str, &Value> = workloads
        .iter()
        .filter_map(|w| Some((w["renderedFrom"].as_str()?, w)))
        .collect();
    assert_eq!(
        rendered.keys().copied().collect::<Vec<_>>(),
        [
            "repo/overlays/common",
            "repo/overlays/digest",
            "repo/overlays/labels",
            "repo/overlays/namespaced",
            "repo/overlays/patched"
        ]
    );
    assert_eq!(
        workloads
            .iter()
            .filter(|w| w.get("renderedFrom").is_some())
            .count(),
        5
    );
    for w in rendered.values() {
        assert_eq!(at(w), ("repo/base/deployment.yaml".to_string(), 1));
        assert_eq!(w["images"][0]["location"]["line"], 14, "the image line");
        assert_eq!(w["images"][0]["location"]["column"], 16);
    }
    let skipped = report["skipped"].as_array().expect("skipped");
    assert!(
        skipped.iter().any(
            |s| s["file"] == "repo/base/deployment.yaml" && s["reason"] == "kustomize-rendered"
        )
    );

    // `images:` rewrote the tag to a digest: the digest is what the policy saw.
    let digest = rendered["repo/overlays/digest"];
    let image = &digest["images"][0];
    assert_eq!(
        image["image"],
        "gcr.io/acme/app@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    );
    assert_eq!(image["reason"], "attestation-missing", "{image:#}");
    let denied: Vec<&Value> = findings(report, "image-denied")
        .into_iter()
        .filter(|f| message(f).contains("[rendered from `repo/overlays/digest`]"))
        .collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(at(denied[0]), ("repo/base/deployment.yaml".to_string(), 14));
    let related = denied[0]["related"].as_array().expect("related");
    assert!(
        related.iter().any(
            |r| at(r) == ("repo/overlays/digest/kustomization.yaml".to_string(), 6)
                && message(r).contains("images:")
        ),
        "{related:#?}"
    );

    // `namespace:` selected the namespace rule.
    let namespaced = rendered["repo/overlays/namespaced"];
    assert_eq!(namespaced["namespace"], "ns-allowed");
    assert_eq!(namespaced["images"][0]["decision"], "allow");
    assert_eq!(namespaced["policyDecision"], "allow");

    // Break-glass added by `labels` (includeTemplates), `commonLabels` and a patch.
    let used = findings(report, "breakglass-used");
    assert_eq!(used.len(), 3, "{used:#?}");
    for (root, entry) in [
        (
            "repo/overlays/labels",
            ("repo/overlays/labels/kustomization.yaml", 5),
        ),
        (
            "repo/overlays/common",
            ("repo/overlays/common/kustomization.yaml", 4),
        ),
        (
            "repo/overlays/patched",
            ("repo/overlays/patched/breakglass-patch.yaml", 9),
        ),
    ] {
        let f = used
            .iter()
            .find(|f| message(f).contains(&format!("[rendered from `{root}`]")))
            .unwrap_or_else(|| panic!("no breakglass-used for {root}"));
        assert_eq!(at(f).0, "repo/base/deployment.yaml");
        let related = f["related"].as_array().expect("related");
        assert!(
            related
                .iter()
                .any(|r| at(r) == (entry.0.to_string(), entry.1)),
            "{root}: {related:#?}"
        );
        assert_eq!(rendered[root]["admitted"], true);
    }
    // Copies of the label on the Deployment's own metadata are no noise.
    assert!(findings(report, "breakglass-ineffective").is_empty());
    // Two overlays of one base are two findings.
    let mut prints: Vec<&str> = used
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), 3);

    // The failing root is reported and its files are scanned raw; the scan went on.
    let failed = findings(report, "render-failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        at(failed[0]),
        ("repo/overlays/broken/kustomization.yaml".to_string(), 1)
    );
    assert!(
        message(failed[0]).contains("missing.yaml"),
        "{}",
        message(failed[0])
    );
    assert!(!message(failed[0]).contains("binauthz-lint-kustomize-"));
    let job = workloads
        .iter()
        .find(|w| w["kind"] == "Job")
        .expect("the failed root's Job, scanned raw");
    assert_eq!(at(job).0, "repo/overlays/broken/job.yaml");
    assert!(job.get("renderedFrom").is_none());
    // A file no root consumes is scanned as before.
    assert!(workloads.iter().any(|w| w["kind"] == "Pod"));
    // Rendering never runs the raw-mode account.
    assert!(findings(report, "kustomize-not-rendered").is_empty());
    assert!(findings(report, "breakglass-in-kustomization").is_empty());

    // The user's tree is untouched and no wrapper is left behind.
    let mut after = BTreeMap::new();
    snapshot_tree(&work, &mut after);
    assert!(before == after, "the scanned tree changed");
    assert_eq!(fs::read_dir(&tmp).expect("tmp").count(), 0);

    // Parallel rendering gives the same bytes.
    let parallel = scan(&work, &tmp, &["--render", "kustomize", "-j4"]);
    assert_eq!(run.stdout, parallel.stdout);
    assert_eq!(run.code, 1);
}

#[test]
fn config_render_kustomize_renders_and_render_none_overrides_it() {
    if !kubectl_available() {
        return;
    }
    let (_guard, work, tmp) = setup();
    fs::write(
        work.join(".binauthz-lint.yaml"),
        "render:\n  kustomize: true\n",
    )
    .expect("config");
    let by_config = scan(&work, &tmp, &[]);
    assert_eq!(by_config.report["summary"]["renderedRoots"], 5);
    let overridden = scan(&work, &tmp, &["--render", "none"]);
    assert_eq!(overridden.report["summary"]["renderedRoots"], 0);
    assert_eq!(
        findings(&overridden.report, "kustomize-not-rendered").len(),
        6
    );
}

#[test]
fn a_root_that_takes_too_long_is_render_failed() {
    let (_guard, work, tmp) = setup();
    let script = work.join("slow-kustomize.sh");
    fs::write(&script, "#!/bin/sh\nexec sleep 10\n").expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let started = std::time::Instant::now();
    let output = bin()
        .current_dir(&work)
        .env("TMPDIR", &tmp)
        .args([
            "scan",
            "repo/overlays/namespaced",
            "--format",
            "json",
            "--render",
            "kustomize",
            "--render-timeout",
            "1",
            "--kustomize-command",
        ])
        .arg(&script)
        .output()
        .expect("run");
    assert!(
        started.elapsed().as_secs() < 8,
        "the timeout was not applied"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let failed = findings(&report, "render-failed");
    assert_eq!(failed.len(), 1, "{report:#}");
    assert!(message(failed[0]).contains("timed out after 1 s"));
    assert_eq!(report["summary"]["renderedRoots"], 0);
}

#[test]
fn plugin_flags_are_refused_in_the_kustomize_command() {
    let (_guard, work, tmp) = setup();
    let output = bin()
        .current_dir(&work)
        .env("TMPDIR", &tmp)
        .args([
            "scan",
            "repo",
            "--render",
            "kustomize",
            "--kustomize-command",
            "kustomize build --enable-alpha-plugins",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("never enables exec"));
}

#[test]
fn a_rendered_root_takes_the_context_of_its_folder() {
    if !kubectl_available() {
        return;
    }
    let (_guard, work, tmp) = setup();
    fs::write(
        work.join(".binauthz-lint.yaml"),
        "version: 1\ncontexts:\n  - name: digest-cluster\n    paths: [\"repo/overlays/digest/**\"]\n    cluster: us-central1.prod\n",
    )
    .expect("config");
    let run = scan(&work, &tmp, &["--render", "kustomize"]);
    let workloads = run.report["workloads"].as_array().expect("workloads");
    for w in workloads.iter().filter(|w| w.get("renderedFrom").is_some()) {
        let expected = if w["renderedFrom"] == "repo/overlays/digest" {
            Value::from("digest-cluster")
        } else {
            Value::Null
        };
        // Located in the base, but evaluated in the context of the root that built it.
        assert_eq!(at(w).0, "repo/base/deployment.yaml");
        assert_eq!(w["context"], expected, "{w:#}");
    }
}

#[test]
fn exec_plugins_never_run() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    let tmp = dir.path().join("tmp");
    fs::create_dir_all(&root).expect("mkdir");
    fs::create_dir_all(&tmp).expect("tmp");
    let marker = dir.path().join("PLUGIN-RAN");
    fs::write(root.join("kustomization.yaml"), "generators:\n- gen.yaml\n").expect("write");
    fs::write(
        root.join("gen.yaml"),
        "apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: g\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./plugin.sh\n",
    )
    .expect("write");
    let script = root.join("plugin.sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\nprintf 'apiVersion: v1\\nkind: List\\nitems: []\\n'\n",
            marker.display()
        ),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let output = bin()
        .current_dir(dir.path())
        .env("TMPDIR", &tmp)
        .args(["scan", "repo", "--format", "json", "--render", "kustomize"])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let failed = findings(&report, "render-failed");
    assert_eq!(failed.len(), 1, "{report:#}");
    assert!(
        message(failed[0]).contains("plugin"),
        "{}",
        message(failed[0])
    );
    assert!(!marker.exists(), "the exec plugin ran");
}
