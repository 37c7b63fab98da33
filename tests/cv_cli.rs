//! End-to-end tests of continuous validation (contract §15): `evaluate`, `scan
//! --platform-policy`, config `platformPolicies`, break-glass pods CV will still flag, and
//! the outputs without a platform policy.

mod common;

use assert_cmd::Command;
use serde_json::{Value, json};

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1")
        .current_dir(common::repo_root());
    cmd
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str, stderr: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}\n{stderr}"))
}

const POLICY: &str = "testdata/platform/cv-policy.yaml";

#[test]
fn evaluate_prints_the_gcloud_response_for_pods_and_workloads() {
    let (code, out, err) = run(&[
        "evaluate",
        "--platform-policy",
        POLICY,
        "testdata/platform/pods.yaml",
    ]);
    assert_eq!(code, 1, "ERROR is not CONFORMANT: {err}");
    let response = json(&out, &err);
    // Written from the policy and the manifests: the Pod in prod (service account default)
    // gets check set 1, whose trusted directory passes and whose freshness check only the
    // online evaluation decides; the CronJob's pods (named like it) run as prod:deployer
    // from the release repository: check set 0 passes.
    let expected = json!({
        "results": [
            {
                "imageResults": [{
                    "checkSetResult": {
                        "checkResults": {"results": [
                            {"displayName": "trusted registry", "evaluationResult": {"verdict": "CONFORMANT"},
                             "explanation": "Image is in a trusted directory (pattern `*-docker.pkg.dev/acme/**`)",
                             "index": "0", "type": "TrustedDirectoryCheck"},
                            {"displayName": "fresh images", "evaluationResult": {"verdict": "ERROR"},
                             "explanation": "Undecided: needs registry or Artifact Analysis data: evaluated online only",
                             "index": "1", "type": "ImageFreshnessCheck"}
                        ]},
                        "displayName": "prod",
                        "index": "1",
                        "scope": {"kubernetesNamespace": "prod"}
                    },
                    "imageUri": "us-central1-docker.pkg.dev/acme/web/web@sha256:2222222222222222222222222222222222222222222222222222222222222222",
                    "verdict": "ERROR"
                }],
                "kubernetesNamespace": "prod",
                "kubernetesServiceAccount": "default",
                "podName": "web",
                "verdict": "ERROR"
            },
            {
                "imageResults": [{
                    "checkSetResult": {
                        "checkResults": {"results": [
                            {"displayName": "release repository", "evaluationResult": {"verdict": "CONFORMANT"},
                             "explanation": "Image is in a trusted directory (pattern `us-docker.pkg.dev/acme/release`)",
                             "index": "0", "type": "TrustedDirectoryCheck"}
                        ]},
                        "displayName": "prod deployer",
                        "index": "0",
                        "scope": {"kubernetesServiceAccount": "prod:deployer"}
                    },
                    "imageUri": "us-docker.pkg.dev/acme/release/report:2.0",
                    "verdict": "CONFORMANT"
                }],
                "kubernetesNamespace": "prod",
                "kubernetesServiceAccount": "deployer",
                "podName": "report",
                "verdict": "CONFORMANT"
            }
        ],
        "verdict": "ERROR"
    });
    assert_eq!(response, expected, "{out}");
    // gcloud prints keys sorted.
    assert!(out.find("\"results\"") < out.find("\"verdict\": \"ERROR\"\n}"));
}

#[test]
fn evaluate_exit_codes_and_stdin() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: kube-system}\nspec:\n  containers:\n  - {name: a, image: gke.gcr.io/agent:1}\n";
    let out = bin()
        .args(["evaluate", "--platform-policy", POLICY, "-"])
        .write_stdin(pod)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let response = json(&String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(response["verdict"], "CONFORMANT");
    let image = &response["results"][0]["imageResults"][0];
    assert_eq!(image["allowlistResult"]["matchedPattern"], "gke.gcr.io/**");
    assert!(image.get("checkSetResult").is_none());

    // An invalid platform policy: exit 2 with file:line:column.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "gkePolicy:\n  checkSets:\n  - scope: {kubernetesNamespace: prod}\n    checks: []\n",
    )
    .expect("write");
    let (code, _, err) = run(&[
        "evaluate",
        "--platform-policy",
        bad.to_str().expect("path"),
        "testdata/platform/pods.yaml",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.yaml:3:5"), "{err}");
    assert!(
        err.contains("the last check set must have no `scope`"),
        "{err}"
    );
    assert!(err.contains("invalid platform policy"), "{err}");

    // Nothing to evaluate.
    let (code, _, err) = run(&[
        "evaluate",
        "--platform-policy",
        POLICY,
        "testdata/platform/deny.yaml",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no Pod or workload"), "{err}");
}

fn scan_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scan", "--no-config", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all);
    (code, json(&out, &err))
}

#[test]
fn breakglass_pod_that_continuous_validation_will_flag() {
    let (code, report) = scan_json(&[
        "--policy",
        "testdata/platform/deny.yaml",
        "--platform-policy",
        POLICY,
        "testdata/platform/breakglass.yaml",
    ]);
    assert_eq!(code, 1);
    let workload = &report["workloads"][0];
    assert_eq!(workload["admitted"], true, "break-glass admits the pods");
    let cv = &workload["cv"];
    assert_eq!(cv.as_array().map(Vec::len), Some(1));
    assert_eq!(cv[0]["policy"], POLICY);
    assert_eq!(cv[0]["verdict"], "non-conformant");
    common::assert_subset(
        &json!([
            {"image": "us-docker.pkg.dev/acme/hotfix/payments:1.4.1", "verdict": "non-conformant",
             "allowlistPattern": null,
             "checkSet": {"index": 0, "displayName": "prod deployer", "scope": {"kubernetesServiceAccount": "prod:deployer"}},
             "checks": [{"index": 0, "displayName": "release repository", "type": "TrustedDirectoryCheck",
                         "verdict": "non-conformant", "allowlistPattern": null, "explanation": "~not in a trusted directory"}]},
            {"image": "gke.gcr.io/gke-metrics-agent:1.8.3", "verdict": "conformant",
             "allowlistPattern": "gke.gcr.io/**", "checkSet": null, "checks": []}
        ]),
        &cv[0]["images"],
        "cv.images",
    );
    let findings = report["findings"].as_array().expect("findings");
    let used = findings
        .iter()
        .find(|f| f["ruleId"] == "breakglass-used")
        .expect("breakglass-used");
    assert!(
        used["message"]
            .as_str()
            .is_some_and(|m| m.contains("continuous validation will still log this pod")),
        "{used}"
    );
    let cv_findings: Vec<&Value> = findings
        .iter()
        .filter(|f| f["ruleId"].as_str().is_some_and(|r| r.starts_with("cv-")))
        .collect();
    assert_eq!(cv_findings.len(), 1, "{cv_findings:?}");
    let f = cv_findings[0];
    assert_eq!(f["ruleId"], "cv-non-conformant");
    assert_eq!(f["level"], "warning");
    assert_eq!(f["location"]["line"], 18);
    assert_eq!(f["location"]["column"], 16);
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("admission is not affected")),
        "{f}"
    );
    assert_eq!(report["summary"]["cvNonConformant"], 1);
    assert_eq!(report["summary"]["cvUndecided"], 0);

    // Break-glass never changes the verdict: the same workload without it.
    let (_, plain) = scan_json(&[
        "--policy",
        "testdata/platform/deny.yaml",
        "--platform-policy",
        POLICY,
        "testdata/platform/no-breakglass.yaml",
    ]);
    assert_eq!(plain["workloads"][0]["admitted"], false);
    assert_eq!(plain["workloads"][0]["cv"], *cv);
}

#[test]
fn without_a_platform_policy_nothing_changes() {
    let (_, report) = scan_json(&[
        "--policy",
        "testdata/platform/deny.yaml",
        "testdata/platform/breakglass.yaml",
    ]);
    assert!(report["workloads"][0].get("cv").is_none());
    assert!(report["summary"].get("cvNonConformant").is_none());
    assert!(report["summary"].get("cvUndecided").is_none());
    let findings = report["findings"].as_array().expect("findings");
    assert!(findings.iter().all(|f| {
        f["message"]
            .as_str()
            .is_some_and(|m| !m.contains("continuous validation"))
    }));
}

#[test]
fn sarif_github_and_human_carry_the_findings() {
    let args = [
        "--policy",
        "testdata/platform/deny.yaml",
        "--platform-policy",
        POLICY,
        "testdata/platform/pods.yaml",
    ];
    let mut sarif_args = vec!["scan", "--no-config", "--format", "sarif"];
    sarif_args.extend_from_slice(&args);
    let (_, out, err) = run(&sarif_args);
    let sarif = json(&out, &err);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let undecided = results
        .iter()
        .find(|r| r["ruleId"] == "cv-undecided")
        .expect("cv-undecided result");
    assert_eq!(undecided["level"], "note");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "cv-non-conformant"));

    let mut github_args = vec!["scan", "--no-config", "--format", "github"];
    github_args.extend_from_slice(&args);
    let (_, out, _) = run(&github_args);
    assert!(
        out.lines()
            .any(|l| l.starts_with("::notice") && l.contains("cv-undecided")),
        "{out}"
    );

    let mut human_args = vec!["scan", "--no-config"];
    human_args.extend_from_slice(&args);
    let (_, out, _) = run(&human_args);
    assert!(out.contains("note[cv-undecided]"), "{out}");
}

#[test]
fn config_platform_policies_top_level_and_per_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let repo = common::repo_root();
    let copy = |from: &str, to: &str| {
        let target = root.join(to);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(repo.join(from), target).expect("copy");
    };
    copy(POLICY, "policy/cv.yaml");
    copy("testdata/platform/deny.yaml", "policy/deny.yaml");
    copy("testdata/platform/breakglass.yaml", "prod/app.yaml");
    copy("testdata/platform/breakglass.yaml", "dev/app.yaml");
    std::fs::write(root.join("policy/allow-all.yaml"), "gkePolicy: {}\n").expect("write");
    std::fs::write(
        root.join(".binauthz-lint.yaml"),
        "version: 1\npolicy: policy/deny.yaml\nplatformPolicies: [policy/cv.yaml]\ncontexts:\n  - name: dev\n    paths: [\"dev/**\"]\n    platformPolicies: [policy/allow-all.yaml]\n",
    )
    .expect("write");
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env("NO_COLOR", "1")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .current_dir(root)
        .args(["scan", "--format", "json", "."])
        .output()
        .expect("run");
    let report = json(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    );
    let by_file = |file: &str| {
        report["workloads"]
            .as_array()
            .expect("workloads")
            .iter()
            .find(|w| w["location"]["file"] == file)
            .cloned()
            .expect("workload")
    };
    let prod = by_file("prod/app.yaml");
    assert_eq!(prod["cv"][0]["policy"], "policy/cv.yaml");
    assert_eq!(prod["cv"][0]["verdict"], "non-conformant");
    let dev = by_file("dev/app.yaml");
    assert_eq!(dev["cv"][0]["policy"], "policy/allow-all.yaml");
    assert_eq!(dev["cv"][0]["verdict"], "conformant");
    assert_eq!(report["summary"]["cvNonConformant"], 1);

    // The flag replaces the config's lists everywhere.
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .current_dir(root)
        .args([
            "scan",
            "--format",
            "json",
            "--platform-policy",
            "policy/allow-all.yaml",
            ".",
        ])
        .output()
        .expect("run");
    let report = json(&String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(report["summary"]["cvNonConformant"], 0);
}

#[test]
fn exceptions_approve_cv_findings_like_any_other() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let repo = common::repo_root();
    for (from, to) in [
        (POLICY, "cv.yaml"),
        ("testdata/platform/no-breakglass.yaml", "app.yaml"),
    ] {
        std::fs::copy(repo.join(from), root.join(to)).expect("copy");
    }
    std::fs::write(
        root.join(".binauthz-lint.yaml"),
        "version: 1\nplatformPolicies: [cv.yaml]\nexceptions:\n  - id: CV-1\n    rules: [cv-non-conformant]\n    match: {kind: Deployment, name: payments, image: us-docker.pkg.dev/acme/hotfix}\n    reason: hotfix image, promoted to the release repository next sprint\n    expires: 2026-12-31\n",
    )
    .expect("write");
    let out = Command::cargo_bin("binauthz-lint")
        .expect("binary")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .current_dir(root)
        .args([
            "scan",
            "--format",
            "json",
            "--today",
            "2026-12-03",
            "app.yaml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "the only warning is approved");
    let report = json(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    );
    let f = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["ruleId"] == "cv-non-conformant")
        .cloned()
        .expect("cv-non-conformant");
    assert_eq!(f["level"], "note");
    assert_eq!(f["suppression"]["exceptionId"], "CV-1");
    assert!(f["fingerprint"].as_str().is_some_and(|s| s.len() >= 16));
}

#[test]
fn evaluate_images_uses_the_unscoped_check_set_like_gcloud() {
    let (code, out, err) = run(&[
        "evaluate",
        "--platform-policy",
        POLICY,
        "--image",
        "us-docker.pkg.dev/acme/release/app:1",
    ]);
    assert_eq!(code, 1, "{err}");
    let response = json(&out, &err);
    let pod = &response["results"][0];
    assert!(pod.get("podName").is_none(), "{pod}");
    let set = &pod["imageResults"][0]["checkSetResult"];
    assert_eq!(set["index"], "2");
    assert_eq!(set["displayName"], "everything else");
    assert_eq!(response["verdict"], "NON_CONFORMANT");
}
