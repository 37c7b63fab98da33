//! Runs that used to pass silently: each is now a finding, with the exit code the default
//! `--fail-on warning` and `--fail-on error` give.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n";

/// Run `scan --format json ARGS` in `dir` with `stdin`; exit codes for the default
/// `--fail-on` and for `--fail-on error`, and the default run's report.
fn scan(dir: &Path, args: &[&str], stdin: &str) -> (i32, i32, Value) {
    let run = |extra: &[&str]| {
        bin()
            .current_dir(dir)
            .args(["scan", "--format", "json"])
            .args(args)
            .args(extra)
            .write_stdin(stdin)
            .output()
            .expect("run")
    };
    let default = run(&[]);
    let on_error = run(&["--fail-on", "error"]);
    let report: Value = serde_json::from_slice(&default.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&default.stderr)));
    (
        default.status.code().unwrap_or(-1),
        on_error.status.code().unwrap_or(-1),
        report,
    )
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == rule)
        .collect()
}

fn message(finding: &Value) -> &str {
    finding["message"].as_str().unwrap_or("")
}

#[test]
fn empty_standard_input_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, on_error, report) = scan(dir.path(), &["-"], "");
    assert_eq!((code, on_error), (1, 0));
    let found = findings(&report, "no-manifests");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "<stdin>");
    let text = message(found[0]);
    assert!(text.contains("in standard input: it is empty"), "{text}");
    assert!(text.contains("pipefail"), "{text}");
}

#[test]
fn standard_input_without_objects_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, report) = scan(dir.path(), &["-"], "replicas: 3\n");
    assert_eq!(code, 1);
    let found = findings(&report, "no-manifests");
    assert!(
        message(found[0])
            .contains("1 file read, none holding a Kubernetes object (1 not-a-manifest)"),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_folder_without_candidates_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("k8s")).expect("mkdir");
    fs::write(dir.path().join("k8s/readme.txt"), "kind: Pod\n").expect("write");
    let (code, on_error, report) = scan(dir.path(), &["k8s"], "");
    assert_eq!((code, on_error), (1, 0));
    let found = findings(&report, "no-manifests");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["location"]["file"], "k8s");
    let text = message(found[0]);
    assert!(
        text.contains("`k8s`") && text.contains("no candidate file"),
        "{text}"
    );
}

/// pre-commit passes the changed files: a commit of a values file or a workflow alone has
/// nothing to check, and passes.
#[test]
fn files_named_explicitly_are_not_a_silent_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("values.yaml"), "replicas: 3\n").expect("write");
    let (code, _, report) = scan(dir.path(), &["values.yaml"], "");
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report, "no-manifests").is_empty());
    // The folder that holds it, scanned whole, has no manifest.
    let (code, _, report) = scan(dir.path(), &["."], "");
    assert_eq!(code, 1);
    assert!(
        message(findings(&report, "no-manifests")[0])
            .contains("1 file read, none holding a Kubernetes object (1 not-a-manifest)")
    );
}

#[test]
fn a_folder_with_a_workload_has_no_such_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    let (code, _, report) = scan(dir.path(), &["."], "");
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report, "no-manifests").is_empty());
    // Standard input with a manifest neither.
    let (code, _, report) = scan(dir.path(), &["-"], POD);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn an_unquoted_breakglass_value_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n      labels:\n        image-policy.k8s.io/break-glass: true\n    spec:\n      containers: [{name: c, image: \"gcr.io/p/web:1\"}]\n",
    )
    .expect("write");
    let (code, on_error, report) = scan(dir.path(), &["deploy.yaml"], "");
    assert_eq!((code, on_error), (1, 1), "{report:#}");
    let found = findings(&report, "breakglass-ineffective");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["level"], "error");
    assert!(
        message(found[0]).contains("rejects"),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_quoted_but_wrong_breakglass_value_stays_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {image-policy.k8s.io/break-glass: \"yes\"}\nspec: {containers: [{name: c, image: \"gcr.io/p/web:1\"}]}\n",
    )
    .expect("write");
    let (code, on_error, report) = scan(dir.path(), &["pod.yaml"], "");
    assert_eq!((code, on_error), (1, 0));
    assert_eq!(
        findings(&report, "breakglass-ineffective")[0]["level"],
        "warning"
    );
}

#[test]
fn an_unquoted_breakglass_value_on_the_wrong_object_is_an_error_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {image-policy.k8s.io/break-glass: true}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: \"gcr.io/p/web:1\"}]\n",
    )
    .expect("write");
    let (_, on_error, report) = scan(dir.path(), &["deploy.yaml"], "");
    assert_eq!(on_error, 1);
    let found = findings(&report, "breakglass-ineffective");
    assert_eq!(found[0]["level"], "error");
    assert!(
        message(found[0]).contains("the API server refuses the object"),
        "{}",
        message(found[0])
    );
}

const CLUSTER_POLICY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_ALLOW\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nclusterAdmissionRules:\n  europe-west1.ks-test:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n  us-east1.prod:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n";

#[test]
fn a_cluster_matching_no_key_is_a_warning_with_the_closest_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("policy.yaml"), CLUSTER_POLICY).expect("write");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    let args = [
        "pod.yaml",
        "--policy",
        "policy.yaml",
        "--cluster",
        "europe-west1.ks-tst",
    ];
    let (code, on_error, report) = scan(dir.path(), &args, "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    let found = findings(&report, "policy-cluster-unmatched");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "policy.yaml");
    assert_eq!(found[0]["location"]["line"], 5);
    let text = message(found[0]);
    assert!(
        text.contains("`europe-west1.ks-tst`")
            && text.contains("did you mean `europe-west1.ks-test`?"),
        "{text}"
    );
    // The right key: the cluster rule denies, and no mismatch warning.
    let (code, _, report) = scan(
        dir.path(),
        &[
            "pod.yaml",
            "--policy",
            "policy.yaml",
            "--cluster",
            "europe-west1.ks-test",
        ],
        "",
    );
    assert_eq!(code, 1);
    assert!(findings(&report, "policy-cluster-unmatched").is_empty());
    assert_eq!(findings(&report, "image-denied").len(), 1);
}

#[test]
fn unused_pattern_does_not_claim_zero_images_when_files_were_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("policy.yaml"),
        "admissionWhitelistPatterns:\n- namePattern: gcr.io/p/*\ndefaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n",
    )
    .expect("write");
    fs::write(dir.path().join("big.yaml"), POD.repeat(20)).expect("write");
    let (_, _, report) = scan(
        dir.path(),
        &[
            "big.yaml",
            "--policy",
            "policy.yaml",
            "--max-file-size",
            "100",
        ],
        "",
    );
    assert!(
        findings(&report, "policy-unused-pattern").is_empty(),
        "no images were read, so no pattern is unused: {report:#}"
    );
    fs::write(
        dir.path().join("other.yaml"),
        POD.replace("gcr.io/p/", "docker.io/x/"),
    )
    .expect("write");
    let (_, _, report) = scan(
        dir.path(),
        &[
            "big.yaml",
            "other.yaml",
            "--policy",
            "policy.yaml",
            "--max-file-size",
            "200",
        ],
        "",
    );
    let found = findings(&report, "policy-unused-pattern");
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(
        message(found[0]).contains(
            "matches none of the 1 distinct images scanned (1 skipped file was not checked)"
        ),
        "{}",
        message(found[0])
    );
}

#[test]
fn a_file_over_the_size_limit_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    fs::write(dir.path().join("big.yaml"), POD.repeat(20)).expect("write");
    let (code, on_error, report) = scan(dir.path(), &[".", "--max-file-size", "1000"], "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    let found = findings(&report, "file-skipped");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(found[0]["location"]["file"], "big.yaml");
    assert!(message(found[0]).contains("--max-file-size"));
    assert!(
        findings(&report, "no-manifests").is_empty(),
        "pod.yaml was read"
    );
}

const ALWAYS_DENY: &str = "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nglobalPolicyEvaluationMode: DISABLE\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// A chart whose workloads are all templates, scanned raw under ALWAYS_DENY: nothing was
/// judged, so the run must not be green (issue 27, point 1).
#[test]
fn a_helm_chart_of_which_nothing_was_evaluated_is_a_warning_naming_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", ALWAYS_DENY);
    write(
        root,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(root, "charts/web/values.yaml", "image: gcr.io/p/web:1\n");
    write(
        root,
        "charts/web/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: {{ .Release.Name }}}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: {{ .Values.image | quote }}}]\n",
    );
    write(
        root,
        "charts/web/templates/job.yaml",
        "{{- if .Values.job }}\napiVersion: batch/v1\nkind: Job\n{{- end }}\n",
    );
    let (code, on_error, report) = scan(root, &["charts", "--policy", "policy.yaml"], "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    assert_eq!(report["summary"]["workloads"], 0);
    let found = findings(&report, "helm-template-skipped");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(
        found[0]["location"]["file"],
        "charts/web/templates/deployment.yaml"
    );
    let text = message(found[0]);
    assert!(
        text.contains("Helm chart `charts/web`: 2 templates skipped")
            && text.contains("no workload of the chart was evaluated")
            && text.contains("--render helm"),
        "{text}"
    );
}

/// Two charts: the one with a plain workload beside its templates keeps the note; only the
/// chart of which nothing was evaluated is a warning.
#[test]
fn a_helm_chart_with_an_evaluated_workload_keeps_the_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for chart in ["a", "b"] {
        write(
            root,
            &format!("charts/{chart}/Chart.yaml"),
            "apiVersion: v2\nname: x\nversion: 0.1.0\n",
        );
        write(
            root,
            &format!("charts/{chart}/templates/deployment.yaml"),
            "metadata: {name: {{ .Release.Name }}}\n",
        );
    }
    write(root, "charts/a/extra/pod.yaml", POD);
    let (code, _, report) = scan(root, &["charts"], "");
    assert_eq!(code, 1, "chart b is unchecked: {report:#}");
    let found = findings(&report, "helm-template-skipped");
    let levels: Vec<(&str, &str)> = found
        .iter()
        .map(|f| {
            (
                f["level"].as_str().unwrap_or(""),
                f["location"]["file"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        levels,
        [
            ("note", "charts/a/templates/deployment.yaml"),
            ("warning", "charts/b/templates/deployment.yaml")
        ],
        "{report:#}"
    );
    // Chart a alone: a note, and the run passes.
    let (code, _, report) = scan(root, &["charts/a"], "");
    assert_eq!(code, 0, "{report:#}");
}

const REMOTE_OVERLAY: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- https://github.invalid/acme/app//deploy/base?ref=v1.2.0\npatches:\n- path: image.yaml\n";
const IMAGE_PATCH: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: gcr.io/p/web:2\n";

/// A Kustomize overlay whose base is remote and whose patch sets the image, scanned raw
/// under ALWAYS_DENY: the image is never evaluated, so a warning (issue 27, point 2).
#[test]
fn a_kustomize_root_of_which_nothing_was_evaluated_is_a_warning_naming_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "policy.yaml", ALWAYS_DENY);
    write(root, "overlays/prod/kustomization.yaml", REMOTE_OVERLAY);
    write(root, "overlays/prod/image.yaml", IMAGE_PATCH);
    let (code, on_error, report) = scan(root, &["overlays", "--policy", "policy.yaml"], "");
    assert_eq!((code, on_error), (1, 0), "{report:#}");
    assert_eq!(report["summary"]["workloads"], 0);
    let found = findings(&report, "kustomize-not-rendered");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "warning");
    assert_eq!(
        found[0]["location"]["file"],
        "overlays/prod/kustomization.yaml"
    );
    let text = message(found[0]);
    assert!(
        text.contains("none of its workloads was evaluated")
            && text.contains(
                "remote resource `https://github.invalid/acme/app//deploy/base?ref=v1.2.0`"
            )
            && text.contains("`patches`")
            && text.contains("--render kustomize")
            && text.contains("--render-remote"),
        "{text}"
    );
}

/// A local root whose workloads the raw scan evaluated keeps its note and passes.
#[test]
fn a_kustomize_root_with_evaluated_workloads_keeps_the_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "app/kustomization.yaml",
        "resources: [pod.yaml]\nimages:\n- {name: gcr.io/p/web, newTag: \"2\"}\n",
    );
    write(root, "app/pod.yaml", POD);
    let (code, _, report) = scan(root, &["app"], "");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        findings(&report, "kustomize-not-rendered")[0]["level"],
        "note"
    );
}

/// A fake `kubectl` first on PATH that records each call in `record`.
fn fake_kubectl(bin: &Path, record: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(bin).expect("mkdir");
    let script = bin.join("kubectl");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\necho 'error: no network here' >&2\nexit 1\n",
            record.display()
        ),
    )
    .expect("write");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Security (issue 27, point 12): a remote kustomization entry is never handed to kubectl
/// without `--render-remote` on the command line — not with `--render kustomize`, not with
/// the config's `render.kustomize` (which a pull request can switch on). The root is
/// `render-failed` naming the URL, its files are scanned raw, with point 2's warning.
#[test]
fn remote_kustomize_resources_are_never_fetched_without_render_remote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let record = root.join("kubectl-calls.log");
    fake_kubectl(&root.join("bin"), &record);
    write(root, "policy.yaml", ALWAYS_DENY);
    write(root, "overlays/prod/kustomization.yaml", REMOTE_OVERLAY);
    write(root, "overlays/prod/image.yaml", IMAGE_PATCH);
    write(root, "local/kustomization.yaml", "resources: [pod.yaml]\n");
    write(root, "local/pod.yaml", POD);
    let runs: [(&[&str], &str); 2] = [
        (&["--render", "kustomize"], ""),
        (&[], "version: 1\nrender: {kustomize: true}\n"),
    ];
    for (flags, config) in runs {
        let config_args: Vec<&str> = if config.is_empty() {
            vec!["--no-config"]
        } else {
            write(root, ".binauthz-lint.yaml", config);
            vec!["--config", ".binauthz-lint.yaml"]
        };
        let out = bin()
            .current_dir(root)
            .env("PATH", path_with(&root.join("bin")))
            .args(["scan", "--format", "json", "overlays", "local"])
            .args(["--policy", "policy.yaml"])
            .args(flags)
            .args(&config_args)
            .output()
            .expect("run");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(out.status.code(), Some(1), "{report:#}");
        let failed = findings(&report, "render-failed");
        let remote: Vec<&&Value> = failed
            .iter()
            .filter(|f| f["location"]["file"] == "overlays/prod/kustomization.yaml")
            .collect();
        assert_eq!(remote.len(), 1, "{report:#}");
        let text = message(remote[0]);
        assert!(
            text.contains("`https://github.invalid/acme/app//deploy/base?ref=v1.2.0`")
                && text.contains("--render-remote")
                && text.contains("scanned raw"),
            "{text}"
        );
        let warned = findings(&report, "kustomize-not-rendered");
        assert!(
            warned.iter().any(|f| f["level"] == "warning"
                && f["location"]["file"] == "overlays/prod/kustomization.yaml"),
            "{report:#}"
        );
        // The local root was handed to the (fake) kubectl; the remote one never was.
        let calls = fs::read_to_string(&record).unwrap_or_default();
        assert_eq!(calls.lines().count(), 1, "{calls}");
        assert!(!calls.contains("github.invalid"), "{calls}");
        fs::remove_file(&record).expect("reset the record");
    }
    // `--render-remote` on the command line hands the remote root to the tool too.
    let out = bin()
        .current_dir(root)
        .env("PATH", path_with(&root.join("bin")))
        .args([
            "scan",
            "--format",
            "json",
            "overlays",
            "local",
            "--no-config",
        ])
        .args(["--render", "kustomize", "--render-remote"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let calls = fs::read_to_string(&record).unwrap_or_default();
    assert_eq!(calls.lines().count(), 2, "{calls}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        findings(&report, "render-failed")
            .iter()
            .all(|f| message(f).contains("no network here")),
        "the tool's own failure, not a refusal: {report:#}"
    );
}

/// Standard input with the bytes of a file gets the file's verdict (issue 27, point 13):
/// not UTF-8 is the same located error, binary the same skip reason.
#[test]
fn standard_input_is_judged_like_a_file_with_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = POD
        .replace("web:1", "web:1\u{fffd}")
        .replace('\u{fffd}', "\u{1}");
    let mut bytes = bytes.into_bytes();
    let at = bytes.iter().position(|b| *b == 1).expect("marker");
    bytes[at] = 0xFF;
    let out = bin()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "-"])
        .write_stdin(bytes)
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = findings(&report, "manifest-invalid");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["location"]["file"], "<stdin>");
    assert_eq!(found[0]["location"]["line"], 4);
    assert!(message(found[0]).contains("not valid UTF-8 at byte"));
    let out = bin()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "-"])
        .write_stdin(b"kind: Pod\0\n".to_vec())
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["skipped"][0]["reason"], "binary", "{report:#}");
}

/// Invalid UTF-8 (issue 27, point 4): kubectl's YAML reader refuses the file, so it is an
/// error at the first bad byte, not a note.
#[test]
fn invalid_utf8_is_an_error_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = POD.replace("web:1", "web:1\u{e9}").into_bytes();
    // `é` (C3 A9) becomes a lone continuation byte A9 after a Latin-1 `\xE9`-like slip.
    let at = bytes.iter().position(|b| *b == 0xC3).expect("é");
    bytes.remove(at);
    fs::write(dir.path().join("pod.yaml"), &bytes).expect("write");
    let (code, on_error, report) = scan(dir.path(), &["."], "");
    assert_eq!((code, on_error), (1, 1), "{report:#}");
    let found = findings(&report, "manifest-invalid");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["level"], "error");
    assert_eq!(found[0]["location"]["line"], 4);
    assert_eq!(found[0]["location"]["column"], 53);
    let text = message(found[0]);
    assert!(
        text.contains("not valid UTF-8 at byte 99 (line 4, column 53)")
            && text.contains("kubectl refuses the file (\"invalid leading UTF-8 octet\")"),
        "{text}"
    );
    assert!(findings(&report, "file-skipped").is_empty(), "{report:#}");
    assert_eq!(report["skipped"][0]["reason"], "not-utf8");
}

/// Issue 27, point 11: a JSON file that is not a Kubernetes object (a Cloud Monitoring
/// dashboard with a `/* */` header, which kubectl's YAML reader cannot read) is skipped as
/// not a manifest in a whole-repository scan; a broken file with `kind` stays an error.
#[test]
fn an_unreadable_file_without_apiversion_or_kind_is_not_a_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("dashboard.json"),
        "/* Copyright 2024 Example LLC */\n{\n  \"displayName\": \"Latency\",\n  \"mosaicLayout\": {\"columns\": 48, \"tiles\": []}\n}\n",
    )
    .expect("write");
    fs::write(dir.path().join("pod.yaml"), POD).expect("write");
    let (code, _, report) = scan(dir.path(), &["."], "");
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report, "manifest-invalid").is_empty());
    assert_eq!(report["skipped"][0]["file"], "dashboard.json");
    assert_eq!(report["skipped"][0]["reason"], "not-a-manifest");
    fs::write(
        dir.path().join("broken.json"),
        "/* c */\n{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\"\n}\n",
    )
    .expect("write");
    let (code, on_error, report) = scan(dir.path(), &["."], "");
    assert_eq!((code, on_error), (1, 1), "{report:#}");
    assert_eq!(
        findings(&report, "manifest-invalid")[0]["location"]["file"],
        "broken.json"
    );
}
