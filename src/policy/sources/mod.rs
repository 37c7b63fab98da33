//! Policy sources (contract §13): where a project policy is managed — the gcloud export
//! (YAML/JSON), a Terraform plan JSON, Terraform configuration (a `.tf` file or a folder of
//! them), Config Connector objects — all read into the one policy model.
//!
//! Each source is mapped into the located tree that the gcloud loader validates
//! ([`crate::yaml::TreeBuilder`]), with every node's span in the source's own file, so every
//! v1 rule and lint applies unchanged and points at the `.tf` attribute, the plan value or
//! the KCC node. What a source cannot resolve without guessing is `policy-unresolved` at
//! that expression, before validation.

mod kcc;
mod terraform;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{LoadedPolicy, PolicyDiagnostic, PolicyError, Refuser, Severity};
use crate::attest::AttestorDefinitions;
use crate::yaml::{self, Limits, Span, Tree};

/// Which format a policy was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SourceKind {
    #[serde(rename = "gcloud")]
    Gcloud,
    #[serde(rename = "terraform-plan")]
    TerraformPlan,
    #[serde(rename = "terraform")]
    Terraform,
    #[serde(rename = "config-connector")]
    ConfigConnector,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Gcloud => "gcloud",
            SourceKind::TerraformPlan => "terraform-plan",
            SourceKind::Terraform => "terraform",
            SourceKind::ConfigConnector => "config-connector",
        }
    }

    /// Who refuses what gcloud's decoder refuses, for this source.
    fn refuses(self) -> &'static str {
        match self {
            SourceKind::Gcloud => Refuser::Gcloud.phrase(),
            SourceKind::TerraformPlan | SourceKind::Terraform => {
                "Terraform refuses this configuration"
            }
            SourceKind::ConfigConnector => "Config Connector refuses this resource",
        }
    }
}

/// JSON `policy.source` (contract §13): the kind, the file as given, and the address of
/// the policy resource in it (`null` for the gcloud format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub kind: SourceKind,
    pub file: String,
    pub address: Option<String>,
}

/// `SOURCE` or `SOURCE#ADDRESS` as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSpec {
    pub path: PathBuf,
    /// The path as displayed (relative to the current directory when under it).
    pub display: String,
    pub address: Option<String>,
    /// `(display, text)` of the run's attestor file when it holds Config Connector
    /// `BinaryAuthorizationAttestor`s (`--attestors` / config `attestors:`): a KCC policy's
    /// `requireAttestationsBy: [{name}]` is resolved through them too (contract §13 item 4).
    pub attestor_files: Vec<(String, String)>,
}

impl SourceSpec {
    /// Split `FILE#ADDRESS`; a path that exists as written keeps its `#`.
    pub fn parse(given: &Path, display: &str, exists: impl Fn(&Path) -> bool) -> SourceSpec {
        let text = given.to_string_lossy();
        if !exists(given)
            && let Some((path, address)) = text.rsplit_once('#')
            && !path.is_empty()
        {
            let display = display
                .rsplit_once('#')
                .map_or(display, |(d, _)| d)
                .to_string();
            return SourceSpec {
                path: PathBuf::from(path),
                display,
                address: (!address.is_empty()).then(|| address.to_string()),
                attestor_files: Vec::new(),
            };
        }
        SourceSpec {
            path: given.to_path_buf(),
            display: display.to_string(),
            address: None,
            attestor_files: Vec::new(),
        }
    }

    /// `FILE` or `FILE#ADDRESS`: `workloads[].policy`.
    pub fn label(&self) -> String {
        match &self.address {
            Some(a) => format!("{}#{a}", self.display),
            None => self.display.clone(),
        }
    }
}

/// Where the files of a source are read: the work tree, or a git tree in PR mode.
pub trait SourceFiles {
    /// A file's text; `Ok(None)` when there is no such file.
    fn read(&self, path: &Path) -> Result<Option<String>, String>;
    /// The `.tf` files directly in a folder, sorted; `Ok(None)` when it is not a folder.
    fn tf_files(&self, dir: &Path) -> Result<Option<Vec<PathBuf>>, String>;
}

/// The work tree.
pub struct WorkTree;

impl SourceFiles for WorkTree {
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        if !path.is_file() {
            return Ok(None);
        }
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if meta.len() > super::MAX_POLICY_BYTES {
            return Err(format!(
                "{} bytes; a policy source file is at most {} bytes",
                meta.len(),
                super::MAX_POLICY_BYTES
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "not UTF-8 text".to_string())
    }

    fn tf_files(&self, dir: &Path) -> Result<Option<Vec<PathBuf>>, String> {
        if !dir.is_dir() {
            return Ok(None);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
            .collect();
        files.sort();
        Ok(Some(files))
    }
}

/// A loaded source: the policy and the attestors the source defines.
pub(crate) struct Mapped {
    /// The gcloud-shaped tree to validate, with spans into `file`.
    pub tree: Tree<'static>,
    /// The file the tree's spans point into, and its text.
    pub file: String,
    pub text: String,
    pub address: Option<String>,
    pub attestors: AttestorDefinitions,
}

/// A source that could not be mapped: diagnostics (with the texts of their files).
pub(crate) struct Failed {
    pub diagnostics: Vec<PolicyDiagnostic>,
    pub texts: Vec<(String, String)>,
}

impl Failed {
    fn one(file: &str, text: &str, span: Span, rule: &'static str, message: String) -> Failed {
        Failed {
            diagnostics: vec![PolicyDiagnostic::new(
                Severity::Error,
                rule,
                file,
                span,
                message,
            )],
            texts: vec![(file.to_string(), text.to_string())],
        }
    }

    fn into_error(self, display: &str) -> PolicyError {
        let source_text = self
            .texts
            .iter()
            .find(|(f, _)| f == display)
            .or(self.texts.first())
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        PolicyError {
            diagnostics: self.diagnostics,
            source_text,
            other_texts: self.texts,
        }
    }
}

/// The hint of every `policy-unresolved` diagnostic in a Terraform configuration.
pub const PLAN_HINT: &str = "binauthz-lint evaluates only literals, `var.X` with a literal default and attestor references of the same module; pass a plan JSON instead: `terraform plan -out plan.tfplan && terraform show -json plan.tfplan > plan.json`, then use `plan.json` as the policy";

/// Load any source. The gcloud format goes through the v1 loader unchanged.
pub fn load(spec: &SourceSpec, files: &dyn SourceFiles) -> Result<LoadedPolicy, PolicyError> {
    let fail = |message: String| PolicyError {
        diagnostics: vec![PolicyDiagnostic::new(
            Severity::Error,
            "policy-invalid",
            &spec.display,
            Span::default(),
            message,
        )],
        source_text: String::new(),
        other_texts: Vec::new(),
    };
    let display = &spec.display;
    if let Some(tf) = files
        .tf_files(&spec.path)
        .map_err(|e| fail(format!("cannot read {display}: {e}")))?
    {
        if tf.is_empty() {
            return Err(fail(format!(
                "{display} is a folder without `.tf` files; a policy source is a file, or a folder of Terraform configuration"
            )));
        }
        let mut texts = Vec::new();
        for path in tf {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let file_display = join_display(display, &name);
            let text = files
                .read(&path)
                .map_err(|e| fail(format!("cannot read {file_display}: {e}")))?
                .unwrap_or_default();
            texts.push((file_display, text));
        }
        return finish(
            terraform::from_config(texts, spec),
            spec,
            SourceKind::Terraform,
        );
    }
    let text = match files.read(&spec.path) {
        Ok(Some(text)) => text,
        Ok(None) => return Err(fail(format!("{display} not found: no such file"))),
        Err(e) => return Err(fail(format!("cannot read {display}: {e}"))),
    };
    load_text(&text, spec)
}

/// The attestors a Terraform configuration, plan or Config Connector file defines (for
/// `--attestors` and config `attestors:`); `Ok(None)` for gcloud attestor files and folders
/// without `.tf` files, which the attestation module reads itself.
pub fn attestor_definitions(
    path: &Path,
    display: &str,
    files: &dyn SourceFiles,
) -> Result<Option<AttestorDefinitions>, String> {
    if let Some(tf) = files.tf_files(path)? {
        if tf.is_empty() {
            return Ok(None);
        }
        let mut texts = Vec::new();
        for file in tf {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = files.read(&file)?.unwrap_or_default();
            texts.push((join_display(display, &name), text));
        }
        return terraform::config_attestors(texts).map(Some);
    }
    let Some(text) = files.read(path)? else {
        return Ok(None);
    };
    match detect(&text, display) {
        SourceKind::Terraform => {
            terraform::config_attestors(vec![(display.to_string(), text)]).map(Some)
        }
        SourceKind::TerraformPlan => terraform::plan_attestors(&text, display).map(Some),
        SourceKind::ConfigConnector => kcc::text_attestors(&text, display).map(Some),
        SourceKind::Gcloud => Ok(None),
    }
}

/// Load a single-file source from its text (a `.tf` file is recognised by its name).
pub fn load_text(text: &str, spec: &SourceSpec) -> Result<LoadedPolicy, PolicyError> {
    let kind = detect(text, &spec.display);
    match kind {
        SourceKind::Terraform => finish(
            terraform::from_config(vec![(spec.display.clone(), text.to_string())], spec),
            spec,
            kind,
        ),
        SourceKind::TerraformPlan => finish(terraform::from_plan(text, spec), spec, kind),
        SourceKind::ConfigConnector => finish(kcc::from_text(text, spec), spec, kind),
        SourceKind::Gcloud => {
            if let Some(address) = &spec.address {
                return Err(PolicyError {
                    diagnostics: vec![PolicyDiagnostic::new(
                        Severity::Error,
                        "policy-invalid",
                        &spec.display,
                        Span::default(),
                        format!(
                            "`#{address}` selects a resource, but {} is a gcloud policy export, which holds one policy",
                            spec.display
                        ),
                    )],
                    source_text: text.to_string(),
                    other_texts: Vec::new(),
                });
            }
            let mut loaded = super::load::load_policy(text, &spec.display)?;
            loaded.policy.origin = SourceInfo {
                kind,
                file: spec.display.clone(),
                address: None,
            };
            Ok(loaded)
        }
    }
}

/// Detect the format by content (a `.tf` name, or HCL that is not YAML; a plan's top-level
/// keys; Config Connector kinds); everything else is the gcloud format.
pub fn detect(text: &str, display: &str) -> SourceKind {
    let name = display.rsplit_once('#').map_or(display, |(p, _)| p);
    if name.ends_with(".tf") {
        return SourceKind::Terraform;
    }
    // HCL top-level blocks never start a line of a YAML or JSON policy.
    let hcl = text.lines().any(|line| {
        [
            "resource",
            "variable",
            "data",
            "module",
            "locals",
            "terraform",
            "provider",
        ]
        .iter()
        .any(|block| {
            line.strip_prefix(block)
                .is_some_and(|rest| rest.trim_start().starts_with(['"', '{']))
        })
    });
    if hcl {
        return SourceKind::Terraform;
    }
    let tree = yaml::parse(text, &Limits::default());
    if tree.error.is_some() {
        return SourceKind::Gcloud;
    }
    if crate::inputs::terraform::is_plan_json(&tree) {
        return SourceKind::TerraformPlan;
    }
    if kcc::has_binauthz_objects(&tree) {
        return SourceKind::ConfigConnector;
    }
    SourceKind::Gcloud
}

/// Validate a mapped source with the gcloud loader, rewording what it says in the
/// source's own terms.
fn finish(
    mapped: Result<Mapped, Failed>,
    spec: &SourceSpec,
    kind: SourceKind,
) -> Result<LoadedPolicy, PolicyError> {
    let mapped = mapped.map_err(|f| f.into_error(&spec.display))?;
    let result = super::load::load_policy_tree(&mapped.tree, &mapped.text, &mapped.file);
    let reword = |diags: &mut Vec<PolicyDiagnostic>| {
        for d in diags.iter_mut() {
            reword(d, kind);
        }
    };
    match result {
        Ok(mut loaded) => {
            reword(&mut loaded.diagnostics);
            loaded.policy.origin = SourceInfo {
                kind,
                file: spec.display.clone(),
                address: mapped.address,
            };
            loaded.policy.source = spec.label();
            loaded.attestors = mapped.attestors;
            Ok(loaded)
        }
        Err(mut err) => {
            reword(&mut err.diagnostics);
            Err(err)
        }
    }
}

/// gcloud field names → Terraform argument names, for messages about a Terraform source.
const TERRAFORM_NAMES: &[(&str, &str)] = &[
    ("admissionWhitelistPatterns", "admission_whitelist_patterns"),
    ("namePattern", "name_pattern"),
    ("defaultAdmissionRule", "default_admission_rule"),
    ("clusterAdmissionRules", "cluster_admission_rules"),
    ("evaluationMode", "evaluation_mode"),
    ("enforcementMode", "enforcement_mode"),
    ("requireAttestationsBy", "require_attestations_by"),
    (
        "globalPolicyEvaluationMode",
        "global_policy_evaluation_mode",
    ),
];

/// The loader speaks gcloud: for other sources, name the refuser correctly and (Terraform)
/// the arguments as the user wrote them.
pub(crate) fn reword(d: &mut PolicyDiagnostic, kind: SourceKind) {
    if kind == SourceKind::Gcloud {
        return;
    }
    let gcloud = format!("({})", Refuser::Gcloud.phrase());
    let fix = |text: &mut String| {
        if text.contains(&gcloud) {
            *text = text.replace(&gcloud, &format!("({})", kind.refuses()));
        }
        if matches!(kind, SourceKind::Terraform | SourceKind::TerraformPlan) {
            for (from, to) in TERRAFORM_NAMES {
                let from = format!("`{from}`");
                if text.contains(&from) {
                    *text = text.replace(&from, &format!("`{to}`"));
                }
            }
        }
    };
    fix(&mut d.message);
    fix(&mut d.label);
    if let Some(help) = &mut d.help {
        fix(help);
    }
}

/// Several policies and no `#ADDRESS`: exit 2 listing them; an address that names none:
/// exit 2 listing what there is.
fn select<'c, T>(
    candidates: &'c [T],
    address_of: impl Fn(&T) -> &str,
    spec: &SourceSpec,
    what: &str,
    text: &str,
) -> Result<&'c T, Failed> {
    let list = || {
        candidates
            .iter()
            .map(|c| format!("{}#{}", spec.display, address_of(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &spec.address {
        Some(address) => candidates
            .iter()
            .find(|c| address_of(c) == address)
            .ok_or_else(|| {
                let message = if candidates.is_empty() {
                    format!("`{address}` is not in {}: it has no {what}", spec.display)
                } else {
                    format!(
                        "`{address}` is not in {}; its {what}s: {}",
                        spec.display,
                        list()
                    )
                };
                Failed::one(
                    &spec.display,
                    text,
                    Span::default(),
                    "policy-invalid",
                    message,
                )
            }),
        None => match candidates {
            [one] => Ok(one),
            [] => Err(Failed::one(
                &spec.display,
                text,
                Span::default(),
                "policy-invalid",
                format!("{} has no {what}", spec.display),
            )),
            _ => Err(Failed::one(
                &spec.display,
                text,
                Span::default(),
                "policy-invalid",
                format!(
                    "{} holds {} {what}s; pick one with SOURCE#ADDRESS: {}",
                    spec.display,
                    candidates.len(),
                    list()
                ),
            )),
        },
    }
}

/// A file of a folder source as displayed: `infra/main.tf`, or `main.tf` for `.`.
fn join_display(dir: &str, name: &str) -> String {
    match dir.trim_end_matches('/') {
        "" | "." => name.to_string(),
        dir => format!("{dir}/{name}"),
    }
}

/// `policy-unresolved` at a value.
fn unresolved(file: &str, span: Span, message: String, hint: &str) -> PolicyDiagnostic {
    PolicyDiagnostic::new(Severity::Error, "policy-unresolved", file, span, message)
        .label("not a literal")
        .help(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_with_address() {
        let s = SourceSpec::parse(
            Path::new("plan.json#module.x.t.n"),
            "plan.json#module.x.t.n",
            |_| false,
        );
        assert_eq!(s.path, PathBuf::from("plan.json"));
        assert_eq!(s.display, "plan.json");
        assert_eq!(s.address.as_deref(), Some("module.x.t.n"));
        assert_eq!(s.label(), "plan.json#module.x.t.n");
        let kept = SourceSpec::parse(Path::new("a#b.yaml"), "a#b.yaml", |_| true);
        assert_eq!(kept.address, None);
    }

    #[test]
    fn detection() {
        assert_eq!(detect("x", "main.tf"), SourceKind::Terraform);
        assert_eq!(
            detect(
                "{\"format_version\": \"1.2\", \"planned_values\": {}}",
                "p.json"
            ),
            SourceKind::TerraformPlan
        );
        assert_eq!(
            detect(
                "apiVersion: binaryauthorization.cnrm.cloud.google.com/v1beta1\nkind: BinaryAuthorizationPolicy\n",
                "k.yaml"
            ),
            SourceKind::ConfigConnector
        );
        assert_eq!(
            detect("defaultAdmissionRule: {}\n", "p.yaml"),
            SourceKind::Gcloud
        );
        assert_eq!(
            detect(
                "resource \"google_binary_authorization_policy\" \"p\" {\n}\n",
                "policy"
            ),
            SourceKind::Terraform
        );
    }
}
