//! Cloud Run resources in Terraform (contract §12 item 6): `google_cloud_run_v2_service`,
//! `google_cloud_run_v2_job` (`binary_authorization { use_default | policy,
//! breakglass_justification }`, `template.containers.image`,
//! `template.template.containers.image`) and `google_cloud_run_service` (v1 annotations in
//! `metadata.annotations`), read from the located model of `inputs::terraform` (a `.tf` file
//! or a plan JSON), turned into the same `Workload` + `CloudRun` pair the YAML extractor
//! gives, so the one Cloud Run evaluation decides them.
//!
//! Nothing is guessed: an image, a setting or a justification that is not a literal
//! (`var.x`, even with a default, since a `.tfvars` file or `-var` may replace it;
//! interpolation; another resource's attribute; unknown until apply) is recorded in
//! `CloudRun::unresolved` with the reason, at the expression.

use super::cloudrun::{
    BINAUTHZ_KEY, BREAKGLASS_KEY, CloudRun, Justification, Off, Resource, Setting, Unresolved,
};
use super::{Container, ContainerType, Object, Workload};
use crate::inputs::terraform::{Node, Resource as TfResource, Value};
use crate::yaml::Span;

/// The Terraform resource types that are Cloud Run workloads.
pub const RESOURCE_TYPES: &[&str] = &[
    "google_cloud_run_v2_service",
    "google_cloud_run_v2_job",
    "google_cloud_run_service",
];

/// The `apiVersion` Terraform workloads report (they have none of their own).
pub const API_VERSION: &str = "terraform";

/// The nested blocks `key` of a body: a list of block bodies (or one object).
fn blocks<'n>(node: &'n Node, key: &str) -> Vec<&'n Node> {
    match node.get(key).map(|n| &n.value) {
        Some(Value::List(items)) => items.iter().collect(),
        Some(Value::Object(_)) => node.get(key).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Follow nested blocks: `template` → `containers`, each step every block. `Err` with the
/// first step that is not literal (a `dynamic` block, a variable), and why.
fn nested<'n>(node: &'n Node, path: &[&str]) -> Result<Vec<&'n Node>, (&'n Node, String)> {
    let mut current = vec![node];
    for key in path {
        for n in &current {
            if let Some(step) = n.get(key)
                && let Some(why) = step.unresolved()
            {
                return Err((step, why));
            }
        }
        current = current.iter().flat_map(|n| blocks(n, key)).collect();
    }
    Ok(current)
}

/// A literal string, or why it is not one. `text` is the file the node is written in (a
/// `var.X` with a default is read as that default by the reader; here it stays unresolved).
fn literal<'n>(node: &'n Node, text: &str) -> Result<&'n str, String> {
    // Before the reader's reason: it may say a variable is undeclared when its `variable`
    // block is in another file of the module.
    if written_as_variable(node, text) {
        return Err(
            "a variable (`var.…`), whose value a `.tfvars` file or `-var` may set".to_string(),
        );
    }
    if let Some(why) = node.unresolved() {
        return Err(why);
    }
    match &node.value {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(if *b { "true" } else { "false" }),
        _ => Err(format!("{}, not a string", node.describe())),
    }
}

/// True when the expression at the node's place starts with `var.`.
fn written_as_variable(node: &Node, text: &str) -> bool {
    let start = node.loc.span.start;
    text.split('\n')
        .nth(start.line.saturating_sub(1) as usize)
        .map(|line| {
            line.chars()
                .skip(start.column.saturating_sub(1) as usize)
                .collect::<String>()
        })
        .is_some_and(|rest| rest.starts_with("var."))
}

/// The text written at a node, for an unresolved image's report (`var.image`).
fn written(node: &Node, text: &str) -> String {
    let span = node.loc.span;
    let Some(line) = text
        .split('\n')
        .nth(span.start.line.saturating_sub(1) as usize)
    else {
        return String::new();
    };
    let from = span.start.column.saturating_sub(1) as usize;
    let to = if span.end.line == span.start.line && span.end.column > span.start.column {
        span.end.column.saturating_sub(1) as usize
    } else {
        usize::MAX
    };
    line.chars()
        .skip(from)
        .take(to.saturating_sub(from))
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The Cloud Run workloads of a module's (or plan's) resources, in order. `text` is the
/// text of file `file` (a `.tf` file is read alone; a plan is one file).
pub fn workloads(resources: &[TfResource], text: &str, default_namespace: &str) -> Vec<Workload> {
    resources
        .iter()
        .filter(|r| RESOURCE_TYPES.contains(&r.resource_type.as_str()))
        .map(|r| workload(r, text, default_namespace))
        .collect()
}

fn workload(r: &TfResource, text: &str, default_namespace: &str) -> Workload {
    let body = &r.body;
    let mut unresolved: Vec<Unresolved> = Vec::new();
    let mut note = |what: &str, node: &Node, why: String| {
        unresolved.push(Unresolved {
            what: what.to_string(),
            why,
            span: node.loc.span,
        });
    };
    let (resource, containers_path, route): (Resource, &[&str], &str) =
        match r.resource_type.as_str() {
            "google_cloud_run_v2_job" => (
                Resource::Job,
                &["template", "template", "containers"],
                "template.template",
            ),
            "google_cloud_run_service" => (
                Resource::Service,
                &["template", "spec", "containers"],
                "template.spec",
            ),
            _ => (Resource::Service, &["template", "containers"], "template"),
        };
    let mut containers = Vec::new();
    let container_blocks = match nested(body, containers_path) {
        Ok(blocks) => blocks,
        Err((node, why)) => {
            // The containers themselves are not known: one unresolved entry stands for them,
            // so the workload's verdict is `unresolved`, not an empty allow.
            note("the containers", node, why);
            containers.push(Container {
                name: String::new(),
                container_type: ContainerType::Container,
                image: written(node, text),
                image_span: node.loc.span,
            });
            Vec::new()
        }
    };
    for (index, container) in container_blocks.into_iter().enumerate() {
        let name = string_attr(container, "name", text)
            .unwrap_or("")
            .to_string();
        let Some(image) = container.get("image") else {
            continue;
        };
        let image_text = match literal(image, text) {
            Ok(s) => s.to_string(),
            Err(why) => {
                note(&format!("the image of container {index}"), image, why);
                written(image, text)
            }
        };
        containers.push(Container {
            name,
            container_type: ContainerType::Container,
            image: image_text,
            image_span: image.loc.span,
        });
    }

    let mut justifications = Vec::new();
    let mut justification = |key: &str, key_span: Span, text_value: &str| {
        justifications.push(Justification {
            text: text_value.to_string(),
            key: key.to_string(),
            kind: "field",
            key_span,
            misplaced: None,
            not_a_string: false,
        });
    };
    let (setting, setting_span) = if resource_is_v1(r) {
        // v1: the annotations of `metadata { annotations = {…} }`; those of the revision
        // template (`template { metadata { … } }`) are misplaced.
        let object_annotations = match nested(body, &["metadata"]) {
            Ok(metas) => Ok(metas
                .into_iter()
                .filter_map(|m| m.get("annotations"))
                .next_back()),
            Err((node, why)) => Err((node, why)),
        };
        let mut setting = (Setting::Off(Off::Absent), None);
        // `annotations = var.x` (or a dynamic `metadata`): the setting is not known.
        let object_annotations = match object_annotations {
            Ok(Some(a)) if a.unresolved().is_some() || written_as_variable(a, text) => {
                let why = literal(a, text).err().unwrap_or_default();
                note("the annotations of `metadata`", a, why.clone());
                setting = (Setting::Unresolved(why), Some(a.loc.span));
                None
            }
            Ok(found) => found,
            Err((node, why)) => {
                note("`metadata`", node, why.clone());
                setting = (Setting::Unresolved(why), Some(node.loc.span));
                None
            }
        };
        if let Some(annotations) = object_annotations {
            if let Some(attr) = annotations.get_attr(BINAUTHZ_KEY) {
                setting = match literal(&attr.value, text) {
                    Ok("default") => (Setting::Enforced, Some(attr.key_loc.span)),
                    Ok(v) if v.starts_with("projects/") => (
                        Setting::PlatformPolicy(v.to_string()),
                        Some(attr.key_loc.span),
                    ),
                    Ok(v) => (
                        Setting::Off(Off::UnknownValue(v.to_string())),
                        Some(attr.key_loc.span),
                    ),
                    Err(why) => {
                        note(
                            "`run.googleapis.com/binary-authorization`",
                            &attr.value,
                            why.clone(),
                        );
                        (Setting::Unresolved(why), Some(attr.key_loc.span))
                    }
                };
            }
            if let Some(attr) = annotations.get_attr(BREAKGLASS_KEY) {
                let value = match literal(&attr.value, text) {
                    Ok(v) => Some(v),
                    Err(why) => {
                        note("the break-glass justification", &attr.value, why);
                        None
                    }
                };
                if let Some(value) = value {
                    justification(BREAKGLASS_KEY, attr.key_loc.span, value);
                }
            }
        }
        if matches!(setting.0, Setting::Off(Off::Absent))
            && let Some(attr) = nested(body, &["template", "metadata"])
                .unwrap_or_default()
                .into_iter()
                .filter_map(|m| m.get("annotations"))
                .find_map(|a| a.get_attr(BINAUTHZ_KEY))
        {
            setting = (
                Setting::Off(Off::OnRevisionTemplate),
                Some(attr.key_loc.span),
            );
        }
        setting
    } else {
        if let Some(dynamic) = body.get("binary_authorization")
            && let Some(why) = dynamic.unresolved()
        {
            note("`binary_authorization`", dynamic, why.clone());
            return finish(
                r,
                text,
                default_namespace,
                resource,
                route,
                containers,
                (Setting::Unresolved(why), Some(dynamic.loc.span)),
                Vec::new(),
                unresolved,
            );
        }
        let block = blocks(body, "binary_authorization").into_iter().next_back();
        // A plan prints unset attributes as null: absent.
        let attr = |key: &str| {
            block
                .and_then(|b| b.get_attr(key))
                .filter(|a| !matches!(a.value.value, Value::Null))
        };
        let mut setting = (Setting::Off(Off::Absent), None);
        if let Some(a) = attr("policy") {
            setting = match literal(&a.value, text) {
                Ok(v) if !v.is_empty() => {
                    (Setting::PlatformPolicy(v.to_string()), Some(a.key_loc.span))
                }
                Ok(_) => setting,
                Err(why) => {
                    note("`binary_authorization.policy`", &a.value, why.clone());
                    (Setting::Unresolved(why), Some(a.key_loc.span))
                }
            };
        }
        if !matches!(
            setting.0,
            Setting::PlatformPolicy(_) | Setting::Unresolved(_)
        ) && let Some(a) = attr("use_default")
        {
            setting = match literal(&a.value, text) {
                Ok("true") => (Setting::Enforced, Some(a.key_loc.span)),
                Ok(_) => (Setting::Off(Off::UseDefaultFalse), Some(a.key_loc.span)),
                Err(why) => {
                    note("`binary_authorization.use_default`", &a.value, why.clone());
                    (Setting::Unresolved(why), Some(a.key_loc.span))
                }
            };
        }
        if let Some(a) = attr("breakglass_justification") {
            match literal(&a.value, text) {
                Ok(v) => justification(
                    "binary_authorization.breakglass_justification",
                    a.key_loc.span,
                    v,
                ),
                Err(why) => note(
                    "`binary_authorization.breakglass_justification`",
                    &a.value,
                    why,
                ),
            }
        }
        setting
    };
    finish(
        r,
        text,
        default_namespace,
        resource,
        route,
        containers,
        (setting, setting_span),
        justifications,
        unresolved,
    )
}

/// The workload of a resource, from what was read of it.
#[allow(clippy::too_many_arguments)]
fn finish(
    r: &TfResource,
    text: &str,
    default_namespace: &str,
    resource: Resource,
    route: &str,
    containers: Vec<Container>,
    (setting, setting_span): (Setting, Option<Span>),
    justifications: Vec<Justification>,
    unresolved: Vec<Unresolved>,
) -> Workload {
    let body = &r.body;
    let name = string_attr(body, "name", text)
        .unwrap_or(&r.name)
        .to_string();
    let namespace = string_attr(body, "project", text)
        .unwrap_or(default_namespace)
        .to_string();
    let region = string_attr(body, "location", text).map(str::to_string);
    let object_span = r.loc.span;
    Workload {
        object: Object {
            node: 0,
            api_version: API_VERSION.to_string(),
            kind: r.resource_type.clone(),
        },
        route: route.to_string(),
        detected_at: None,
        name,
        namespace,
        service_account: "default".to_string(),
        object_metadata: None,
        pod_metadata: Vec::new(),
        annotations_not_copied: Vec::new(),
        other_metadata: Vec::new(),
        breakglass_place: String::new(),
        containers,
        cloud_run: Some(CloudRun {
            resource,
            setting,
            setting_span,
            metadata_span: object_span,
            object_span,
            justifications,
            region,
            unresolved,
            terraform: true,
        }),
    }
}

fn string_attr<'n>(node: &'n Node, key: &str, text: &str) -> Option<&'n str> {
    node.get(key).and_then(|n| literal(n, text).ok())
}

fn resource_is_v1(r: &TfResource) -> bool {
    r.resource_type == "google_cloud_run_service"
}
