//! Cloud Run objects (contract §12, semantics §8): which objects are Cloud Run services or
//! jobs, whether Binary Authorization checks them, and their break-glass justification.
//!
//! The containers come from the route table like every other kind (a Knative `Service`'s
//! `spec.template`, a `run.googleapis.com/v1` Job's `spec.template.spec.template`, a Config
//! Connector `RunService`'s `spec.template`); this module only reads what makes the object a
//! Cloud Run one and what Cloud Run decides on the object itself.

use super::Object;
use crate::settings::platform::PlatformSetting;
use crate::yaml::{NodeId, Span, Tree};

/// The v1 annotation that turns Binary Authorization on (`default`) or names a platform policy.
pub const BINAUTHZ_KEY: &str = "run.googleapis.com/binary-authorization";
/// The v1 annotation whose value is the break-glass justification.
pub const BREAKGLASS_KEY: &str = "run.googleapis.com/binary-authorization-breakglass";
/// Any label or annotation key with this prefix marks a Knative `Service` as Cloud Run's.
pub const RUN_KEY_PREFIX: &str = "run.googleapis.com/";
/// The region label `gcloud run services describe --format export` writes.
const LOCATION_LABEL: &str = "cloud.googleapis.com/location";
/// Config Connector's place of the justification, as messages name it.
pub const KCC_JUSTIFICATION_FIELD: &str = "spec.binaryAuthorization.breakglassJustification";

const KCC_GROUP: &str = "run.cnrm.cloud.google.com";
const RUN_GROUP: &str = "run.googleapis.com";
const KNATIVE_GROUP: &str = "serving.knative.dev";

/// A Cloud Run service (checked at each new revision) or job (checked at each execution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Service,
    Job,
}

impl Resource {
    /// "Cloud Run service" / "Cloud Run job", as every output names the object.
    pub fn label(self) -> &'static str {
        match self {
            Resource::Service => "Cloud Run service",
            Resource::Job => "Cloud Run job",
        }
    }

    /// The object's own kind in messages ("on the Service/Job").
    pub fn object_word(self) -> &'static str {
        match self {
            Resource::Service => "Service",
            Resource::Job => "Job",
        }
    }
}

/// Why Binary Authorization does not check the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Off {
    /// No setting at all.
    Absent,
    /// The v1 annotation only on a revision (or execution) template, where Cloud Run does not
    /// read it.
    OnRevisionTemplate,
    /// Config Connector `useDefault: false`.
    UseDefaultFalse,
    /// An annotation value that is neither `default` nor a platform policy name.
    UnknownValue(String),
}

/// The object's Binary Authorization setting (contract §12.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `default` / `useDefault: true`: the project policy decides.
    Enforced,
    Off(Off),
    /// `projects/P/platforms/cloudRun/policies/ID`: evaluated online only.
    PlatformPolicy(String),
    /// Terraform: the setting is not a literal (`var.x`, unknown until apply): why.
    Unresolved(String),
}

impl Setting {
    /// The JSON `binauthz` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Setting::Enforced => "enforced",
            Setting::Off(_) => "off",
            Setting::PlatformPolicy(_) => "platform-policy",
            Setting::Unresolved(_) => "unresolved",
        }
    }
}

/// One break-glass justification written on the object (or misplaced).
#[derive(Clone, Debug)]
pub struct Justification {
    pub text: String,
    /// The annotation key, or [`KCC_JUSTIFICATION_FIELD`].
    pub key: String,
    /// `annotation` or `field` (Config Connector).
    pub kind: &'static str,
    pub key_span: Span,
    /// On a revision (or execution/task) template, where Cloud Run does not read it: the
    /// place as messages name it.
    pub misplaced: Option<String>,
    /// Not a string (an unquoted number, a list): the API refuses the object.
    pub not_a_string: bool,
}

/// A Terraform value that is not a literal, so it is not guessed (contract §12 item 6).
#[derive(Clone, Debug)]
pub struct Unresolved {
    /// What it is, as messages name it (`the image of container 0`).
    pub what: String,
    pub why: String,
    pub span: Span,
}

/// What makes a workload a Cloud Run one.
#[derive(Clone, Debug)]
pub struct CloudRun {
    pub resource: Resource,
    pub setting: Setting,
    /// Where the setting is written (its key), when it is.
    pub setting_span: Option<Span>,
    /// The object's `metadata` key (else the object): where `cloudrun-binauthz-off` points.
    pub metadata_span: Span,
    /// The whole object (the workload's location).
    pub object_span: Span,
    pub justifications: Vec<Justification>,
    /// The region, when the object names one (`cloud.googleapis.com/location`, KCC
    /// `spec.location`), for the audit events' `resource.labels.location`.
    pub region: Option<String>,
    /// Terraform values that are not literals.
    pub unresolved: Vec<Unresolved>,
    /// Read from Terraform (a `.tf` file or a plan), not from a manifest.
    pub terraform: bool,
}

impl CloudRun {
    pub fn is_platform_policy(&self) -> bool {
        matches!(self.setting, Setting::PlatformPolicy(_))
    }

    pub fn is_off(&self) -> bool {
        matches!(self.setting, Setting::Off(_))
    }

    /// Where a justification belongs, as fixes say it.
    pub fn justification_place(&self, kcc: bool) -> String {
        if self.terraform {
            "`binary_authorization { breakglass_justification = \"<why>\" }` (v1: the `run.googleapis.com/binary-authorization-breakglass` annotation of `metadata`)".to_string()
        } else if kcc {
            format!("`{KCC_JUSTIFICATION_FIELD}`")
        } else {
            format!(
                "the {}'s `metadata.annotations` as `{BREAKGLASS_KEY}: \"<why>\"`",
                self.resource.object_word()
            )
        }
    }
}

/// The Cloud Run reading of an object, or `None` when it runs on GKE.
pub fn classify(tree: &Tree, object: &Object, setting: PlatformSetting) -> Option<CloudRun> {
    let group = super::api_group(&object.api_version);
    let node = object.node;
    let metadata_span = match tree.get_entry(node, "metadata") {
        Some((key, _)) => tree.span(key),
        None => tree.span(node),
    };
    let metadata = tree
        .get(node, "metadata")
        .filter(|m| tree.map(*m).is_some());
    match (group, object.kind.as_str()) {
        (KCC_GROUP, "RunService" | "RunJob") => {
            let resource = if object.kind == "RunJob" {
                Resource::Job
            } else {
                Resource::Service
            };
            Some(kcc(tree, node, resource, metadata_span))
        }
        (RUN_GROUP, "Job") => Some(v1(
            tree,
            node,
            metadata,
            Resource::Job,
            metadata_span,
            &[
                (&["spec", "template", "metadata"], "the execution template"),
                (
                    &["spec", "template", "spec", "template", "metadata"],
                    "the task template",
                ),
            ],
        )),
        (KNATIVE_GROUP, "Service") => {
            let revision = tree.path(node, &["spec", "template", "metadata"]);
            let cloud_run = match setting {
                PlatformSetting::Gke => false,
                PlatformSetting::CloudRun => true,
                PlatformSetting::Auto => [metadata, revision]
                    .into_iter()
                    .flatten()
                    .any(|meta| has_run_key(tree, meta)),
            };
            cloud_run.then(|| {
                v1(
                    tree,
                    node,
                    metadata,
                    Resource::Service,
                    metadata_span,
                    &[(&["spec", "template", "metadata"], "the revision template")],
                )
            })
        }
        _ => None,
    }
}

/// A label or annotation key that starts with `run.googleapis.com/`.
fn has_run_key(tree: &Tree, meta: NodeId) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        tree.get(meta, field)
            .map(|map| tree.entries(map))
            .unwrap_or_default()
            .iter()
            .any(|(key, _)| {
                tree.scalar(*key)
                    .is_some_and(|k| k.starts_with(RUN_KEY_PREFIX))
            })
    })
}

fn annotation(tree: &Tree, meta: Option<NodeId>, key: &str) -> Option<(NodeId, NodeId)> {
    let annotations = tree.get(meta?, "annotations")?;
    tree.get_entry(annotations, key)
}

fn justification(
    tree: &Tree,
    (key, value): (NodeId, NodeId),
    name: &str,
    kind: &'static str,
    misplaced: Option<String>,
) -> Justification {
    Justification {
        text: tree.scalar(value).unwrap_or("").to_string(),
        key: name.to_string(),
        kind,
        key_span: tree.span(key),
        misplaced,
        // A null value (`breakglass:` with nothing) is an empty justification, not a refusal.
        not_a_string: tree.string(value).is_none() && !tree.is_null(value),
    }
}

/// The YAML of `gcloud run services replace` / `gcloud run jobs replace`: annotations on the
/// object's metadata; the same keys on a template are misplaced.
fn v1(
    tree: &Tree,
    node: NodeId,
    metadata: Option<NodeId>,
    resource: Resource,
    metadata_span: Span,
    templates: &[(&[&str], &str)],
) -> CloudRun {
    let template_metas: Vec<(NodeId, &str)> = templates
        .iter()
        .filter_map(|(path, place)| Some((tree.path(node, path)?, *place)))
        .collect();
    let (setting, setting_span) = match annotation(tree, metadata, BINAUTHZ_KEY) {
        Some((key, value)) => {
            let text = tree.scalar(value).unwrap_or("");
            let setting = if text == "default" {
                Setting::Enforced
            } else if is_platform_policy(text) {
                Setting::PlatformPolicy(text.to_string())
            } else {
                Setting::Off(Off::UnknownValue(text.to_string()))
            };
            (setting, Some(tree.span(key)))
        }
        None => match template_metas
            .iter()
            .find_map(|(meta, _)| annotation(tree, Some(*meta), BINAUTHZ_KEY))
        {
            Some((key, _)) => (Setting::Off(Off::OnRevisionTemplate), Some(tree.span(key))),
            None => (Setting::Off(Off::Absent), None),
        },
    };
    let mut justifications = Vec::new();
    if let Some(entry) = annotation(tree, metadata, BREAKGLASS_KEY) {
        justifications.push(justification(
            tree,
            entry,
            BREAKGLASS_KEY,
            "annotation",
            None,
        ));
    }
    for (meta, place) in &template_metas {
        if let Some(entry) = annotation(tree, Some(*meta), BREAKGLASS_KEY) {
            justifications.push(justification(
                tree,
                entry,
                BREAKGLASS_KEY,
                "annotation",
                Some(place.to_string()),
            ));
        }
    }
    let region = metadata
        .and_then(|m| tree.get(m, "labels"))
        .and_then(|labels| tree.get(labels, LOCATION_LABEL))
        .and_then(|v| tree.string(v))
        .map(str::to_string);
    CloudRun {
        resource,
        setting,
        setting_span,
        metadata_span,
        object_span: tree.span(node),
        justifications,
        region,
        unresolved: Vec::new(),
        terraform: false,
    }
}

/// `projects/P/platforms/cloudRun/policies/ID` (the Admin API's `binaryAuthorization.policy`).
fn is_platform_policy(text: &str) -> bool {
    text.starts_with("projects/") && text.contains("/platforms/")
}

/// Config Connector `RunService` / `RunJob`: `spec.binaryAuthorization`.
fn kcc(tree: &Tree, node: NodeId, resource: Resource, metadata_span: Span) -> CloudRun {
    let block = tree
        .path(node, &["spec", "binaryAuthorization"])
        .filter(|b| tree.map(*b).is_some());
    let use_default = block.and_then(|b| tree.get_entry(b, "useDefault"));
    let policy = block.and_then(|b| tree.get_entry(b, "policy"));
    let (setting, setting_span) = match (use_default, policy) {
        (_, Some((key, value))) if tree.string(value).is_some_and(|v| !v.is_empty()) => (
            Setting::PlatformPolicy(tree.scalar(value).unwrap_or("").to_string()),
            Some(tree.span(key)),
        ),
        // `useDefault: true` (a boolean; Config Connector also accepts the string).
        (Some((key, value)), _) if tree.scalar(value) == Some("true") => {
            (Setting::Enforced, Some(tree.span(key)))
        }
        (Some((key, _)), _) => (Setting::Off(Off::UseDefaultFalse), Some(tree.span(key))),
        (None, _) => (Setting::Off(Off::Absent), None),
    };
    let justifications = block
        .and_then(|b| tree.get_entry(b, "breakglassJustification"))
        .map(|entry| justification(tree, entry, KCC_JUSTIFICATION_FIELD, "field", None))
        .into_iter()
        .collect();
    let region = tree
        .path(node, &["spec", "location"])
        .and_then(|v| tree.string(v))
        .map(str::to_string);
    CloudRun {
        resource,
        setting,
        setting_span,
        metadata_span,
        object_span: tree.span(node),
        justifications,
        region,
        unresolved: Vec::new(),
        terraform: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse};

    fn classify_text(text: &str, setting: PlatformSetting) -> Option<CloudRun> {
        let tree = parse(text, &Limits::default());
        let root = tree.documents[0].root.expect("root");
        let object = Object {
            node: root,
            api_version: tree
                .get(root, "apiVersion")
                .and_then(|n| tree.string(n))
                .unwrap_or("")
                .to_string(),
            kind: tree
                .get(root, "kind")
                .and_then(|n| tree.string(n))
                .unwrap_or("")
                .to_string(),
        };
        classify(&tree, &object, setting)
    }

    const PLAIN_KNATIVE: &str = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: a}\nspec: {template: {spec: {containers: [{image: x}]}}}\n";

    #[test]
    fn knative_service_needs_a_run_key_or_the_setting() {
        assert!(classify_text(PLAIN_KNATIVE, PlatformSetting::Auto).is_none());
        let forced = classify_text(PLAIN_KNATIVE, PlatformSetting::CloudRun).expect("cloud run");
        assert_eq!(forced.setting, Setting::Off(Off::Absent));
        let keyed = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: a\n  annotations: {run.googleapis.com/binary-authorization: default}\nspec: {template: {spec: {containers: [{image: x}]}}}\n";
        let run = classify_text(keyed, PlatformSetting::Auto).expect("cloud run");
        assert_eq!(run.setting, Setting::Enforced);
        assert_eq!(run.setting_span.map(|s| s.start.line), Some(5));
        assert!(classify_text(keyed, PlatformSetting::Gke).is_none());
    }

    #[test]
    fn kcc_settings() {
        let text = |block: &str| {
            format!(
                "apiVersion: run.cnrm.cloud.google.com/v1beta1\nkind: RunJob\nmetadata: {{name: j}}\nspec:\n  location: eu\n  binaryAuthorization: {block}\n"
            )
        };
        let enforced = classify_text(
            &text("{useDefault: true, breakglassJustification: x}"),
            PlatformSetting::Gke,
        )
        .expect("always cloud run");
        assert_eq!(
            (
                enforced.resource,
                enforced.setting.clone(),
                enforced.region.as_deref()
            ),
            (Resource::Job, Setting::Enforced, Some("eu"))
        );
        assert_eq!(enforced.justifications[0].text, "x");
        let off = classify_text(&text("{useDefault: false}"), PlatformSetting::Auto).expect("cr");
        assert_eq!(off.setting, Setting::Off(Off::UseDefaultFalse));
        let pp = classify_text(
            &text("{policy: projects/p/platforms/cloudRun/policies/x}"),
            PlatformSetting::Auto,
        )
        .expect("cr");
        assert!(matches!(pp.setting, Setting::PlatformPolicy(_)));
    }

    #[test]
    fn misplaced_setting_and_justification() {
        let text = "apiVersion: run.googleapis.com/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    metadata:\n      annotations:\n        run.googleapis.com/binary-authorization: default\n        run.googleapis.com/binary-authorization-breakglass: '42'\n    spec: {template: {spec: {containers: [{image: x}]}}}\n";
        let job = classify_text(text, PlatformSetting::Auto).expect("cr");
        assert_eq!(job.setting, Setting::Off(Off::OnRevisionTemplate));
        assert_eq!(
            job.justifications[0].misplaced.as_deref(),
            Some("the execution template")
        );
        assert!(!job.justifications[0].not_a_string);
    }
}
