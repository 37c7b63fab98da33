//! Cloud Run end to end (contract §12): the fixtures of `testdata/cloudrun` through the
//! binary, in every format, with a config (`platform:`, exceptions), `--render kustomize`,
//! `policy diff` and a baseline.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("binauthz-lint").expect("binary");
    cmd.env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("BINAUTHZ_LINT_FORMAT")
        .env("NO_COLOR", "1");
    cmd
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn json(cmd: &mut Command) -> (i32, Value) {
    let out = cmd.output().expect("run");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn workload<'r>(report: &'r Value, name: &str) -> &'r Value {
    report["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("no workload {name}: {report:#}"))
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

/// The fixtures in a temporary folder of their own (configs are written beside them).
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("testdata/cloudrun"), dir.path());
    dir
}

#[test]
fn fixtures_are_cloud_run_and_cluster_rules_never_apply() {
    let (code, report) = json(
        bin()
            .current_dir(root())
            .args(["scan", "testdata/cloudrun", "--format", "json"])
            .args(["--policy", "testdata/cloudrun/policy.yaml"])
            .args(["--cluster", "us-central1.prod"]),
    );
    assert_eq!(code, 1, "{report:#}");
    let summary = &report["summary"];
    assert_eq!(summary["platforms"]["gke"], 0);
    assert_eq!(summary["platforms"]["cloudrun"], summary["workloads"]);
    for w in report["workloads"].as_array().expect("workloads") {
        assert_eq!(w["platform"], "cloudrun", "{w:#}");
        for image in w["images"].as_array().expect("images") {
            // The ALWAYS_ALLOW cluster rule for `--cluster` never decides a Cloud Run image.
            assert!(
                image["rule"].is_null() || image["rule"] == "default",
                "{image:#}"
            );
        }
    }
    let checkout = workload(&report, "checkout");
    assert_eq!(checkout["binauthz"], "enforced");
    assert_eq!(checkout["policyDecision"], "deny");
    assert_eq!(checkout["admitted"], true);
    assert_eq!(checkout["breakglass"]["marker"], "justification");
    assert_eq!(
        checkout["breakglass"]["justification"],
        "INC-4512: attestor outage, rollback to 1.3.2"
    );
    let frontend = workload(&report, "frontend");
    assert_eq!(frontend["admitted"], Value::Null);
    assert_eq!(frontend["images"][0]["reason"], "tag-resolved-at-deploy");
    assert_eq!(workload(&report, "internal-api")["binauthz"], "off");
    assert_eq!(workload(&report, "reindex")["binauthz"], "off");
    assert_eq!(workload(&report, "nightly-export")["admitted"], false);
    let hello = &workload(&report, "payments-api")["images"][1];
    assert_eq!(
        (&hello["reason"], &hello["rule"]),
        (&Value::from("allowlist"), &Value::Null)
    );
    // The checkout break-glass, as Cloud Run logs it (the other one is Terraform's `api`).
    let events = report["auditEvents"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:#?}");
    let event = events
        .iter()
        .find(|e| e["resource"]["labels"]["service_name"] == "checkout")
        .expect("checkout event");
    assert_eq!(event["platform"], "cloudrun");
    assert_eq!(
        event["justification"],
        "INC-4512: attestor outage, rollback to 1.3.2"
    );
    assert_eq!(event["resource"]["type"], "cloud_run_revision");
    assert_eq!(event["resource"]["labels"]["service_name"], "checkout");
    assert_eq!(event["resource"]["labels"]["location"], "us-central1");
    assert_eq!(event["resource"]["labels"]["project_id"], "acme-prod");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["ruleId"].as_str())
        .collect();
    for rule in [
        "cloudrun-binauthz-off",
        "image-digest-unresolved",
        "breakglass-used",
        "image-denied",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn sarif_human_and_github_name_cloud_run() {
    let out = bin()
        .current_dir(root())
        .args(["scan", "testdata/cloudrun/services", "--format", "sarif"])
        .args(["--policy", "testdata/cloudrun/policy.yaml"])
        .output()
        .expect("run");
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let about_workloads: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["workload"].is_object())
        .collect();
    assert!(about_workloads.len() >= 3, "{results:#?}");
    for result in about_workloads {
        assert_eq!(result["properties"]["platform"], "cloudrun", "{result:#}");
    }

    let out = bin()
        .current_dir(root())
        .args(["scan", "testdata/cloudrun/services"])
        .args(["--policy", "testdata/cloudrun/policy.yaml"])
        .output()
        .expect("run");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("on Cloud Run service `checkout`"), "{human}");
    assert!(human.contains("INC-4512: attestor outage"), "{human}");
    assert!(human.contains("1 unresolved (3 Cloud Run)"), "{human}");

    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("summary.md");
    let out = bin()
        .current_dir(root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["scan", "testdata/cloudrun/services", "--format", "github"])
        .args(["--policy", "testdata/cloudrun/policy.yaml"])
        .output()
        .expect("run");
    let annotations = String::from_utf8_lossy(&out.stdout);
    assert!(
        annotations.contains("Cloud Run service `frontend`"),
        "{annotations}"
    );
    let summary = fs::read_to_string(&summary).expect("step summary");
    assert!(
        summary.contains("| Cloud Run service checkout |"),
        "{summary}"
    );
    assert!(
        summary.contains("justification \"INC-4512: attestor outage, rollback to 1.3.2\""),
        "{summary}"
    );
    assert!(summary.contains("| Unresolved"), "{summary}");
}

#[test]
fn exceptions_match_cloud_run_objects_and_show_the_justification() {
    let dir = fixtures();
    fs::write(
        dir.path().join(".binauthz-lint.yaml"),
        "version: 1\npolicy: policy.yaml\nexceptions:\n  - id: BG-2026-031\n    rules: [breakglass-used]\n    match: {kind: Service, name: checkout, path: \"services/**\"}\n    reason: \"Attestor outage INC-4512\"\n    owner: \"@acme/payments\"\n    expires: 2026-12-31\n",
    )
    .expect("config");
    let (_, report) = json(bin().current_dir(dir.path()).args([
        "scan",
        "services",
        "--format",
        "json",
        "--today",
        "2026-12-06",
    ]));
    let used: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "breakglass-used")
        .collect();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["level"], "note");
    assert_eq!(used[0]["suppression"]["exceptionId"], "BG-2026-031");
    assert!(
        report["auditEvents"][0]["labels"]["binauthz-lint/approved-exception"] == "BG-2026-031"
    );

    let out = bin()
        .current_dir(dir.path())
        .args(["scan", "services", "--today", "2026-12-06"])
        .output()
        .expect("run");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("Cloud Run service checkout")
            && human.contains("justification \"INC-4512: attestor outage, rollback to 1.3.2\""),
        "{human}"
    );
}

#[test]
fn config_platform_top_level_and_per_context() {
    let dir = tempfile::tempdir().expect("tempdir");
    let knative = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: NAME\n  annotations:\n    run.googleapis.com/binary-authorization: default\nspec:\n  template:\n    spec:\n      containers:\n      - image: gcr.io/acme/NAME:1\n";
    for name in ["run", "knative"] {
        let path = dir.path().join(name).join("service.yaml");
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, knative.replace("NAME", name)).expect("write");
    }
    fs::write(
        dir.path().join(".binauthz-lint.yaml"),
        "version: 1\nplatform: auto\ncontexts:\n  - name: on-gke\n    paths: [\"knative/**\"]\n    cluster: us-central1.prod\n    platform: gke\n",
    )
    .expect("config");
    let (_, report) = json(
        bin()
            .current_dir(dir.path())
            .args(["scan", "--format", "json"]),
    );
    assert_eq!(workload(&report, "run")["platform"], "cloudrun");
    assert_eq!(workload(&report, "run")["cluster"], Value::Null);
    assert_eq!(workload(&report, "knative")["platform"], "gke");
    assert_eq!(workload(&report, "knative")["cluster"], "us-central1.prod");

    fs::write(
        dir.path().join(".binauthz-lint.yaml"),
        "version: 1\nplatform: cloud-run\n",
    )
    .expect("config");
    let out = bin()
        .current_dir(dir.path())
        .args(["scan"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".binauthz-lint.yaml:2:11") && stderr.contains("cloudrun"),
        "{stderr}"
    );
}

#[test]
fn policy_diff_and_baseline_work_for_cloud_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::write(
        root.join("old.yaml"),
        "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    )
    .expect("old");
    // The new policy denies by default; its cluster rule must not rescue the Cloud Run service.
    fs::write(
        root.join("new.yaml"),
        "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\nclusterAdmissionRules:\n  us-central1.prod: {evaluationMode: ALWAYS_ALLOW, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    )
    .expect("new");
    fs::create_dir_all(root.join("run")).expect("mkdir");
    fs::copy(
        crate::root().join("testdata/cloudrun/jobs/nightly-export.job.yaml"),
        root.join("run/job.yaml"),
    )
    .expect("copy");
    let (code, diff) = json(
        bin()
            .current_dir(root)
            .args(["policy", "diff", "old.yaml", "new.yaml", "run"])
            .args(["--cluster", "us-central1.prod", "--format", "json"]),
    );
    assert_eq!(code, 1, "{diff:#}");
    assert_eq!(diff["changes"][0]["change"], "newly-denied");
    assert_eq!(diff["changes"][0]["images"][0]["new"]["rule"], "default");

    let baseline = root.join("baseline.json");
    let (_, first) = json(
        bin()
            .current_dir(root)
            .args(["scan", "run", "--policy", "new.yaml", "--format", "json"]),
    );
    fs::write(&baseline, first.to_string()).expect("baseline");
    let (code, second) = json(
        bin()
            .current_dir(root)
            .args(["scan", "run", "--policy", "new.yaml", "--format", "json"])
            .args(["--baseline", baseline.to_str().expect("utf-8")]),
    );
    assert_eq!(code, 0, "{second:#}");
    assert_eq!(second["summary"]["new"], 0);
    assert_eq!(
        second["summary"]["unchanged"],
        first["findings"].as_array().expect("findings").len()
    );
}

#[test]
fn a_rendered_kustomize_overlay_of_a_cloud_run_service_is_cloud_run() {
    let available = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!(
            "\n*** SKIPPED: `kubectl` is not on PATH, so the Cloud Run render test did not run ***\n"
        );
        return;
    }
    let dir = fixtures();
    let (_, report) = json(
        bin()
            .current_dir(dir.path())
            .args([
                "scan",
                "kustomize",
                "--render",
                "kustomize",
                "--format",
                "json",
            ])
            .args(["--policy", "policy.yaml"]),
    );
    assert_eq!(report["summary"]["renderedRoots"], 1, "{report:#}");
    let orders = workload(&report, "orders");
    assert_eq!(orders["platform"], "cloudrun");
    assert_eq!(orders["binauthz"], "enforced");
    assert_eq!(orders["renderedFrom"], "kustomize/overlays/prod");
    // The overlay pins the image by digest, so it is decided (denied: no attestation) ...
    assert_eq!(orders["images"][0]["decision"], "deny");
    assert!(
        orders["images"][0]["image"]
            .as_str()
            .is_some_and(|i| i.contains("@sha256:486ea462")),
        "{orders:#}"
    );
    // ... and its patch adds the justification that admits it.
    assert_eq!(
        orders["breakglass"]["justification"],
        "CHG-88 emergency release"
    );
    assert_eq!(orders["admitted"], true);
    let event = &report["auditEvents"][0];
    assert_eq!(event["justification"], "CHG-88 emergency release");
    let annotations = event["protoPayload"]["request"]["metadata"]["annotations"]
        .as_object()
        .expect("annotations");
    assert!(
        annotations
            .keys()
            .all(|k| !k.starts_with("config.kubernetes.io/"))
    );
}

#[test]
fn terraform_files_and_a_plan_are_cloud_run_workloads() {
    let (code, report) = json(
        bin()
            .current_dir(root())
            .args(["scan", "testdata/cloudrun/terraform", "--format", "json"])
            .args(["--policy", "testdata/cloudrun/policy.yaml"])
            .args(["--terraform-plan", "testdata/cloudrun-plan/plan.json"]),
    );
    assert_eq!(code, 1, "{report:#}");
    // main.tf (four resources) and the plan; variables.tf has none and is not counted.
    assert_eq!(report["summary"]["files"], 2, "{report:#}");
    assert_eq!(report["summary"]["platforms"]["cloudrun"], 5);
    let storefront = workload(&report, "storefront");
    assert_eq!(
        storefront["location"]["file"],
        "testdata/cloudrun-plan/plan.json"
    );
    assert_eq!(storefront["binauthz"], "enforced");
    assert_eq!(storefront["images"][0]["reason"], "tag-resolved-at-deploy");
    let migrate = workload(&report, "migrate");
    assert_eq!(migrate["images"][0]["image"], "var.migrate_image");
    assert_eq!(migrate["images"][0]["reason"], "not-a-literal");
    assert_eq!(migrate["admitted"], Value::Null);
    assert_eq!(workload(&report, "legacy")["admitted"], false);
    assert_eq!(workload(&report, "public")["binauthz"], "off");
    let api = workload(&report, "api");
    assert_eq!(api["breakglass"]["justification"], "INC-7788 signer outage");
    let notes: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ruleId"] == "terraform-value-unresolved")
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");

    // Without the flag the plan is not read (it is outside the scanned folder anyway), and a
    // plan named as a scan path is only a JSON file, not a manifest.
    let (_, plain) = json(bin().current_dir(root()).args([
        "scan",
        "testdata/cloudrun-plan",
        "--format",
        "json",
    ]));
    assert_eq!(plain["summary"]["workloads"], 0, "{plain:#}");
}

fn git(root: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "core.hooksPath=/dev/null"])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// PR mode: a change that adds a justification to a Cloud Run service introduces exactly
/// one new finding, the `breakglass-used` that quotes it; the base's denial is resolved.
#[test]
fn pr_mode_shows_a_new_cloud_run_break_glass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let service = |extra: &str| {
        format!(
            "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: api\n  annotations:\n    run.googleapis.com/binary-authorization: default\n{extra}spec:\n  template:\n    spec:\n      containers:\n      - image: us-docker.pkg.dev/acme/apps/api:1\n"
        )
    };
    fs::write(
        root.join("policy.yaml"),
        "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\n",
    )
    .expect("policy");
    fs::create_dir_all(root.join("run")).expect("mkdir");
    fs::write(root.join("run/api.yaml"), service("")).expect("service");
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "base"]);
    fs::write(
        root.join("run/api.yaml"),
        service("    run.googleapis.com/binary-authorization-breakglass: \"INC-9 hotfix\"\n"),
    )
    .expect("service");
    let (code, report) = json(
        bin()
            .current_dir(root)
            .args(["scan", "run", "--policy", "policy.yaml", "--format", "json"])
            .args(["--since", "HEAD"]),
    );
    assert_eq!(code, 1, "{report:#}");
    let findings = report["findings"].as_array().expect("findings");
    let new: Vec<&Value> = findings
        .iter()
        .filter(|f| f["baselineState"] == "new")
        .collect();
    assert_eq!(new.len(), 1, "{findings:#?}");
    assert_eq!(new[0]["ruleId"], "breakglass-used");
    assert!(
        new[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("INC-9 hotfix")),
        "{new:#?}"
    );
    let absent = report["absent"].as_array().expect("absent");
    assert_eq!(absent.len(), 1, "{absent:#?}");
    assert_eq!(absent[0]["ruleId"], "image-denied");
}
