//! The GitHub Action (`action.yml`) and the pre-commit hooks (`.pre-commit-hooks.yaml`).
//!
//! Metadata checks, and end-to-end runs of the Action's `run:` steps the way a runner
//! executes a composite action: each step with `bash --noprofile --norc -eo pipefail`, its
//! `env:` block with the `${{ ... }}` expressions substituted, a fresh `$GITHUB_OUTPUT` file
//! per step, one `$GITHUB_STEP_SUMMARY`, `if:` conditions evaluated, `uses:` steps recorded
//! (not executed). The already-built binary is on PATH, so the install step short-circuits.
#![cfg(unix)]

mod common;

use binauthz_lint::yaml::{self, Limits};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_binauthz-lint");

fn load_yaml(relative: &str) -> Value {
    let path = common::repo_root().join(relative);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tree = yaml::parse(&text, &Limits::default());
    assert!(tree.error.is_none(), "{relative}: {:?}", tree.error);
    assert_eq!(tree.documents.len(), 1, "{relative}: one document");
    let root = tree.documents[0].root.expect("root");
    yaml::to_json(&tree, root, 1_000_000).expect("to json")
}

fn action() -> Value {
    load_yaml("action.yml")
}

fn steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"].as_array().expect("runs.steps")
}

/// Every `${{ ... }}` expression in a string, trimmed.
fn expressions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").expect("unterminated ${{");
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

// ---------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------

#[test]
fn no_run_script_interpolates_expressions() {
    let action = action();
    let mut runs = 0;
    for step in steps(&action) {
        if let Some(run) = step.get("run").and_then(Value::as_str) {
            runs += 1;
            assert!(
                !run.contains("${{"),
                "step {:?} interpolates an expression into its script (script injection); pass it through env: instead",
                step["name"]
            );
            assert_eq!(step["shell"], "bash", "step {:?}", step["name"]);
        }
    }
    assert!(runs >= 3, "expected install, scan and exit steps");
}

#[test]
fn action_inputs_outputs_and_pins() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    let expected_defaults = [
        ("paths", Some(".")),
        ("policy", None),
        ("system-policy", None),
        ("cluster", None),
        ("namespace", None),
        ("attestors", None),
        ("attestations", None),
        ("fail-on", None),
        ("config", None),
        ("since", None),
        ("render", None),
        ("sarif-file", Some("binauthz-lint.sarif")),
        ("category", None),
        ("upload-sarif", Some("true")),
        ("version", None),
    ];
    for (name, default) in expected_defaults {
        let input = inputs.get(name).unwrap_or_else(|| panic!("input {name}"));
        assert!(
            input["description"].is_string(),
            "input {name}: description"
        );
        if let Some(default) = default {
            assert_eq!(input["default"], default, "input {name}: default");
        }
    }
    assert_eq!(inputs.len(), expected_defaults.len(), "unexpected inputs");
    let outputs = action["outputs"].as_object().expect("outputs");
    for name in ["denied", "breakglass", "findings", "sarif-file"] {
        let value = outputs[name]["value"].as_str().expect("output value");
        assert_eq!(
            value,
            format!("${{{{ steps.scan.outputs.{name} }}}}"),
            "output {name}"
        );
    }

    // Every `inputs.x` used exists, and every input is used.
    let text = fs::read_to_string(common::repo_root().join("action.yml")).expect("read");
    let used: Vec<String> = expressions(&text)
        .into_iter()
        .flat_map(|e| e.split(|c: char| !(c.is_alphanumeric() || "-_.".contains(c))))
        .filter_map(|word| word.strip_prefix("inputs."))
        .map(str::to_string)
        .collect();
    for name in &used {
        assert!(inputs.contains_key(name), "undeclared input {name}");
    }
    for name in inputs.keys() {
        assert!(used.contains(name), "input {name} is never used");
    }

    // Third-party actions are pinned by full commit SHA.
    let mut uses = 0;
    for step in steps(&action) {
        if let Some(target) = step.get("uses").and_then(Value::as_str) {
            uses += 1;
            let (_, sha) = target.split_once('@').expect("uses ref");
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{target}: pin by commit SHA"
            );
        }
    }
    assert_eq!(uses, 1, "one uses: step (upload-sarif)");
    let upload = steps(&action)
        .iter()
        .find(|s| s.get("uses").is_some())
        .expect("upload step");
    assert!(
        upload["uses"]
            .as_str()
            .expect("uses")
            .starts_with("github/codeql-action/upload-sarif@")
    );
    assert!(text.contains("upload-sarif@ff0a06e83cb2de871e5a09832bc6a81e7276941f # v3"));
}

/// `.github/workflows/*.yml`: every `uses:` pinned by full commit SHA (with the tag in a
/// comment), no `${{ }}` inside a `run:` script, a top-level `permissions:` that only reads,
/// and write permissions only on the jobs that need them.
#[test]
fn workflows_are_pinned_and_least_privileged() {
    let dir = common::repo_root().join(".github/workflows");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("workflows folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    names.sort();
    assert_eq!(names, ["ci.yml", "release.yml"]);
    for name in &names {
        let relative = format!(".github/workflows/{name}");
        let workflow = load_yaml(&relative);
        assert_eq!(
            workflow["permissions"],
            serde_json::json!({ "contents": "read" }),
            "{name}: top-level permissions"
        );
        let text = fs::read_to_string(common::repo_root().join(&relative)).expect("read");
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let target = line.split("uses:").nth(1).expect("uses").trim();
            let (action, rest) = target.split_once('@').expect("uses ref");
            let sha: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}: {action} must be pinned by commit SHA, got {sha}"
            );
            assert!(
                rest.contains("# v"),
                "{name}: {action}: say which tag the SHA is"
            );
        }
        for (job_id, job) in workflow["jobs"].as_object().expect("jobs") {
            for step in job["steps"].as_array().expect("steps") {
                if let Some(run) = step.get("run").and_then(Value::as_str) {
                    assert!(
                        !run.contains("${{"),
                        "{name}: job {job_id}: a run: script interpolates an expression; use env:"
                    );
                }
            }
            if let Some(permissions) = job.get("permissions").and_then(Value::as_object) {
                for (scope, level) in permissions {
                    let allowed = matches!(
                        (name.as_str(), job_id.as_str(), scope.as_str()),
                        ("release.yml", "github-release", "contents")
                            | ("release.yml", "pypi", "id-token")
                    );
                    assert!(
                        level == "read" || allowed,
                        "{name}: job {job_id} asks for {scope}: {level}"
                    );
                }
            }
        }
    }
    // The release publishes what the Action downloads: archives named like its install step
    // expects and a SHA256SUMS file.
    let release = fs::read_to_string(dir.join("release.yml")).expect("read");
    assert!(release.contains("binauthz-lint-$VERSION-$TARGET"));
    assert!(release.contains("SHA256SUMS"));
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(release.contains(target), "release.yml builds {target}");
    }
}

#[test]
fn pre_commit_hooks_shape() {
    let hooks = load_yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list of hooks");
    let by_id: BTreeMap<&str, &Value> = hooks
        .iter()
        .map(|h| (h["id"].as_str().expect("id"), h))
        .collect();
    for (id, language) in [
        ("binauthz-lint", "rust"),
        ("binauthz-lint-system", "system"),
    ] {
        let hook = by_id.get(id).unwrap_or_else(|| panic!("hook {id}"));
        assert_eq!(hook["language"], language, "{id}");
        assert_eq!(hook["entry"], "binauthz-lint scan", "{id}");
        assert_eq!(
            hook["types_or"],
            serde_json::json!(["yaml", "json"]),
            "{id}"
        );
        assert!(hook["name"].is_string(), "{id}");
        // pre-commit's default is pass_filenames: true; only the changed files are scanned.
        assert!(hook.get("pass_filenames").is_none_or(|v| v == true), "{id}");
        assert!(hook.get("always_run").is_none_or(|v| v == false), "{id}");
    }
    // The whole-repository hooks: run on any YAML/JSON change (policy and config included),
    // with no file names, so the paths in `args` (default `.`) are scanned whole.
    for (id, language) in [
        ("binauthz-lint-repo", "rust"),
        ("binauthz-lint-repo-system", "system"),
    ] {
        let hook = by_id.get(id).unwrap_or_else(|| panic!("hook {id}"));
        assert_eq!(hook["language"], language, "{id}");
        assert_eq!(hook["entry"], "binauthz-lint scan", "{id}");
        assert_eq!(hook["pass_filenames"], false, "{id}");
        assert_eq!(hook["files"], "\\.(ya?ml|json)$", "{id}");
        assert!(hook.get("types_or").is_none(), "{id}");
    }
    // The policy test suites: run on a change of a policy (YAML, JSON or Terraform), a
    // suite or a manifest, with no file names: every suite under `args` (default `.`) runs.
    for (id, language) in [
        ("binauthz-lint-test", "rust"),
        ("binauthz-lint-test-system", "system"),
    ] {
        let hook = by_id.get(id).unwrap_or_else(|| panic!("hook {id}"));
        assert_eq!(hook["language"], language, "{id}");
        assert_eq!(hook["entry"], "binauthz-lint test", "{id}");
        assert_eq!(hook["pass_filenames"], false, "{id}");
        assert_eq!(hook["files"], "\\.(ya?ml|json|tf)$", "{id}");
        assert!(hook.get("types_or").is_none(), "{id}");
    }
    assert_eq!(hooks.len(), 6);
}

// ---------------------------------------------------------------------------------------
// A small composite-action runner
// ---------------------------------------------------------------------------------------

/// What one run of the Action did.
#[derive(Debug, Default)]
struct Run {
    /// Outputs written to `$GITHUB_OUTPUT`, by step id.
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Exit status of each executed `run:` step, by step name (`None`: skipped).
    status: Vec<(String, Option<i32>)>,
    /// Standard output / error of each executed step, by step name.
    logs: BTreeMap<String, (String, String)>,
    /// `uses:` steps whose condition held, with their `with:` substituted.
    uploads: Vec<(String, BTreeMap<String, String>)>,
    /// The Action's outputs (`outputs.*.value` evaluated).
    action_outputs: BTreeMap<String, String>,
    /// Whether any step failed (the job's result).
    failed: bool,
    /// Exit code of the last executed step.
    last_exit: Option<i32>,
    /// Wall-clock time of each executed `run:` step, by step name.
    durations: BTreeMap<String, std::time::Duration>,
}

impl Run {
    fn output(&self, name: &str) -> Option<&str> {
        self.action_outputs
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    fn scan_output(&self, name: &str) -> Option<&str> {
        self.outputs
            .get("scan")
            .and_then(|o| o.get(name))
            .map(String::as_str)
    }
    fn log(&self, step: &str) -> &str {
        self.logs.get(step).map(|(o, _)| o.as_str()).unwrap_or("")
    }
    fn stderr(&self, step: &str) -> &str {
        self.logs.get(step).map(|(_, e)| e.as_str()).unwrap_or("")
    }
}

struct Runner<'a> {
    inputs: BTreeMap<String, String>,
    workspace: &'a Path,
    temp: &'a Path,
    path: String,
    extra_env: Vec<(String, String)>,
    run: Run,
}

impl<'a> Runner<'a> {
    fn new(
        action: &Value,
        given: &[(&str, &str)],
        workspace: &'a Path,
        temp: &'a Path,
        path: String,
    ) -> Self {
        let mut inputs = BTreeMap::new();
        for (name, spec) in action["inputs"].as_object().expect("inputs") {
            let default = spec.get("default").and_then(Value::as_str).unwrap_or("");
            inputs.insert(name.clone(), default.to_string());
        }
        for (name, value) in given {
            assert!(inputs.contains_key(*name), "no input {name}");
            inputs.insert(name.to_string(), value.to_string());
        }
        Runner {
            inputs,
            workspace,
            temp,
            path,
            extra_env: Vec::new(),
            run: Run::default(),
        }
    }

    /// Value of one context expression, as the runner would give it (strings only).
    fn value(&self, expr: &str) -> String {
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self.inputs.get(name).cloned().expect("declared input");
        }
        if expr == "github.action_path" {
            return common::repo_root().display().to_string();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, output) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            return self
                .run
                .outputs
                .get(id)
                .and_then(|o| o.get(output))
                .cloned()
                .unwrap_or_default();
        }
        if let Some(literal) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return literal.replace("''", "'");
        }
        panic!("expression `{expr}` is not supported by this test runner");
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let end = after.find("}}").expect("unterminated ${{");
            out.push_str(&self.value(after[..end].trim()));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// The subset of the expression language `if:` uses here: `&&` of status functions
    /// and `==` / `!=` comparisons (case-insensitive, as GitHub compares strings).
    fn condition(&self, cond: Option<&str>) -> bool {
        let Some(cond) = cond else {
            return !self.run.failed;
        };
        let cond = cond.trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        cond.split("&&").all(|term| match term.trim() {
            "always()" | "!cancelled()" => true,
            "success()" => !self.run.failed,
            "failure()" => self.run.failed,
            term => {
                let (left, right, equal) = if let Some((l, r)) = term.split_once("==") {
                    (l, r, true)
                } else if let Some((l, r)) = term.split_once("!=") {
                    (l, r, false)
                } else {
                    panic!("condition term `{term}` is not supported by this test runner")
                };
                let same = self
                    .value(left.trim())
                    .eq_ignore_ascii_case(&self.value(right.trim()));
                same == equal
            }
        })
    }

    fn execute(mut self, action: &Value) -> Run {
        let summary = self.temp.join("step-summary.md");
        for (index, step) in steps(action).iter().enumerate() {
            let name = step["name"].as_str().expect("step name").to_string();
            let id = step
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("__{index}"));
            if !self.condition(step.get("if").and_then(Value::as_str)) {
                self.run.status.push((name, None));
                continue;
            }
            if step.get("uses").is_some() {
                let with = step
                    .get("with")
                    .and_then(Value::as_object)
                    .map(|w| {
                        w.iter()
                            .map(|(k, v)| (k.clone(), self.substitute(v.as_str().expect("str"))))
                            .collect()
                    })
                    .unwrap_or_default();
                self.run.uploads.push((name, with));
                continue;
            }
            let script = step["run"].as_str().expect("run or uses");
            let script_path = self.temp.join(format!("step-{index}.sh"));
            fs::write(&script_path, script).expect("write script");
            let output_file = self.temp.join(format!("output-{index}"));
            fs::write(&output_file, "").expect("GITHUB_OUTPUT");
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script_path)
                .current_dir(self.workspace)
                .env_clear()
                .env("PATH", &self.path)
                .env("HOME", self.temp)
                .env("NO_COLOR", "1")
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", self.workspace)
                .env("GITHUB_ACTION_PATH", common::repo_root())
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("RUNNER_TEMP", self.temp)
                .env("RUNNER_TOOL_CACHE", self.temp.join("toolcache"))
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                // Never reach the network from a test.
                .env("BINAUTHZ_LINT_RELEASE_URL", "file:///nonexistent/releases");
            for (k, v) in &self.extra_env {
                cmd.env(k, v);
            }
            if let Some(env) = step.get("env").and_then(Value::as_object) {
                for (k, v) in env {
                    cmd.env(
                        k,
                        self.substitute(v.as_str().expect("env values are strings")),
                    );
                }
            }
            let started = std::time::Instant::now();
            let out = cmd.output().expect("run bash");
            self.run.durations.insert(name.clone(), started.elapsed());
            let code = out.status.code();
            self.run.logs.insert(
                name.clone(),
                (
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                ),
            );
            let written = fs::read_to_string(&output_file).expect("read GITHUB_OUTPUT");
            self.run.outputs.insert(id, parse_github_output(&written));
            if code != Some(0) {
                self.run.failed = true;
            }
            self.run.last_exit = code;
            self.run.status.push((name, code));
        }
        let outputs: Map<String, Value> = action["outputs"].as_object().expect("outputs").clone();
        for (name, spec) in outputs {
            let value = self.substitute(spec["value"].as_str().expect("value"));
            self.run.action_outputs.insert(name, value);
        }
        self.run
    }
}

/// `name=value` lines and `name<<DELIMITER` blocks, as the runner reads them.
fn parse_github_output(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else if !line.is_empty() {
            panic!("malformed GITHUB_OUTPUT line {line:?}");
        }
    }
    out
}

/// A folder of symlinks to exactly the tools the Action's scripts may use, plus the
/// binary: the scripts must not depend on anything else on the developer's PATH.
fn toolbox(dir: &Path, with_binary: bool, with_jq: bool) -> String {
    fs::create_dir_all(dir).expect("toolbox");
    let system_path = std::env::var("PATH").unwrap_or_default();
    let find = |tool: &str| -> Option<PathBuf> {
        std::env::split_paths(&system_path)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    };
    let required = [
        "bash",
        "sed",
        "head",
        "cut",
        "mktemp",
        "dirname",
        "mkdir",
        "rm",
        "tar",
        "gzip",
        "sha256sum",
        "mv",
        "chmod",
        "tr",
    ];
    for tool in required {
        let target = find(tool).unwrap_or_else(|| panic!("{tool} is needed for this test"));
        std::os::unix::fs::symlink(target, dir.join(tool)).expect("symlink");
    }
    // Optional: without jq the action reads the report with python3; without curl it
    // cannot download a release archive.
    // git: every runner has it (PR mode reads the base commit with it); kubectl: for
    // `render: kustomize`, as on GitHub's runners.
    let optional: &[&str] = if with_jq {
        &["curl", "jq", "git", "kubectl"]
    } else {
        &["curl", "git", "kubectl"]
    };
    for tool in optional {
        if let Some(target) = find(tool) {
            std::os::unix::fs::symlink(target, dir.join(tool)).expect("symlink");
        }
    }
    // python3 may be a pyenv shim (a script needing pyenv): link the real interpreter.
    if let Ok(out) = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
    {
        let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !exe.is_empty() {
            std::os::unix::fs::symlink(exe, dir.join("python3")).expect("symlink");
        }
    }
    if with_binary {
        std::os::unix::fs::symlink(BIN, dir.join("binauthz-lint")).expect("symlink");
    }
    dir.display().to_string()
}

/// A checkout with a break-glass Deployment, a clean one and a non-manifest YAML file.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir_all(root.join("apps")).expect("mkdir");
    for (from, to) in [
        ("testdata/demo/apps/hotfix.yaml", "apps/hotfix.yaml"),
        ("testdata/dist/clean.yaml", "apps/clean.yaml"),
        ("testdata/dist/values.yaml", "values.yaml"),
    ] {
        fs::copy(common::fixture(from), root.join(to)).expect("copy fixture");
    }
    dir
}

fn run_action(workspace: &Path, inputs: &[(&str, &str)]) -> Run {
    run_action_with(workspace, inputs, true, true, &[])
}

fn run_action_with(
    workspace: &Path,
    inputs: &[(&str, &str)],
    with_binary: bool,
    with_jq: bool,
    extra_env: &[(&str, &str)],
) -> Run {
    let action = action();
    let temp = tempfile::tempdir().expect("runner temp");
    let path = toolbox(&temp.path().join("toolbox"), with_binary, with_jq);
    let mut runner = Runner::new(&action, inputs, workspace, temp.path(), path);
    runner.extra_env = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut run = runner.execute(&action);
    // Keep the summary: it lives in the runner's temp folder.
    if let Ok(text) = fs::read_to_string(temp.path().join("step-summary.md")) {
        run.logs
            .insert("$GITHUB_STEP_SUMMARY".into(), (text, String::new()));
    }
    run
}

#[test]
fn action_on_a_breakglass_manifest_fails_and_uploads_sarif() {
    let ws = workspace();
    let run = run_action(
        ws.path(),
        &[
            ("paths", "apps/hotfix.yaml\n  apps/clean.yaml values.yaml\n"),
            ("sarif-file", "reports/binauthz.sarif"),
        ],
    );
    assert_eq!(
        run.outputs["install"].get("method").map(String::as_str),
        Some("path"),
        "the binary on PATH is used: {run:#?}"
    );
    assert_eq!(run.scan_output("exit-code"), Some("1"), "{run:#?}");
    assert_eq!(run.output("denied"), Some("0"), "{run:#?}");
    assert_eq!(run.output("breakglass"), Some("1"), "{run:#?}");
    assert_eq!(run.output("findings"), Some("1"), "{run:#?}");
    assert_eq!(run.output("sarif-file"), Some("reports/binauthz.sarif"));

    // SARIF: valid JSON, version 2.1.0, the break-glass finding at the label.
    let sarif: Value = serde_json::from_slice(
        &fs::read(ws.path().join("reports/binauthz.sarif")).expect("SARIF file written"),
    )
    .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{sarif:#}");
    assert_eq!(results[0]["ruleId"], "breakglass-used");
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "apps/hotfix.yaml");
    assert_eq!(location["region"]["startLine"], 14);

    // Annotations on standard output, the summary in $GITHUB_STEP_SUMMARY.
    let log = run.log("Scan manifests");
    assert!(
        log.lines()
            .any(|l| l.starts_with("::warning ") && l.contains("file=apps/hotfix.yaml")),
        "annotations: {log}"
    );
    let summary = run.log("$GITHUB_STEP_SUMMARY");
    assert!(!summary.trim().is_empty(), "step summary written");
    assert!(
        summary.contains("hotfix"),
        "summary names the workload: {summary}"
    );

    // Uploaded although the scan failed; then the job fails with the scan's exit code.
    assert_eq!(run.uploads.len(), 1, "{run:#?}");
    assert_eq!(run.uploads[0].1["sarif_file"], "reports/binauthz.sarif");
    assert_eq!(run.last_exit, Some(1));
    assert!(run.failed);
}

#[test]
fn action_on_clean_manifests_passes() {
    let ws = workspace();
    let run = run_action(ws.path(), &[("paths", "apps/clean.yaml values.yaml")]);
    assert_eq!(run.scan_output("exit-code"), Some("0"), "{run:#?}");
    assert_eq!(run.output("denied"), Some("0"));
    assert_eq!(run.output("breakglass"), Some("0"));
    assert_eq!(run.output("findings"), Some("0"));
    assert!(
        ws.path().join("binauthz-lint.sarif").is_file(),
        "default SARIF path"
    );
    assert_eq!(run.uploads.len(), 1);
    assert_eq!(run.last_exit, Some(0));
    assert!(!run.failed, "{run:#?}");
}

#[test]
fn action_render_input_renders_kustomize_roots() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        eprintln!(
            "\n*** SKIPPED: `kubectl` is not on PATH, so the Action's `render: kustomize` did not run ***\n"
        );
        return;
    }
    let ws = workspace();
    let overlay = ws.path().join("overlay");
    fs::create_dir_all(&overlay).expect("mkdir");
    fs::copy(
        ws.path().join("apps/clean.yaml"),
        overlay.join("clean.yaml"),
    )
    .expect("copy");
    fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n- clean.yaml\n",
    )
    .expect("kustomization");
    let raw = run_action(ws.path(), &[("paths", "overlay")]);
    let rendered = run_action(ws.path(), &[("paths", "overlay"), ("render", "kustomize")]);
    let sarif = |run: &Run| run.log("Scan manifests").to_string();
    assert!(sarif(&raw).contains("kustomize-not-rendered"), "{raw:#?}");
    assert!(
        !sarif(&rendered).contains("kustomize-not-rendered"),
        "{rendered:#?}"
    );
    assert_eq!(
        rendered.scan_output("exit-code"),
        Some("0"),
        "{rendered:#?}"
    );
}

#[test]
fn action_with_a_policy_reports_denied_workloads() {
    let ws = workspace();
    fs::copy(
        common::fixture("testdata/demo/apps/web.yaml"),
        ws.path().join("apps/web.yaml"),
    )
    .expect("copy");
    fs::copy(
        common::fixture("testdata/demo/policy.yaml"),
        ws.path().join("policy.yaml"),
    )
    .expect("copy");
    // The demo policy requires an attestation that nobody has: web is denied; hotfix
    // passes through break-glass. `fail-on: error` still fails on the denial.
    let run = run_action(
        ws.path(),
        &[
            ("paths", "apps/web.yaml apps/hotfix.yaml"),
            ("policy", "policy.yaml"),
            ("fail-on", "error"),
        ],
    );
    assert_eq!(run.scan_output("exit-code"), Some("1"), "{run:#?}");
    assert_eq!(run.output("denied"), Some("1"), "{run:#?}");
    assert_eq!(run.output("breakglass"), Some("1"), "{run:#?}");
    let log = run.log("Scan manifests");
    assert!(
        log.lines()
            .any(|l| l.starts_with("::error ") && l.contains("file=apps/web.yaml")),
        "{log}"
    );
    let sarif: Value =
        serde_json::from_slice(&fs::read(ws.path().join("binauthz-lint.sarif")).expect("SARIF"))
            .expect("JSON");
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert!(rules.contains(&"image-denied"), "{rules:?}");
    assert_eq!(
        run.output("findings"),
        Some(rules.len().to_string().as_str())
    );
    assert_eq!(run.uploads.len(), 1);
    assert_eq!(run.last_exit, Some(1));
}

/// The monorepo fixture through the Action's steps: discovery and the `config` input give
/// each workload its own cluster's verdict.
#[test]
fn action_with_a_config_file_evaluates_each_cluster() {
    let ws = tempfile::tempdir().expect("tempdir");
    copy_tree(&common::fixture("testdata/monorepo"), ws.path());
    for (inputs, name) in [
        (vec![], "discovered"),
        (vec![("config", ".binauthz-lint.yaml")], "config input"),
    ] {
        let run = run_action(ws.path(), &inputs);
        assert_eq!(run.scan_output("exit-code"), Some("1"), "{name}: {run:#?}");
        assert_eq!(run.output("denied"), Some("1"), "{name}: {run:#?}");
        let log = run.log("Scan manifests");
        assert!(
            log.lines()
                .any(|l| l.starts_with("::error ")
                    && l.contains("file=clusters/prod-us/payments.yaml")),
            "{name}: {log}"
        );
        assert!(
            log.lines().any(
                |l| l.starts_with("::warning ") && l.contains("file=clusters/prod-eu/web.yaml")
            ),
            "{name}: {log}"
        );
        assert!(
            !log.contains("file=clusters/staging/web.yaml"),
            "{name}: staging allows everything: {log}"
        );
    }
    // `config: none` ignores the file: the built-in default policy admits everything.
    let run = run_action(ws.path(), &[("config", "none")]);
    assert_eq!(run.scan_output("exit-code"), Some("0"), "{run:#?}");
    assert_eq!(run.output("denied"), Some("0"), "{run:#?}");
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// PR mode through the Action's steps: `since` = the base commit; only what the PR
/// introduces fails, the summary says "N new, M unchanged, K resolved", and a policy change
/// adds the `policy diff` impact table to the step summary.
#[test]
fn action_pr_mode_fails_on_new_findings_only_and_previews_a_policy_change() {
    let ws = tempfile::tempdir().expect("tempdir");
    let root = ws.path();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: prod}}\nspec: {{containers: [{{name: c, image: \"nginx:1.27\"}}]}}\n"
        )
    };
    let policy = |rule: &str| {
        format!(
            "globalPolicyEvaluationMode: DISABLE\ndefaultAdmissionRule: {{evaluationMode: {rule}, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}}\n"
        )
    };
    fs::create_dir_all(root.join("apps")).expect("mkdir");
    fs::write(root.join("apps/old.yaml"), pod("old")).expect("write");
    fs::write(root.join("policy.yaml"), policy("ALWAYS_DENY")).expect("write");
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);

    // The PR adds a workload: its denial is new, the old one is unchanged.
    fs::write(root.join("apps/new.yaml"), pod("new")).expect("write");
    let run = run_action(
        root,
        &[
            ("paths", "apps"),
            ("policy", "policy.yaml"),
            ("since", &base),
        ],
    );
    assert_eq!(run.scan_output("exit-code"), Some("1"), "{run:#?}");
    let log = run.log("Scan manifests");
    let errors: Vec<&str> = log.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "only the new denial is annotated: {log}");
    assert!(errors[0].contains("file=apps/new.yaml"), "{log}");
    let summary = run.log("$GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains("1 new, 1 unchanged, 0 resolved"),
        "{summary}"
    );
    assert!(
        !summary.contains("policy diff"),
        "no policy change, no impact table: {summary}"
    );

    // A PR that only loosens the policy: nothing new fails, and the summary previews it.
    fs::remove_file(root.join("apps/new.yaml")).expect("rm");
    fs::write(root.join("policy.yaml"), policy("ALWAYS_ALLOW")).expect("write");
    let run = run_action(
        root,
        &[
            ("paths", "apps"),
            ("policy", "policy.yaml"),
            ("since", &base),
        ],
    );
    assert_eq!(run.scan_output("exit-code"), Some("0"), "{run:#?}");
    let summary = run.log("$GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains("0 new, 0 unchanged, 1 resolved"),
        "{summary}"
    );
    assert!(
        summary.contains("## binauthz-lint policy diff"),
        "{summary}"
    );
    assert!(
        summary.contains("| newly-admitted | Pod prod/old |"),
        "{summary}"
    );
}

/// A shallow checkout (actions/checkout's default `fetch-depth: 1`): the Action fetches the
/// PR's base commit itself, and PR mode compares with it.
#[test]
fn action_pr_mode_fetches_the_base_commit_of_a_shallow_checkout() {
    let origin = tempfile::tempdir().expect("tempdir");
    let root = origin.path();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {{containers: [{{name: c, image: \"nginx:1.27\"}}]}}\n"
        )
    };
    fs::create_dir_all(root.join("apps")).expect("mkdir");
    fs::write(
        root.join("policy.yaml"),
        "defaultAdmissionRule: {evaluationMode: ALWAYS_DENY, enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG}\nglobalPolicyEvaluationMode: DISABLE\n",
    )
    .expect("write");
    fs::write(root.join("apps/old.yaml"), pod("old")).expect("write");
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "base"]);
    let base = git(root, &["rev-parse", "HEAD"]);
    fs::write(root.join("apps/new.yaml"), pod("new")).expect("write");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "pr"]);

    let clone_parent = tempfile::tempdir().expect("tempdir");
    let clone = clone_parent.path().join("ws");
    let url = format!("file://{}", root.display());
    git(
        clone_parent.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            &url,
            clone.to_str().expect("utf-8"),
        ],
    );
    assert!(
        Command::new("git")
            .current_dir(&clone)
            .args(["cat-file", "-e", &format!("{base}^{{commit}}")])
            // The expected "fatal: Not a valid object name" is not for the test log.
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| !s.success()),
        "the shallow clone must lack the base commit"
    );
    let run = run_action(
        &clone,
        &[
            ("paths", "apps"),
            ("policy", "policy.yaml"),
            ("since", &base),
        ],
    );
    assert_eq!(run.scan_output("exit-code"), Some("1"), "{run:#?}");
    let summary = run.log("$GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains("1 new, 1 unchanged, 0 resolved"),
        "{summary}"
    );
}

#[test]
fn action_fail_on_error_and_no_upload() {
    let ws = workspace();
    // Default paths (`.`), python3 instead of jq for the outputs.
    let run = run_action_with(
        ws.path(),
        &[("fail-on", "error"), ("upload-sarif", "false")],
        true,
        false,
        &[],
    );
    assert_eq!(run.scan_output("exit-code"), Some("0"), "{run:#?}");
    assert_eq!(run.output("breakglass"), Some("1"), "{run:#?}");
    assert_eq!(run.output("findings"), Some("1"), "{run:#?}");
    assert!(run.uploads.is_empty(), "upload-sarif: false");
    assert_eq!(run.last_exit, Some(0));
}

#[test]
fn action_exit_code_2_is_kept_and_nothing_is_uploaded() {
    let ws = workspace();
    let run = run_action(
        ws.path(),
        &[("paths", "apps"), ("policy", "missing-policy.yaml")],
    );
    assert_eq!(run.scan_output("exit-code"), Some("2"), "{run:#?}");
    assert_eq!(run.scan_output("sarif-written"), Some("false"));
    assert_eq!(run.output("denied"), None, "no report, no counts");
    assert!(
        run.log("Scan manifests")
            .contains("::error title=binauthz-lint::")
    );
    assert!(run.uploads.is_empty(), "no SARIF to upload: {run:#?}");
    assert_eq!(run.last_exit, Some(2));
    assert!(run.failed);
}

#[test]
fn action_inputs_are_data_not_code() {
    let ws = workspace();
    let run = run_action(
        ws.path(),
        &[
            (
                "paths",
                "$(touch pwned-paths) `touch pwned-tick` * ;touch pwned-semi",
            ),
            ("namespace", "$(touch pwned-ns)\"; touch pwned-quote; \""),
            // Shaped like LOCATION.NAME so that the binary accepts it and fails on the paths.
            ("cluster", "us-central1-a.x';touch${IFS}pwned-cluster;'"),
            ("sarif-file", "$(touch pwned-sarif).sarif"),
        ],
    );
    let created: Vec<String> = fs::read_dir(ws.path())
        .expect("read workspace")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pwned"))
        .collect();
    assert!(created.is_empty(), "inputs were executed: {created:?}");
    // The words reached the binary literally: `$(touch` is a path that does not exist.
    assert_eq!(run.scan_output("exit-code"), Some("2"), "{run:#?}");
    assert!(
        run.stderr("Scan manifests").contains("$(touch"),
        "{}",
        run.stderr("Scan manifests")
    );
    assert_eq!(run.last_exit, Some(2));
}

#[test]
fn action_rejects_a_malformed_version() {
    let ws = workspace();
    let run = run_action(ws.path(), &[("version", "1.0; rm -rf /")]);
    assert_eq!(run.status[0].1, Some(1), "{run:#?}");
    assert!(
        run.log("Install binauthz-lint")
            .contains("must look like 1.2.3")
    );
    // The scan is skipped after a failed install; the exit step reports it.
    assert_eq!(run.status[1].1, None, "{run:#?}");
    assert!(run.uploads.is_empty());
    assert_eq!(run.last_exit, Some(2));
}

/// A release folder laid out as `.github/workflows/release.yml` publishes it (served
/// through file://): `vVERSION/binauthz-lint-VERSION-TARGET.tar.gz` plus `SHA256SUMS`.
struct FakeRelease {
    dir: tempfile::TempDir,
    folder: PathBuf,
    asset: String,
}

impl FakeRelease {
    fn new() -> FakeRelease {
        let dir = tempfile::tempdir().expect("releases");
        let version = env!("CARGO_PKG_VERSION");
        let folder = dir.path().join(format!("v{version}"));
        fs::create_dir_all(&folder).expect("mkdir");
        let staging = dir.path().join("staging");
        fs::create_dir_all(&staging).expect("mkdir");
        fs::copy(BIN, staging.join("binauthz-lint")).expect("copy binary");
        fs::write(staging.join("README.md"), "readme\n").expect("readme");
        let asset = format!("binauthz-lint-{version}-x86_64-unknown-linux-musl.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(folder.join(&asset))
            .arg("-C")
            .arg(&staging)
            .args(["binauthz-lint", "README.md"])
            .status()
            .expect("tar");
        assert!(status.success());
        // Another platform's archive in the same SHA256SUMS: the step must pick its own line.
        let other = format!("binauthz-lint-{version}-aarch64-apple-darwin.tar.gz");
        fs::write(folder.join(&other), "not this one").expect("other");
        let sums = Command::new("sha256sum")
            .arg(&other)
            .arg(&asset)
            .current_dir(&folder)
            .output()
            .expect("sha256sum");
        assert!(sums.status.success());
        fs::write(folder.join("SHA256SUMS"), &sums.stdout).expect("write sums");
        FakeRelease { dir, folder, asset }
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    fn archive(&self) -> PathBuf {
        self.folder.join(&self.asset)
    }
}

fn curl_available() -> bool {
    if Command::new("curl").arg("--version").output().is_ok() {
        return true;
    }
    eprintln!("SKIPPED: curl is not installed; the release-archive install was NOT tested");
    false
}

#[test]
fn action_installs_a_verified_release_archive_in_seconds_and_caches_it() {
    if !curl_available() {
        return;
    }
    let release = FakeRelease::new();
    let url = release.url();
    let version = env!("CARGO_PKG_VERSION");
    let cache = tempfile::tempdir().expect("tool cache");
    let cache_dir = cache.path().display().to_string();
    let env = [
        ("BINAUTHZ_LINT_RELEASE_URL", url.as_str()),
        ("RUNNER_TOOL_CACHE", cache_dir.as_str()),
    ];

    let ws = workspace();
    let run = run_action_with(
        ws.path(),
        &[("paths", "apps/clean.yaml"), ("upload-sarif", "false")],
        false,
        true,
        &env,
    );
    assert_eq!(
        run.outputs["install"].get("method").map(String::as_str),
        Some("release"),
        "{run:#?}"
    );
    let log = run.log("Install binauthz-lint");
    assert!(log.contains("Verified binauthz-lint-"), "{log}");
    assert!(log.contains(&format!("binauthz-lint {version} ")), "{log}");
    let bin = &run.outputs["install"]["bin"];
    assert_eq!(
        Path::new(bin),
        cache.path().join(format!(
            "binauthz-lint/{version}/x86_64-unknown-linux-musl/bin/binauthz-lint"
        ))
    );
    let took = run.durations["Install binauthz-lint"];
    assert!(
        took < std::time::Duration::from_secs(10),
        "the install step took {took:?}"
    );
    eprintln!("install from the fake release took {took:?}");
    assert_eq!(run.scan_output("exit-code"), Some("0"), "{run:#?}");
    assert_eq!(run.last_exit, Some(0), "{run:#?}");

    // The next run on this runner finds it in the tool cache, without downloading.
    fs::remove_file(release.folder.join("SHA256SUMS")).expect("remove sums");
    let run = run_action_with(
        ws.path(),
        &[("paths", "apps/clean.yaml"), ("upload-sarif", "false")],
        false,
        true,
        &env,
    );
    assert_eq!(
        run.outputs["install"].get("method").map(String::as_str),
        Some("cache"),
        "{run:#?}"
    );
    assert_eq!(run.last_exit, Some(0), "{run:#?}");
}

#[test]
fn action_refuses_a_tampered_release_archive() {
    if !curl_available() {
        return;
    }
    let release = FakeRelease::new();
    let url = release.url();
    // One byte of the archive changed after SHA256SUMS was written (a compromised mirror or
    // a replaced release asset).
    let mut bytes = fs::read(release.archive()).expect("read archive");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(release.archive(), &bytes).expect("tamper");

    let ws = workspace();
    let run = run_action_with(
        ws.path(),
        &[("paths", "apps/clean.yaml")],
        false,
        true,
        &[("BINAUTHZ_LINT_RELEASE_URL", &url)],
    );
    assert_eq!(run.status[0].1, Some(1), "{run:#?}");
    let log = run.log("Install binauthz-lint");
    assert!(log.contains("checksum mismatch"), "{log}");
    assert!(log.contains("refusing to install"), "{log}");
    assert!(
        !run.outputs["install"].contains_key("bin"),
        "no binary reported: {run:#?}"
    );
    // Nothing ran: the scan is skipped, the job fails, nothing is uploaded.
    assert_eq!(run.status[1].1, None, "{run:#?}");
    assert!(run.uploads.is_empty());
    assert!(run.failed);

    // A SHA256SUMS without this platform's line is refused too (not silently unverified).
    let release = FakeRelease::new();
    let sums = fs::read_to_string(release.folder.join("SHA256SUMS")).expect("sums");
    let kept: String = sums
        .lines()
        .filter(|l| !l.ends_with(&release.asset))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(release.folder.join("SHA256SUMS"), kept).expect("write sums");
    let run = run_action_with(
        ws.path(),
        &[("paths", "apps/clean.yaml")],
        false,
        true,
        &[("BINAUTHZ_LINT_RELEASE_URL", &release.url())],
    );
    assert_eq!(run.status[0].1, Some(1), "{run:#?}");
    assert!(
        run.log("Install binauthz-lint")
            .contains("no (or more than one) SHA256SUMS entry"),
        "{run:#?}"
    );
}

#[test]
fn action_without_release_or_toolchain_says_what_to_do() {
    let ws = workspace();
    // No binary on PATH, no release (file:///nonexistent), no cargo in the toolbox.
    let run = run_action_with(ws.path(), &[], false, true, &[]);
    assert_eq!(run.status[0].1, Some(1), "{run:#?}");
    assert!(
        run.log("Install binauthz-lint")
            .contains("no Rust toolchain"),
        "{run:#?}"
    );
}

#[test]
fn action_category_defaults_to_the_cluster_and_can_be_set() {
    let ws = workspace();
    let run = run_action(ws.path(), &[("paths", "apps/clean.yaml")]);
    assert_eq!(run.uploads[0].1["category"], "binauthz-lint", "{run:#?}");
    let run = run_action(
        ws.path(),
        &[
            ("paths", "apps/clean.yaml"),
            ("cluster", "us-central1-a.prod"),
        ],
    );
    assert_eq!(
        run.uploads[0].1["category"], "binauthz-lint/us-central1-a.prod",
        "{run:#?}"
    );
    let run = run_action(
        ws.path(),
        &[
            ("paths", "apps/clean.yaml"),
            ("cluster", "us-central1-a.prod"),
            ("category", "k8s/prod\nexit-code=0"),
        ],
    );
    assert_eq!(
        run.uploads[0].1["category"], "k8s/prod-exit-code-0",
        "only safe characters reach GITHUB_OUTPUT: {run:#?}"
    );
    assert_eq!(run.scan_output("exit-code"), Some("0"));
}

/// 25 findings: 13 errors (denied images), 12 warnings (dry-run denials). GitHub shows at
/// most 10 annotations of each level per step.
#[test]
fn action_annotations_are_capped_errors_first() {
    let ws = tempfile::tempdir().expect("tempdir");
    let mut manifests = String::new();
    for i in 0..13 {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: denied-{i}, namespace: prod}}\nspec: {{containers: [{{name: c, image: \"gcr.io/p/a{i}:1\"}}]}}\n"
        ));
    }
    for i in 0..12 {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: dryrun-{i}, namespace: dev}}\nspec: {{containers: [{{name: c, image: \"gcr.io/p/b{i}:1\"}}]}}\n"
        ));
    }
    // Warnings first in the file: the order of the annotations is by level, not by file.
    let (first, second) = manifests.split_at(
        manifests
            .find("---\napiVersion: v1\nkind: Pod\nmetadata: {name: dryrun-0")
            .expect("split"),
    );
    fs::write(ws.path().join("a.yaml"), second).expect("write");
    fs::write(ws.path().join("b.yaml"), first).expect("write");
    fs::write(
        ws.path().join("policy.yaml"),
        "globalPolicyEvaluationMode: ENABLE\ndefaultAdmissionRule:\n  evaluationMode: ALWAYS_DENY\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\nkubernetesNamespaceAdmissionRules:\n  dev:\n    evaluationMode: ALWAYS_DENY\n    enforcementMode: DRYRUN_AUDIT_LOG_ONLY\n",
    )
    .expect("write");
    let run = run_action(
        ws.path(),
        &[("paths", "a.yaml b.yaml"), ("policy", "policy.yaml")],
    );
    assert_eq!(run.output("findings"), Some("25"), "{run:#?}");
    let annotations: Vec<&str> = run
        .log("Scan manifests")
        .lines()
        .filter(|l| l.starts_with("::"))
        .collect();
    let kinds: Vec<&str> = annotations
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    let mut expected = vec!["::error"; 10];
    expected.extend(vec!["::warning"; 10]);
    expected.push("::notice");
    assert_eq!(kinds, expected, "{annotations:#?}");
    assert!(annotations[0].contains("file=b.yaml"), "errors first");
    let last = annotations.last().expect("summary annotation");
    assert!(
        last.contains(
            "::5 more: see the step summary / code scanning (3 errors, 2 warnings not annotated"
        ),
        "{last}"
    );
    // Every finding is still in SARIF.
    let sarif: Value =
        serde_json::from_slice(&fs::read(ws.path().join("binauthz-lint.sarif")).expect("SARIF"))
            .expect("JSON");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(25)
    );
}

#[test]
fn action_annotates_an_invalid_policy_at_its_line() {
    let ws = workspace();
    fs::write(
        ws.path().join("policy.yaml"),
        "defaultAdmissionRule:\n  evaluationMode: ALWAYS_DENI\n  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG\n",
    )
    .expect("write");
    let run = run_action(ws.path(), &[("paths", "apps"), ("policy", "policy.yaml")]);
    assert_eq!(run.scan_output("exit-code"), Some("2"), "{run:#?}");
    let log = run.log("Scan manifests");
    let annotation = log
        .lines()
        .find(|l| l.starts_with("::error file=policy.yaml,line=2,"))
        .unwrap_or_else(|| panic!("an ::error at the policy's line: {log}"));
    assert!(annotation.contains("col=19"), "{annotation}");
    assert!(
        annotation.contains("ALWAYS_DENY"),
        "the suggestion: {annotation}"
    );
    let summary = run.log("$GITHUB_STEP_SUMMARY");
    assert!(
        summary.contains("The policy policy.yaml is invalid: nothing was scanned")
            && summary.contains("| policy.yaml:2:19 |"),
        "{summary}"
    );
    assert_eq!(run.last_exit, Some(2));
}
