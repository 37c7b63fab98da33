//! Helm rendering (contract §9): `# Source:` provenance on standard input, and
//! `--render helm` with the real helm on `testdata/helm` (see its README). The tests that
//! need helm find it through `BINAUTHZ_TEST_HELM` (the binary) or on PATH, and skip with a
//! loud message when it is missing (`scripts/install-helm.sh` installs it offline).

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    Command::cargo_bin("binauthz-lint").expect("binary")
}

fn fixture() -> PathBuf {
    common::fixture("testdata/helm")
}

/// The folder holding a real `helm`, or None (the caller skips loudly).
fn helm_dir(test: &str) -> Option<PathBuf> {
    let from_env = std::env::var_os("BINAUTHZ_TEST_HELM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    let found = from_env.or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("helm"))
            .find(|p| p.is_file())
    });
    match found {
        Some(helm) => helm.parent().map(Path::to_path_buf),
        None => {
            eprintln!(
                "SKIPPED {test}: no helm (set BINAUTHZ_TEST_HELM or put helm on PATH; scripts/install-helm.sh installs it)"
            );
            None
        }
    }
}

/// PATH with `dir` first.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == rule)
        .collect()
}

fn at(finding: &Value) -> (String, u64, u64) {
    let location = &finding["location"];
    (
        location["file"].as_str().unwrap_or_default().to_string(),
        location["line"].as_u64().unwrap_or_default(),
        location["column"].as_u64().unwrap_or_default(),
    )
}

fn stdin_scan(cwd: &Path) -> Value {
    let stream = std::fs::read(fixture().join("rendered-web.yaml")).expect("stream");
    let policy = fixture().join("policy.yaml");
    let output = bin()
        .current_dir(cwd)
        .args(["scan", "-", "--no-config", "--format", "json", "--policy"])
        .arg(&policy)
        .write_stdin(stream)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    json(&output)
}

#[test]
fn stdin_findings_are_located_at_the_template_of_a_chart_found_by_name() {
    // `charts/web` holds the chart named `webapp`: `# Source: webapp/templates/…` is
    // resolved through its Chart.yaml.
    let report = stdin_scan(&fixture());
    let denied = findings(&report, "image-denied");
    assert_eq!(denied.len(), 1, "{report:#}");
    assert_eq!(
        at(denied[0]),
        ("charts/web/templates/deployment.yaml".to_string(), 17, 11)
    );
    assert!(
        denied[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Image nginx:1.25 (container `web` of Deployment `demo-webapp`)"),
        "{:#}",
        denied[0]
    );
    let workload = &report["workloads"][0];
    assert_eq!(
        workload["location"]["file"],
        "charts/web/templates/deployment.yaml"
    );
    assert_eq!(workload["location"]["line"], 1);
    assert_eq!(
        workload["images"][0]["location"]["file"],
        "charts/web/templates/deployment.yaml"
    );
    assert_eq!(report["summary"]["files"], 1);
}

#[test]
fn stdin_from_inside_the_chart_resolves_below_it() {
    let report = stdin_scan(&fixture().join("charts/web"));
    let denied = findings(&report, "image-denied");
    assert_eq!(
        at(denied[0]),
        ("templates/deployment.yaml".to_string(), 17, 11)
    );
}

#[test]
fn stdin_without_the_chart_keeps_stdin_and_names_the_template() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let report = stdin_scan(elsewhere.path());
    let denied = findings(&report, "image-denied");
    assert_eq!(at(denied[0]), ("<stdin>".to_string(), 30, 18));
    assert!(
        denied[0]["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("(rendered by Helm from `webapp/templates/deployment.yaml`)"),
        "{:#}",
        denied[0]
    );
}

#[test]
fn rendered_charts_with_configured_values_and_a_missing_dependency() {
    let Some(helm) = helm_dir("rendered_charts_with_configured_values_and_a_missing_dependency")
    else {
        return;
    };
    // The fixture's config: render.helm true, values-prod.yaml for charts/web.
    let output = bin()
        .current_dir(fixture())
        .env("PATH", path_with(&helm))
        .args(["scan", "charts", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report = json(&output);

    // values-prod.yaml adds the break-glass label through `toYaml .Values.podLabels`: it
    // is reported at that template line, and it overrides the nginx denial.
    let used = findings(&report, "breakglass-used");
    assert_eq!(used.len(), 1, "{report:#}");
    assert_eq!(
        at(used[0]),
        ("charts/web/templates/deployment.yaml".to_string(), 13, 9)
    );
    assert_eq!(
        used[0]["related"][0]["location"]["file"],
        "charts/web/templates/deployment.yaml"
    );
    assert_eq!(used[0]["related"][0]["location"]["line"], 17);
    assert!(findings(&report, "image-denied").is_empty(), "{report:#}");

    // The CronJob only exists with values-prod.yaml; its image is allowlisted.
    let kinds: Vec<(&str, &str)> = report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap_or_default(),
                w["location"]["file"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("CronJob", "charts/web/templates/cronjob.yaml"),
            ("Deployment", "charts/web/templates/deployment.yaml")
        ]
    );

    // The chart whose dependency is missing: render-failed with helm's message, at its
    // Chart.yaml; its template is skipped, the rendered chart's are not.
    let failed = findings(&report, "render-failed");
    assert_eq!(failed.len(), 1, "{report:#}");
    assert_eq!(
        at(failed[0]),
        ("charts/needs-redis/Chart.yaml".to_string(), 1, 1)
    );
    let message = failed[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("missing in charts/ directory: redis"),
        "{message}"
    );
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["reason"] == "helm-template")
        .map(|s| {
            (
                s["file"].as_str().unwrap_or_default(),
                s["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [(
            "charts/needs-redis/templates/deployment.yaml",
            "helm-template"
        )]
    );
    // The library chart is never rendered (and is no failure): its Chart.yaml is read raw.
    assert!(
        report["skipped"]
            .as_array()
            .expect("skipped")
            .iter()
            .any(|s| s["file"] == "charts/common-lib/Chart.yaml" && s["reason"] == "not-a-manifest"),
        "{report:#}"
    );
}

#[test]
fn render_flag_with_default_values_and_render_none() {
    let Some(helm) = helm_dir("render_flag_with_default_values_and_render_none") else {
        return;
    };
    let run = |render: &str| {
        let output = bin()
            .current_dir(fixture())
            .env("PATH", path_with(&helm))
            .args([
                "scan",
                "charts/web",
                "--no-config",
                "--policy",
                "policy.yaml",
                "--format",
                "json",
                "--render",
                render,
            ])
            .output()
            .expect("run");
        json(&output)
    };
    let report = run("helm");
    let denied = findings(&report, "image-denied");
    assert_eq!(denied.len(), 1, "{report:#}");
    assert_eq!(
        at(denied[0]),
        ("charts/web/templates/deployment.yaml".to_string(), 17, 11)
    );
    assert_eq!(report["summary"]["workloads"], 1, "no CronJob by default");
    assert!(findings(&report, "helm-template-skipped").is_empty());

    // `--render none` (or no flag and no config): the raw scan, as before.
    let raw = run("none");
    assert_eq!(raw["summary"]["workloads"], 0);
    assert_eq!(findings(&raw, "helm-template-skipped").len(), 1);
}

/// A stand-in `helm` (a shell script) for what needs no real chart: the timeout, and the
/// environment rendering runs in.
fn fake_helm(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("helm");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

fn scan_web_with(helm: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .current_dir(fixture())
        .env("PATH", path_with(helm))
        .env("HELM_KUBECONTEXT", "the-users-production-cluster")
        .args([
            "scan",
            "charts/web",
            "--no-config",
            "--format",
            "json",
            "--render",
            "helm",
        ])
        .args(extra)
        .output()
        .expect("run")
}

#[cfg(unix)]
#[test]
fn a_root_that_outlives_the_timeout_is_render_failed() {
    let helm = fake_helm("sleep 30");
    let started = std::time::Instant::now();
    let output = scan_web_with(helm.path(), &["--render-timeout", "1"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the slow helm was not stopped"
    );
    let report = json(&output);
    let failed = findings(&report, "render-failed");
    assert_eq!(failed.len(), 1, "{report:#}");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("timed out after 1 s (--render-timeout)"),
        "{:#}",
        failed[0]
    );
}

#[cfg(unix)]
#[test]
fn helm_runs_offline_with_private_homes_and_none_of_the_callers_helm_settings() {
    // The stand-in fails with its arguments and environment as the message.
    let helm = fake_helm(
        "echo \"Error: args=$* ctx=[$HELM_KUBECONTEXT] plugins=$HELM_PLUGINS noplugins=$HELM_NO_PLUGINS repos=$HELM_REPOSITORY_CONFIG kube=$KUBECONFIG\" >&2; exit 1",
    );
    let output = scan_web_with(helm.path(), &[]);
    let report = json(&output);
    let failed = findings(&report, "render-failed");
    let message = failed[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("args=template ./charts/web --namespace=default"),
        "{message}"
    );
    assert!(!message.contains("dependency-update"), "{message}");
    assert!(message.contains("ctx=[]"), "{message}");
    assert!(message.contains("noplugins=1"), "{message}");
    let temp = std::env::temp_dir().join("binauthz-lint-helm-");
    let temp = temp.to_string_lossy();
    for key in ["plugins=", "repos=", "kube="] {
        assert!(
            message.contains(&format!("{key}{temp}")),
            "{key} not private: {message}"
        );
    }
}

#[test]
fn a_missing_helm_stops_the_scan() {
    let empty = tempfile::tempdir().expect("tempdir");
    let output = bin()
        .current_dir(fixture())
        .env("PATH", empty.path())
        .args(["scan", "charts/web", "--no-config", "--render", "helm"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`helm` was not found"),
        "{output:?}"
    );
}

/// Copy a folder tree (the fixtures are small).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_context_that_matches_the_chart_folder_sets_its_namespace_and_policy() {
    let Some(helm) =
        helm_dir("a_context_that_matches_the_chart_folder_sets_its_namespace_and_policy")
    else {
        return;
    };
    let repo = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture().join("charts/web"), &repo.path().join("apps/web"));
    std::fs::copy(fixture().join("policy.yaml"), repo.path().join("deny.yaml")).expect("copy");
    std::fs::write(
        repo.path().join(".binauthz-lint.yaml"),
        "render: {helm: true}\ncontexts:\n  - name: payments\n    paths: [apps/web]\n    namespace: payments\n    policy: deny.yaml\n",
    )
    .expect("config");
    let output = bin()
        .current_dir(repo.path())
        .env("PATH", path_with(&helm))
        .args(["scan", ".", "--format", "json"])
        .output()
        .expect("run");
    let report = json(&output);
    let workload = &report["workloads"][0];
    assert_eq!(workload["context"], "payments", "{report:#}");
    assert_eq!(workload["namespace"], "payments", "{report:#}");
    assert_eq!(workload["policy"], "deny.yaml", "{report:#}");
    let denied = findings(&report, "image-denied");
    assert_eq!(
        at(denied[0]),
        ("apps/web/templates/deployment.yaml".to_string(), 17, 11)
    );
}

#[test]
fn rendering_in_parallel_gives_the_same_bytes() {
    let Some(helm) = helm_dir("rendering_in_parallel_gives_the_same_bytes") else {
        return;
    };
    let run = |jobs: &str| {
        bin()
            .current_dir(fixture())
            .env("PATH", path_with(&helm))
            .args(["scan", "charts", "--format", "sarif", "-j", jobs])
            .output()
            .expect("run")
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("4"));
}
