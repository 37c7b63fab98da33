//! Contexts from GitOps descriptors (contract §14, §17) through the CLI:
//! `testdata/conformance/descriptors.yaml` (its header says the format), and the fixtures
//! shaped like real Flux, Argo CD and Config Sync repositories under `testdata/gitops/`.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn strings(case: &Value, key: &str) -> Vec<String> {
    case.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn run_table(relative: &str, minimum: usize) {
    let cases = common::load_table(relative);
    let mut ran = 0;
    let mut failed: Vec<String> = Vec::new();
    for case in &cases {
        if case.get("skip").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        ran += 1;
        // Every case runs; the failures are listed together at the end.
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(case, name)));
        if outcome.is_err() {
            failed.push(name.to_string());
        }
    }
    assert!(failed.is_empty(), "{relative}: failed cases: {failed:#?}");
    assert!(ran >= minimum, "{relative}: only {ran} cases ran");
}

fn run_case(case: &Value, name: &str) {
    {
        let dir = tempfile::tempdir().expect("tempdir");
        if case.get("git").and_then(Value::as_bool) == Some(true) {
            std::fs::create_dir(dir.path().join(".git")).expect(".git");
        }
        let write_files = |key: &str| {
            for (path, content) in case
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let file = dir.path().join(path);
                std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
                std::fs::write(&file, content.as_str().expect("file content")).expect("write");
            }
        };
        write_files("files");
        // `commit: true`: `files` become the first commit of a real repository, and
        // `edits` are then written over the work tree (uncommitted).
        if case.get("commit").and_then(Value::as_bool) == Some(true) {
            for args in [
                &["init", "-q", "-b", "main"][..],
                &["add", "-A"],
                &["commit", "-q", "--no-verify", "-m", "base"],
            ] {
                let status = std::process::Command::new("git")
                    .current_dir(dir.path())
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                    .args(args)
                    .status()
                    .expect("git");
                assert!(status.success(), "git {args:?}");
            }
        }
        write_files("edits");
        let cwd = match case.get("cwd").and_then(Value::as_str) {
            Some(sub) => dir.path().join(sub),
            None => dir.path().to_path_buf(),
        };
        let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
        cmd.current_dir(&cwd).args(strings(case, "args"));
        let output = cmd.output().expect("run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let context = format!("case `{name}`\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        assert_eq!(
            output.status.code(),
            case["exit"].as_i64().map(|c| c as i32),
            "{context}"
        );
        if let Some(expected) = case.get("json") {
            let actual: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{context}\nnot JSON: {e}"));
            common::assert_subset(expected, &actual, name);
        }
        for text in strings(case, "stdout") {
            assert!(
                stdout.contains(&text),
                "{context}\nmissing in stdout: {text}"
            );
        }
        for text in strings(case, "stderr") {
            assert!(
                stderr.contains(&text),
                "{context}\nmissing in stderr: {text}"
            );
        }
        for text in strings(case, "absent") {
            assert!(
                !stdout.contains(&text),
                "{context}\nunexpected in stdout: {text}"
            );
        }
    }
}

#[test]
fn descriptors_table() {
    run_table("testdata/conformance/descriptors.yaml", 40);
}

/// Run `scan --format json` in a fixture folder (shaped like a real GitOps repository).
fn scan_fixture(relative: &str) -> (Option<i32>, Value) {
    let dir = common::fixture(relative);
    let output = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .current_dir(&dir)
        .args(["scan", "--format", "json"])
        .output()
        .expect("run");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    (output.status.code(), report)
}

/// flux2-kustomize-helm-example's shape: clusters/{production,staging} with a flux-system
/// sync each, apps/{base,production,staging}, infrastructure/controllers, a chart of the
/// repository released by a HelmRelease and a HelmRepository chart (external).
#[test]
fn flux_fixture_fans_the_base_out_to_both_clusters() {
    let (code, report) = scan_fixture("testdata/gitops/flux");
    assert_eq!(code, Some(1));
    let expected = serde_json::json!({
        "summary": {"workloads": 4, "denied": 2},
        "workloads": [
            {"name": "podinfo", "namespace": "podinfo-prod", "context": "Kustomization/flux-system/apps@clusters/production",
             "cluster": "us-central1.production", "contextSource": "clusters/production/apps.yaml:1", "policyDecision": "deny"},
            {"name": "podinfo", "namespace": "podinfo", "context": "Kustomization/flux-system/apps@clusters/staging",
             "cluster": null, "contextSource": "clusters/staging/apps.yaml:1", "policyDecision": "allow"},
            {"name": "cert-manager", "context": "Kustomization/flux-system/infra-controllers@clusters/production", "policyDecision": "deny"},
            {"name": "cert-manager", "context": "Kustomization/flux-system/infra-controllers@clusters/staging", "policyDecision": "allow"},
        ],
    });
    common::assert_subset(&expected, &report, "flux fixture");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["ruleId"].as_str())
        .collect();
    for rule in [
        "context-external-source",
        "context-cluster-unmapped",
        "render-unresolved",
    ] {
        assert!(rules.contains(&rule), "{rule} missing: {rules:?}");
    }
}

/// argocd-example-apps' shape: an app-of-apps (argocd/root.yaml → argocd/apps/), a
/// multi-source Application, an ApplicationSet over cluster folders (sandbox excluded) and
/// a goTemplate list ApplicationSet beside an unsupported clusters generator.
#[test]
fn argocd_fixture_maps_each_application_to_its_cluster() {
    let (code, report) = scan_fixture("testdata/gitops/argocd");
    assert_eq!(code, Some(1));
    let expected = serde_json::json!({
        "summary": {"workloads": 7},
        "workloads": [
            {"location": {"file": "clusters/prod-eu/addons.yaml"}, "context": "Application/argocd/prod-eu-addons", "cluster": "europe-west1.prod-eu", "namespace": "kube-addons", "policyDecision": "dryrun-deny"},
            {"location": {"file": "clusters/prod-us/addons.yaml"}, "context": "Application/argocd/prod-us-addons", "cluster": "us-central1.prod-us", "policyDecision": "deny"},
            {"location": {"file": "clusters/sandbox/addons.yaml"}, "context": null, "policyDecision": "allow"},
            {"location": {"file": "guestbook/guestbook-ui-deployment.yaml"}, "context": "Application/argocd/guestbook", "namespace": "guestbook", "cluster": "us-central1.prod-us"},
            {"location": {"file": "monitoring/agent.yaml"}, "context": "Application/argocd/prod-us-monitoring", "cluster": "us-central1.prod-us"},
            {"location": {"file": "monitoring/agent.yaml"}, "context": "Application/argocd/prod-eu-monitoring", "cluster": "europe-west1.prod-eu"},
            {"location": {"file": "payments/base/deployment.yaml"}, "context": "Application/argocd/payments", "namespace": "payments", "cluster": "us-central1.prod-us"},
        ],
    });
    common::assert_subset(&expected, &report, "argocd fixture");
}

/// A Config Sync root repository: one RootSync for the fleet, an object for the EU only.
#[test]
fn configsync_fixture_honours_cluster_name_selectors() {
    let (code, report) = scan_fixture("testdata/gitops/configsync");
    assert_eq!(code, Some(1));
    let expected = serde_json::json!({
        "summary": {"workloads": 3, "denied": 1},
        "workloads": [
            {"name": "gdpr-exporter", "context": "RootSync/config-management-system/root-sync@eu-prod", "cluster": "europe-west1.eu-prod"},
            {"name": "frontend", "context": "RootSync/config-management-system/root-sync@us-prod", "policyDecision": "deny"},
            {"name": "frontend", "context": "RootSync/config-management-system/root-sync@eu-prod", "policyDecision": "allow"},
        ],
    });
    common::assert_subset(&expected, &report, "configsync fixture");
}

/// A stand-in `helm` on PATH: prints a Deployment named after the release whose image is
/// the last `image:` of the values files it was given (YAML or the JSON of inline values).
#[cfg(unix)]
const FAKE_HELM: &str = r#"#!/bin/sh
shift
release=release-name
case "$1" in ./*|/*) ;; *) release=$1; shift ;; esac
image=none
prev=
for a in "$@"; do
  if [ "$prev" = "--values" ]; then
    found=$(sed -n -e 's/^image: *//p' -e 's/.*"image":"\([^"]*\)".*/\1/p' "$a")
    [ -n "$found" ] && image=$found
  fi
  prev=$a
done
printf -- '---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: %s\n' "$release" "$image"
"#;

#[cfg(unix)]
const WEB_RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: web}\nspec:\n  releaseName: web-prod\n  chart:\n    spec:\n      chart: ./charts/web\n      sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}\n      valuesFiles: [charts/web/values-prod.yaml]\n";

/// `--render helm`: a HelmRelease's values files, inline values and release name drive the
/// rendering of the chart it deploys.
#[cfg(unix)]
#[test]
fn helm_release_settings_drive_rendering() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, text).expect("write");
    };
    write("bin/helm", FAKE_HELM);
    std::fs::set_permissions(
        dir.path().join("bin/helm"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    write(
        ".binauthz-lint.yaml",
        "version: 1\ndiscover: [flux]\nclusters:\n  prod: {key: us-central1.prod, flux: clusters/prod}\n",
    );
    write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write("charts/web/values.yaml", "image: gcr.io/acme/web:1.0\n");
    write(
        "charts/web/values-prod.yaml",
        "image: gcr.io/acme/web:1.5\n",
    );
    write(
        "charts/web/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n",
    );
    let path = format!(
        "{}:{}",
        dir.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |release: &str| -> Value {
        write("clusters/prod/web.yaml", release);
        let output = Command::cargo_bin("binauthz-lint")
            .expect("binary")
            .current_dir(dir.path())
            .env("PATH", &path)
            .args(["scan", "--render", "helm", "--format", "json"])
            .output()
            .expect("run");
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
    };
    // The HelmRelease's values file comes after the chart's defaults; its release name and
    // namespace are used.
    let report = run(WEB_RELEASE);
    let expected = serde_json::json!({
        "workloads": [{"name": "web-prod", "namespace": "web", "context": "HelmRelease/web/web",
                       "cluster": "us-central1.prod", "images": [{"image": "gcr.io/acme/web:1.5"}]}]
    });
    common::assert_subset(&expected, &report, "values files");
    // Inline values win over the values files.
    let report = run(&format!(
        "{WEB_RELEASE}  values:\n    image: gcr.io/acme/web:2.0\n"
    ));
    let expected = serde_json::json!({
        "workloads": [{"name": "web-prod", "images": [{"image": "gcr.io/acme/web:2.0"}]}]
    });
    common::assert_subset(&expected, &report, "inline values");
    // An Argo CD Application: valueFiles relative to the chart's folder, `$ref/…` left out.
    write(
        ".binauthz-lint.yaml",
        "version: 1\ndiscover: [argocd]\nclusters:\n  prod: {key: us-central1.prod, argocd: [prod]}\n",
    );
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: argocd}\nspec:\n  source:\n    repoURL: https://github.com/acme/deploy\n    path: charts/web\n    helm:\n      releaseName: web-argo\n      valueFiles: [values-prod.yaml, $values/web.yaml]\n  destination: {name: prod, namespace: web-ns}\n";
    let report = run(app);
    let expected = serde_json::json!({
        "workloads": [{"name": "web-argo", "namespace": "web-ns", "context": "Application/argocd/web",
                       "cluster": "us-central1.prod", "images": [{"image": "gcr.io/acme/web:1.5"}]}]
    });
    common::assert_subset(&expected, &report, "argo values files");
    let report = run(&app.replace(
        "      releaseName: web-argo\n",
        "      releaseName: web-argo\n      valuesObject: {image: gcr.io/acme/web:3.0}\n",
    ));
    let expected = serde_json::json!({
        "workloads": [{"name": "web-argo", "images": [{"image": "gcr.io/acme/web:3.0"}]}]
    });
    common::assert_subset(&expected, &report, "argo valuesObject");
}
