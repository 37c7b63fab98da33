//! `google_binary_authorization_policy` / `_attestor` (Terraform configuration or plan) →
//! the gcloud-shaped tree the loader validates (contract §13 "Mapping from Terraform"):
//! `admission_whitelist_patterns.name_pattern` → `admissionWhitelistPatterns[].namePattern`,
//! `default_admission_rule` / `cluster_admission_rules` (`cluster` is the key) → the same
//! rules, `global_policy_evaluation_mode`, `description`, `project` →
//! `name: projects/<project>/policy`. Attestor names are normalised to
//! `projects/P/attestors/NAME` (the provider accepts a short name in the policy's project).

use crate::attest::{AttestorDefinitions, AttestorDraft, DraftKey};
use crate::inputs::terraform::{
    self, Loc, Module, Node, Plan, Reference, Resource, SourceFile, UNKNOWN_UNTIL_APPLY, Value,
};
use crate::yaml::{NodeId, Span, Style, TreeBuilder};

use super::{Failed, Mapped, PLAN_HINT, SourceSpec, select, unresolved};
use crate::policy::{PolicyDiagnostic, Severity};

const POLICY: &str = "google_binary_authorization_policy";
const ATTESTOR: &str = "google_binary_authorization_attestor";

/// Where the resources come from, and how their non-literal values may still be resolved.
enum Origin<'a> {
    Config(&'a Module),
    Plan(&'a Plan),
}

impl Origin<'_> {
    fn files(&self) -> &[SourceFile] {
        match self {
            Origin::Config(m) => &m.files,
            Origin::Plan(p) => &p.files,
        }
    }

    fn resources(&self) -> Vec<&Resource> {
        match self {
            Origin::Config(m) => m.of_type(POLICY).collect(),
            Origin::Plan(p) => p.of_type(POLICY).collect(),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Origin::Config(_) => PLAN_HINT,
            Origin::Plan(_) => {
                "the value is only known after `terraform apply`; lint the exported policy after apply, or make the value known at plan time (a literal, or a resource that already exists)"
            }
        }
    }

    fn is_config(&self) -> bool {
        matches!(self, Origin::Config(_))
    }
}

pub(super) fn from_config(
    texts: Vec<(String, String)>,
    spec: &SourceSpec,
) -> Result<Mapped, Failed> {
    let files = texts
        .into_iter()
        .map(|(display, text)| SourceFile { display, text })
        .collect();
    let module = terraform::parse_module(files);
    if !module.errors.is_empty() {
        let diagnostics = module
            .errors
            .iter()
            .map(|e| {
                let file = module
                    .files
                    .get(e.loc.file)
                    .map_or("", |f| f.display.as_str());
                PolicyDiagnostic::new(
                    Severity::Error,
                    "policy-invalid",
                    file,
                    e.loc.span,
                    format!("{} (Terraform refuses this configuration)", e.message),
                )
                .label("parsing stopped here")
            })
            .collect();
        return Err(Failed {
            diagnostics,
            texts: texts_of(&module.files),
        });
    }
    map(&Origin::Config(&module), spec)
}

pub(super) fn from_plan(text: &str, spec: &SourceSpec) -> Result<Mapped, Failed> {
    let plan = terraform::parse_plan(SourceFile {
        display: spec.display.clone(),
        text: text.to_string(),
    })
    .map_err(|e| Failed::one(&spec.display, text, e.loc.span, "policy-invalid", e.message))?;
    map(&Origin::Plan(&plan), spec)
}

/// The attestors of a configuration (for `--attestors`); `Err` at a syntax error.
pub(super) fn config_attestors(
    texts: Vec<(String, String)>,
) -> Result<AttestorDefinitions, String> {
    let files = texts
        .into_iter()
        .map(|(display, text)| SourceFile { display, text })
        .collect();
    let module = terraform::parse_module(files);
    if let Some(e) = module.errors.first() {
        let file = module
            .files
            .get(e.loc.file)
            .map_or("", |f| f.display.as_str());
        return Err(format!(
            "{file}:{}:{}: {}",
            e.loc.span.start.line, e.loc.span.start.column, e.message
        ));
    }
    Ok(attestors(&Origin::Config(&module)))
}

/// The attestors of a plan (for `--attestors`).
pub(super) fn plan_attestors(text: &str, display: &str) -> Result<AttestorDefinitions, String> {
    let plan = terraform::parse_plan(SourceFile {
        display: display.to_string(),
        text: text.to_string(),
    })
    .map_err(|e| {
        format!(
            "{display}:{}:{}: {}",
            e.loc.span.start.line, e.loc.span.start.column, e.message
        )
    })?;
    Ok(attestors(&Origin::Plan(&plan)))
}

fn texts_of(files: &[SourceFile]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| (f.display.clone(), f.text.clone()))
        .collect()
}

fn map(origin: &Origin<'_>, spec: &SourceSpec) -> Result<Mapped, Failed> {
    let files = origin.files();
    let candidates = origin.resources();
    let joined: String = files.first().map(|f| f.text.clone()).unwrap_or_default();
    let resource = *select(
        &candidates,
        |r| r.address.as_str(),
        spec,
        &format!("`{POLICY}` resource"),
        &joined,
    )?;
    let file = files.get(resource.loc.file).cloned().unwrap_or(SourceFile {
        display: spec.display.clone(),
        text: String::new(),
    });
    let mut mapper = Mapper {
        origin,
        policy: resource,
        file: &file.display,
        b: TreeBuilder::default(),
        diags: Vec::new(),
        project: None,
    };
    let root = mapper.policy();
    if mapper.diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(Failed {
            diagnostics: mapper.diags,
            texts: texts_of(files),
        });
    }
    let attestors = attestors(origin);
    Ok(Mapped {
        tree: mapper.b.finish(root),
        file: file.display.clone(),
        text: file.text.clone(),
        address: Some(resource.address.clone()),
        attestors,
    })
}

struct Mapper<'a> {
    origin: &'a Origin<'a>,
    policy: &'a Resource,
    file: &'a str,
    b: TreeBuilder,
    diags: Vec<PolicyDiagnostic>,
    project: Option<String>,
}

impl Mapper<'_> {
    fn unresolved(&mut self, what: &str, node: &Node) {
        let why = node.unresolved().unwrap_or_default();
        let message = if why == UNKNOWN_UNTIL_APPLY {
            format!("`{what}` is unknown until apply, and it decides verdicts")
        } else {
            format!("`{what}` is {why}; it decides verdicts, and binauthz-lint does not guess it")
        };
        let hint = self.origin.hint();
        self.diags
            .push(unresolved(self.file, node.loc.span, message, hint));
    }

    fn invalid(&mut self, span: Span, message: String) {
        self.diags.push(PolicyDiagnostic::new(
            Severity::Error,
            "policy-invalid",
            self.file,
            span,
            format!("{message} (Terraform refuses this configuration)"),
        ));
    }

    /// A scalar as the loader expects it: strings double-quoted (always strings), the rest
    /// plain (a number where a string belongs is then a type error, as in gcloud).
    fn scalar(&mut self, node: &Node) -> NodeId {
        match &node.value {
            Value::String(s) => self.b.scalar(s.clone(), Style::DoubleQuoted, node.loc.span),
            Value::Number(n) => self.b.scalar(n.clone(), Style::Plain, node.loc.span),
            Value::Bool(b) => self.b.scalar(b.to_string(), Style::Plain, node.loc.span),
            _ => self.b.scalar("null", Style::Plain, node.loc.span),
        }
    }

    fn key(&mut self, name: &str, loc: Loc) -> NodeId {
        self.b.scalar(name, Style::Plain, loc.span)
    }

    /// The blocks of a nested-block argument (a list of objects); `None` after reporting.
    fn blocks<'n>(&mut self, what: &str, node: &'n Node) -> Option<&'n [Node]> {
        match &node.value {
            Value::List(items) => {
                if let Some(bad) = items.iter().find(|i| i.unresolved().is_some()) {
                    self.unresolved(what, bad);
                    return None;
                }
                Some(items)
            }
            Value::Null => Some(&[]),
            Value::Unresolved(_) | Value::Reference(_) => {
                self.unresolved(what, node);
                None
            }
            _ => {
                self.invalid(
                    node.loc.span,
                    format!("`{what}` must be blocks, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn policy(&mut self) -> NodeId {
        let policy = self.policy;
        if let Some((meta, loc)) = &policy.repetition {
            let node = Node {
                value: Value::Unresolved(format!(
                    "repeated with `{meta}`, so its instances are not literal"
                )),
                loc: *loc,
            };
            self.unresolved(&policy.address, &node);
        }
        let mut entries = Vec::new();
        // The project first: short attestor names need it.
        if let Some(attr) = policy.body.get_attr("project") {
            match &attr.value.value {
                Value::String(p) => {
                    self.project = Some(p.clone());
                    let k = self.key("name", attr.key_loc);
                    let v = self.b.scalar(
                        format!("projects/{p}/policy"),
                        Style::DoubleQuoted,
                        attr.value.loc.span,
                    );
                    entries.push((k, v));
                }
                Value::Null => {}
                _ if attr.value.unresolved().is_some() => self.unresolved("project", &attr.value),
                _ => {
                    let v = self.scalar(&attr.value);
                    let k = self.key("name", attr.key_loc);
                    entries.push((k, v));
                }
            }
        }
        let Value::Object(attrs) = &policy.body.value else {
            return self.b.map(entries, policy.loc.span);
        };
        for attr in attrs {
            let value = &attr.value;
            match attr.key.as_str() {
                "project" | "id" | "timeouts" | "count" | "for_each" | "depends_on"
                | "lifecycle" | "provider" => {}
                "description" => {
                    if let Value::String(_) = value.value {
                        let k = self.key("description", attr.key_loc);
                        let v = self.scalar(value);
                        entries.push((k, v));
                    }
                }
                "global_policy_evaluation_mode" => {
                    if value.unresolved().is_some() {
                        // In a plan, a mode the configuration does not set is computed by
                        // the API: the same as an unset mode in a `.tf` file.
                        if self.configured("global_policy_evaluation_mode") {
                            self.unresolved("global_policy_evaluation_mode", value);
                        }
                    } else if !matches!(value.value, Value::Null) {
                        let k = self.key("globalPolicyEvaluationMode", attr.key_loc);
                        let v = self.scalar(value);
                        entries.push((k, v));
                    }
                }
                "admission_whitelist_patterns" => {
                    let Some(blocks) = self.blocks("admission_whitelist_patterns", value) else {
                        continue;
                    };
                    let mut items = Vec::new();
                    for block in blocks {
                        let mut fields = Vec::new();
                        if let Some(pattern) = block.get_attr("name_pattern") {
                            if pattern.value.unresolved().is_some() {
                                self.unresolved("name_pattern", &pattern.value);
                                continue;
                            }
                            let k = self.key("namePattern", pattern.key_loc);
                            let v = self.scalar(&pattern.value);
                            fields.push((k, v));
                        }
                        items.push(self.b.map(fields, block.loc.span));
                    }
                    if !items.is_empty() {
                        let k = self.key("admissionWhitelistPatterns", attr.key_loc);
                        let v = self.b.seq(items, value.loc.span);
                        entries.push((k, v));
                    }
                }
                "default_admission_rule" => {
                    let Some(blocks) = self.blocks("default_admission_rule", value) else {
                        continue;
                    };
                    if let Some(block) = blocks.first() {
                        let (rule, _) = self.rule(block, ("default_admission_rule", 0));
                        let k = self.key("defaultAdmissionRule", attr.key_loc);
                        entries.push((k, rule));
                    }
                }
                "cluster_admission_rules" => {
                    let Some(blocks) = self.blocks("cluster_admission_rules", value) else {
                        continue;
                    };
                    let mut rules = Vec::new();
                    for (i, block) in blocks.iter().enumerate() {
                        let (rule, cluster) = self.rule(block, ("cluster_admission_rules", i));
                        if let Some(cluster) = cluster {
                            rules.push((cluster, rule));
                        }
                    }
                    if !rules.is_empty() {
                        let k = self.key("clusterAdmissionRules", attr.key_loc);
                        let v = self.b.map(rules, value.loc.span);
                        entries.push((k, v));
                    }
                }
                other => {
                    if self.origin.is_config() {
                        self.invalid(
                            attr.key_loc.span,
                            format!("`{POLICY}` has no argument `{other}`"),
                        );
                    }
                }
            }
        }
        self.b.map(entries, policy.loc.span)
    }

    /// Whether a plan's configuration sets the argument (always true for a configuration).
    fn configured(&self, key: &str) -> bool {
        match self.origin {
            Origin::Config(_) => true,
            Origin::Plan(plan) => plan
                .expressions(self.policy)
                .is_some_and(|e| e.get(key).is_some()),
        }
    }

    /// One rule block → (rule mapping, its `cluster` key node for cluster rules).
    fn rule(&mut self, block: &Node, path: (&str, usize)) -> (NodeId, Option<NodeId>) {
        let mut fields = Vec::new();
        let mut cluster = None;
        let Value::Object(attrs) = &block.value else {
            return (self.b.map(fields, block.loc.span), None);
        };
        for attr in attrs {
            let value = &attr.value;
            match attr.key.as_str() {
                "cluster" if path.0 == "cluster_admission_rules" => {
                    if value.unresolved().is_some() {
                        self.unresolved("cluster", value);
                    } else {
                        cluster = Some(self.scalar(value));
                    }
                }
                key @ ("evaluation_mode" | "enforcement_mode") => {
                    if value.unresolved().is_some() {
                        self.unresolved(key, value);
                        continue;
                    }
                    if matches!(value.value, Value::Null) {
                        continue;
                    }
                    let name = if key == "evaluation_mode" {
                        "evaluationMode"
                    } else {
                        "enforcementMode"
                    };
                    let k = self.key(name, attr.key_loc);
                    let v = self.scalar(value);
                    fields.push((k, v));
                }
                "require_attestations_by" => {
                    if let Some(list) = self.attestor_list(value, path)
                        && !list.is_empty()
                    {
                        let k = self.key("requireAttestationsBy", attr.key_loc);
                        let v = self.b.seq(list, value.loc.span);
                        fields.push((k, v));
                    }
                }
                other => {
                    if self.origin.is_config() {
                        self.invalid(
                            attr.key_loc.span,
                            format!("`{}` has no argument `{other}`", path.0),
                        );
                    }
                }
            }
        }
        if path.0 == "cluster_admission_rules"
            && cluster.is_none()
            && !attrs.iter().any(|a| a.key == "cluster")
        {
            self.invalid(
                block.loc.span,
                "a `cluster_admission_rules` block needs `cluster`".to_string(),
            );
        }
        (self.b.map(fields, block.loc.span), cluster)
    }

    fn attestor_list(&mut self, value: &Node, path: (&str, usize)) -> Option<Vec<NodeId>> {
        let items = match &value.value {
            Value::Null => return Some(Vec::new()),
            Value::List(items) => items,
            Value::Unresolved(why) if why == UNKNOWN_UNTIL_APPLY => {
                return match self.planned_attestors(path) {
                    Some(names) => Some(
                        names
                            .into_iter()
                            .map(|n| self.b.scalar(n, Style::DoubleQuoted, value.loc.span))
                            .collect(),
                    ),
                    None => {
                        self.unresolved("require_attestations_by", value);
                        None
                    }
                };
            }
            _ if value.unresolved().is_some() => {
                self.unresolved("require_attestations_by", value);
                return None;
            }
            _ => return Some(vec![self.scalar(value)]),
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::String(name) => {
                    let full = if name.contains('/') {
                        name.clone()
                    } else {
                        match &self.project {
                            Some(p) => format!("projects/{p}/attestors/{name}"),
                            None => {
                                let node = Node {
                                    value: Value::Unresolved(format!(
                                        "the short attestor name `{name}`, whose project is the policy's `project`, which is not a literal"
                                    )),
                                    loc: item.loc,
                                };
                                self.unresolved("require_attestations_by", &node);
                                continue;
                            }
                        }
                    };
                    out.push(self.b.scalar(full, Style::DoubleQuoted, item.loc.span));
                }
                Value::Reference(r) => match self.attestor_reference(r) {
                    Ok(full) => out.push(self.b.scalar(full, Style::DoubleQuoted, item.loc.span)),
                    Err(why) => {
                        let node = Node {
                            value: Value::Unresolved(why),
                            loc: item.loc,
                        };
                        self.unresolved("require_attestations_by", &node);
                    }
                },
                _ if item.unresolved().is_some() => {
                    self.unresolved("require_attestations_by", item)
                }
                _ => out.push(self.scalar(item)),
            }
        }
        Some(out)
    }

    /// `google_binary_authorization_attestor.A.name` / `.id` in a configuration: the
    /// attestor's full name when its `name` and `project` are literals.
    fn attestor_reference(&self, r: &Reference) -> Result<String, String> {
        let generic = || format!("another resource's attribute (`{}`)", r.text);
        let Origin::Config(module) = self.origin else {
            return Err(generic());
        };
        if r.resource_type != ATTESTOR
            || r.indexed
            || !matches!(r.attr.as_deref(), Some("name" | "id"))
        {
            return Err(generic());
        }
        let Some(attestor) = module.of_type(ATTESTOR).find(|a| a.name == r.name) else {
            return Err(format!(
                "`{}`, but this module has no attestor `{}`",
                r.text, r.name
            ));
        };
        if attestor.repetition.is_some() {
            return Err(format!(
                "`{}`, an attestor repeated with `count`/`for_each`",
                r.text
            ));
        }
        match (
            attestor.body.get("name").and_then(Node::as_str),
            attestor.body.get("project").and_then(Node::as_str),
        ) {
            (Some(name), Some(project)) => Ok(format!("projects/{project}/attestors/{name}")),
            _ => Err(format!(
                "`{}`, whose attestor's `name` and `project` are not both literals",
                r.text
            )),
        }
    }

    /// In a plan, `require_attestations_by` unknown until apply because it references an
    /// attestor created in the same plan: resolved through that attestor's planned `name`
    /// and `project` when the configuration references only such attestors.
    fn planned_attestors(&self, path: (&str, usize)) -> Option<Vec<String>> {
        let Origin::Plan(plan) = self.origin else {
            return None;
        };
        let references = plan
            .expressions(self.policy)?
            .get(path.0)?
            .get(path.1)?
            .get("require_attestations_by")?
            .get("references")?
            .as_array()?;
        let prefix = Plan::module_prefix(&self.policy.address);
        let mut names = Vec::new();
        for reference in references {
            let text = reference.as_str()?;
            let rest = text.strip_prefix(ATTESTOR)?.strip_prefix('.')?;
            let (name, attr) = match rest.split_once('.') {
                Some((name, attr)) => (name, Some(attr)),
                None => (rest, None),
            };
            match attr {
                // Terraform lists the bare resource beside each attribute it reads.
                None => continue,
                Some("name" | "id") => {}
                Some(_) => return None,
            }
            let address = format!("{prefix}{ATTESTOR}.{name}");
            let attestor = plan.resources.iter().find(|r| r.address == address)?;
            let name = attestor.body.get("name").and_then(Node::as_str)?;
            let project = attestor.body.get("project").and_then(Node::as_str)?;
            let full = format!("projects/{project}/attestors/{name}");
            if !names.contains(&full) {
                names.push(full);
            }
        }
        (!names.is_empty()).then_some(names)
    }
}

/// The attestors a source defines, for offline verification (like `--attestors` input):
/// those whose name, project, note and keys are all literals.
fn attestors(origin: &Origin<'_>) -> AttestorDefinitions {
    let resources: Vec<&Resource> = match origin {
        Origin::Config(m) => m.of_type(ATTESTOR).collect(),
        Origin::Plan(p) => p.of_type(ATTESTOR).collect(),
    };
    let mut defs = AttestorDefinitions::default();
    for r in resources {
        if r.repetition.is_some() {
            continue;
        }
        let file = origin
            .files()
            .get(r.loc.file)
            .map_or("", |f| f.display.as_str());
        if let Some(draft) = attestor(r) {
            defs.push(file, draft);
        }
    }
    defs
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn first_block(node: Option<&Node>) -> Option<&Node> {
    match &node?.value {
        Value::List(items) => items.first(),
        Value::Object(_) => node,
        _ => None,
    }
}

fn attestor(r: &Resource) -> Option<AttestorDraft> {
    let name = text(r.body.get("name"))?;
    let project = text(r.body.get("project"))?;
    let note = first_block(r.body.get("attestation_authority_note"))?;
    let mut keys = Vec::new();
    match note.get("public_keys").map(|k| &k.value) {
        None | Some(Value::Null) => {}
        Some(Value::List(items)) => {
            for key in items {
                let pkix = first_block(key.get("pkix_public_key"));
                let pgp = text(key.get("ascii_armored_pgp_public_key"));
                // Key material that is not a literal (`file("key.pem")`): the attestor is
                // not defined here, as if it were not given.
                if pgp.is_none() && pkix.and_then(|p| text(p.get("public_key_pem"))).is_none() {
                    return None;
                }
                keys.push(DraftKey {
                    line: key.loc.span.start.line,
                    column: key.loc.span.start.column,
                    id: text(key.get("id")),
                    comment: text(key.get("comment")),
                    pgp,
                    pkix: pkix.and_then(|p| {
                        Some((
                            text(p.get("public_key_pem"))?,
                            text(p.get("signature_algorithm")).unwrap_or_default(),
                        ))
                    }),
                });
            }
        }
        Some(_) => return None,
    }
    Some(AttestorDraft {
        name: format!("projects/{project}/attestors/{name}"),
        description: text(r.body.get("description")),
        note_reference: text(note.get("note_reference"))?,
        keys,
        line: r.loc.span.start.line,
        column: r.loc.span.start.column,
    })
}
