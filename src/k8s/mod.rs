//! Kubernetes objects: which kinds carry a pod template, where it lives, and extraction of
//! the pod's identity (namespace, service account), metadata and containers.
//!
//! The route table below is the one place to extend for a new workload kind.

use crate::yaml::{NodeId, Span, Tree};

/// Where a kind keeps its pod template. `template` is the route from the object to the pod
/// template (a mapping with `metadata` and `spec`); an empty route means the object *is*
/// the pod (bare `Pod`).
#[derive(Clone, Copy, Debug)]
pub struct PodTemplateRoute {
    pub kind: &'static str,
    /// API groups the kind belongs to (`""` is the core group). A kind is only treated as a
    /// workload under one of these groups, so a CRD that happens to be called `Job` is not.
    pub groups: &'static [&'static str],
    pub template: &'static [&'static str],
    /// The workload's own metadata blocks that do *not* reach the pods, besides `metadata`
    /// (for break-glass placement checks), e.g. a CronJob's `spec.jobTemplate.metadata`.
    pub intermediate_metadata: &'static [&'static [&'static str]],
}

/// The kind → pod-template table.
pub const POD_TEMPLATE_ROUTES: &[PodTemplateRoute] = &[
    PodTemplateRoute {
        kind: "Pod",
        groups: &[""],
        template: &[],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "Deployment",
        groups: &["apps", "extensions"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "ReplicaSet",
        groups: &["apps", "extensions"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "StatefulSet",
        groups: &["apps"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "DaemonSet",
        groups: &["apps", "extensions"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "Job",
        groups: &["batch"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "CronJob",
        groups: &["batch"],
        template: &["spec", "jobTemplate", "spec", "template"],
        intermediate_metadata: &[&["spec", "jobTemplate", "metadata"]],
    },
    PodTemplateRoute {
        kind: "ReplicationController",
        groups: &[""],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    PodTemplateRoute {
        kind: "PodTemplate",
        groups: &[""],
        template: &["template"],
        intermediate_metadata: &[],
    },
    // Argo Rollouts: same shape as a Deployment (a `workloadRef` rollout has no template).
    PodTemplateRoute {
        kind: "Rollout",
        groups: &["argoproj.io"],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
    // OpenShift DeploymentConfig.
    PodTemplateRoute {
        kind: "DeploymentConfig",
        groups: &["apps.openshift.io", ""],
        template: &["spec", "template"],
        intermediate_metadata: &[],
    },
];

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn api_group(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}

/// The route for a kind under an apiVersion, if it is a workload kind.
pub fn route_for(api_version: &str, kind: &str) -> Option<&'static PodTemplateRoute> {
    let group = api_group(api_version);
    POD_TEMPLATE_ROUTES
        .iter()
        .find(|r| r.kind == kind && r.groups.contains(&group))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerType {
    Container,
    InitContainer,
    EphemeralContainer,
}

impl ContainerType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerType::Container => "container",
            ContainerType::InitContainer => "initContainer",
            ContainerType::EphemeralContainer => "ephemeralContainer",
        }
    }

    fn field(self) -> &'static str {
        match self {
            ContainerType::Container => "containers",
            ContainerType::InitContainer => "initContainers",
            ContainerType::EphemeralContainer => "ephemeralContainers",
        }
    }
}

/// One container with an image.
#[derive(Clone, Debug)]
pub struct Container {
    pub name: String,
    pub container_type: ContainerType,
    pub image: String,
    pub image_span: Span,
}

/// A malformed part of an object: a `manifest-invalid` finding at `span`.
#[derive(Clone, Debug)]
pub struct Problem {
    pub span: Span,
    pub message: String,
}

/// A Kubernetes object found in a document (top level or a `List` item).
#[derive(Clone, Debug)]
pub struct Object {
    pub node: NodeId,
    pub api_version: String,
    pub kind: String,
}

/// A workload: an object with a pod template (or a Pod), resolved for admission.
#[derive(Clone, Debug)]
pub struct Workload {
    pub object: Object,
    pub route: &'static PodTemplateRoute,
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    /// The object's own `metadata` mapping.
    pub object_metadata: Option<NodeId>,
    /// The pod template's (or Pod's) `metadata` mapping: what the pods get.
    pub pod_metadata: Option<NodeId>,
    pub containers: Vec<Container>,
}

/// Everything found in one document.
#[derive(Debug, Default)]
pub struct Extraction {
    /// Number of Kubernetes objects (apiVersion + kind) seen, including List items.
    pub objects: usize,
    pub workloads: Vec<Workload>,
    pub problems: Vec<Problem>,
}

/// True when a node looks like a Kubernetes object: a mapping with `apiVersion` and `kind`.
pub fn is_object(tree: &Tree, node: NodeId) -> bool {
    tree.map(node).is_some()
        && tree.get(node, "apiVersion").is_some()
        && tree.get(node, "kind").is_some()
}

/// Extract every workload of a document root. `default_namespace` is `--namespace`.
pub fn extract(tree: &Tree, root: NodeId, default_namespace: &str) -> Extraction {
    let mut out = Extraction::default();
    // Iterative walk over nested Lists (a List of Lists is legal); depth-bounded.
    let mut pending: Vec<(NodeId, u8)> = vec![(root, 0)];
    while let Some((node, depth)) = pending.pop() {
        if !is_object(tree, node) {
            continue;
        }
        out.objects += 1;
        let Some(object) = object_header(tree, node, &mut out.problems) else {
            continue;
        };
        if object.kind == "List"
            || (object.kind.ends_with("List") && tree.get(node, "items").is_some())
        {
            if depth >= 4 {
                continue;
            }
            match tree.get(node, "items") {
                Some(items) if tree.seq(items).is_some() => {
                    // Reverse so that popping keeps document order.
                    for item in tree.seq(items).unwrap_or_default().iter().rev() {
                        pending.push((*item, depth + 1));
                    }
                }
                Some(items) if tree.is_null(items) => {}
                Some(items) => out.problems.push(Problem {
                    span: tree.span(items),
                    message: format!("`items` of a {} must be a list", object.kind),
                }),
                None => {}
            }
            continue;
        }
        let Some(route) = route_for(&object.api_version, &object.kind) else {
            continue;
        };
        if let Some(w) = workload(tree, object, route, default_namespace, &mut out.problems) {
            out.workloads.push(w);
        }
    }
    out
}

fn object_header(tree: &Tree, node: NodeId, problems: &mut Vec<Problem>) -> Option<Object> {
    let api_node = tree.get(node, "apiVersion")?;
    let kind_node = tree.get(node, "kind")?;
    let api_version = required_string(tree, api_node, "apiVersion", problems)?;
    let kind = required_string(tree, kind_node, "kind", problems)?;
    Some(Object {
        node,
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    })
}

/// A field that must be a string: anything else (a number, an unquoted boolean, a list)
/// is a problem, as Kubernetes' decoder would refuse it.
fn required_string<'t>(
    tree: &'t Tree,
    node: NodeId,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'t str> {
    if let Some(s) = tree.string(node) {
        return Some(s);
    }
    let what = match tree.scalar_kind(node) {
        Some(kind) => {
            let text = tree.scalar(node).unwrap_or("");
            let note = if kind == crate::yaml::ScalarKind::Bool {
                crate::yaml::route_note(text)
            } else {
                ""
            };
            format!("{} (unquoted `{text}`){note}", kind.describe())
        }
        None if tree.seq(node).is_some() => "a list".to_string(),
        None => "a mapping".to_string(),
    };
    problems.push(Problem {
        span: tree.span(node),
        message: format!("`{field}` must be a string, but it is {what}; quote the value"),
    });
    None
}

/// An optional string field: absent and null are `None` without a problem.
fn optional_string<'t>(
    tree: &'t Tree,
    parent: NodeId,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'t str> {
    let node = tree.get(parent, field)?;
    if tree.is_null(node) {
        return None;
    }
    required_string(tree, node, field, problems)
}

fn workload(
    tree: &Tree,
    object: Object,
    route: &'static PodTemplateRoute,
    default_namespace: &str,
    problems: &mut Vec<Problem>,
) -> Option<Workload> {
    let node = object.node;
    let object_metadata = tree
        .get(node, "metadata")
        .filter(|m| tree.map(*m).is_some());
    let template = tree.path(node, route.template)?;
    if tree.map(template).is_none() {
        if !tree.is_null(template) {
            problems.push(Problem {
                span: tree.span(template),
                message: format!(
                    "the pod template `{}` must be a mapping",
                    route.template.join(".")
                ),
            });
        }
        return None;
    }
    let pod_spec = tree.get(template, "spec")?;
    if tree.map(pod_spec).is_none() {
        if !tree.is_null(pod_spec) {
            problems.push(Problem {
                span: tree.span(pod_spec),
                message: "the pod `spec` must be a mapping".to_string(),
            });
        }
        return None;
    }
    // A workload is an object whose pod spec has a `containers` list (a kustomize patch or
    // a `workloadRef` Rollout without one is not evaluated).
    let containers_node = tree.get(pod_spec, "containers")?;
    if tree.is_null(containers_node) {
        return None;
    }
    if tree.seq(containers_node).is_none() {
        problems.push(Problem {
            span: tree.span(containers_node),
            message: "`containers` must be a list of containers".to_string(),
        });
        return None;
    }
    let pod_metadata = tree
        .get(template, "metadata")
        .filter(|m| tree.map(*m).is_some());
    // A bare Pod is its own template: its metadata is checked once.
    let pod_only = pod_metadata.filter(|pod| Some(*pod) != object_metadata);
    for meta in [object_metadata, pod_only].into_iter().flatten() {
        check_string_maps(tree, meta, problems);
    }
    let name = object_metadata
        .and_then(|m| {
            optional_string(tree, m, "name", problems)
                .or_else(|| optional_string(tree, m, "generateName", problems))
        })
        .unwrap_or("")
        .to_string();
    let namespace = object_metadata
        .and_then(|m| optional_string(tree, m, "namespace", problems))
        .filter(|ns| !ns.is_empty())
        .unwrap_or(default_namespace)
        .to_string();
    let service_account = optional_string(tree, pod_spec, "serviceAccountName", problems)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            optional_string(tree, pod_spec, "serviceAccount", problems).filter(|s| !s.is_empty())
        })
        .unwrap_or("default")
        .to_string();
    let mut containers = Vec::new();
    for container_type in [
        ContainerType::Container,
        ContainerType::InitContainer,
        ContainerType::EphemeralContainer,
    ] {
        collect_containers(tree, pod_spec, container_type, &mut containers, problems);
    }
    Some(Workload {
        object,
        route,
        name,
        namespace,
        service_account,
        object_metadata,
        pod_metadata,
        containers,
    })
}

fn collect_containers(
    tree: &Tree,
    pod_spec: NodeId,
    container_type: ContainerType,
    out: &mut Vec<Container>,
    problems: &mut Vec<Problem>,
) {
    let field = container_type.field();
    let Some(list) = tree.get(pod_spec, field) else {
        return;
    };
    let Some(items) = tree.seq(list) else {
        if !tree.is_null(list) {
            problems.push(Problem {
                span: tree.span(list),
                message: format!("`{field}` must be a list of containers"),
            });
        }
        return;
    };
    for item in items {
        if tree.map(*item).is_none() {
            problems.push(Problem {
                span: tree.span(*item),
                message: format!("an entry of `{field}` must be a mapping (a container)"),
            });
            continue;
        }
        let name = optional_string(tree, *item, "name", problems)
            .unwrap_or("")
            .to_string();
        let Some(image_node) = tree.get(*item, "image") else {
            continue;
        };
        if tree.is_null(image_node) {
            // `image:` with no value: nothing to evaluate (kustomize patches, overlays).
            continue;
        }
        let Some(image) = required_string(tree, image_node, "image", problems) else {
            continue;
        };
        out.push(Container {
            name,
            container_type,
            image: image.to_string(),
            image_span: tree.span(image_node),
        });
    }
}

/// Labels and annotations are `map[string]string`: an unquoted `true`, `yes` or `8080` makes
/// the API server refuse the object. The two Binary Authorization break-glass keys are left
/// to the break-glass rules, which check their values and explain the consequence better.
fn check_string_maps(tree: &Tree, meta: NodeId, problems: &mut Vec<Problem>) {
    for field in ["labels", "annotations"] {
        let Some(map) = tree.get(meta, field) else {
            continue;
        };
        if tree.is_null(map) {
            continue;
        }
        if tree.map(map).is_none() {
            problems.push(Problem {
                span: tree.span(map),
                message: format!("`metadata.{field}` must be a mapping of strings"),
            });
            continue;
        }
        for (key, value) in tree.entries(map) {
            let key_text = tree.scalar(key).unwrap_or("");
            if crate::breakglass::validates_value(key_text) {
                continue;
            }
            if tree.string(value).is_some() {
                continue;
            }
            let what = match tree.scalar_kind(value) {
                Some(kind) => {
                    let text = tree.scalar(value).unwrap_or("");
                    let note = if kind == crate::yaml::ScalarKind::Bool {
                        crate::yaml::route_note(text)
                    } else {
                        ""
                    };
                    format!(
                        "the unquoted value `{text}`, which Kubernetes reads as {}{note}",
                        kind.describe()
                    )
                }
                None => "a value that is not a string".to_string(),
            };
            let singular = if field == "labels" {
                "label"
            } else {
                "annotation"
            };
            problems.push(Problem {
                span: tree.span(value),
                message: format!("{singular} `{key_text}` has {what}; {singular} values must be strings, so the API server refuses the object: quote it"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse};

    fn extract_one(text: &str) -> Extraction {
        let tree = parse(text, &Limits::default());
        assert!(tree.error.is_none(), "{:?}", tree.error);
        let root = tree.documents[0].root.unwrap();
        extract(&tree, root, "default")
    }

    #[test]
    fn cronjob_route() {
        let e = extract_one(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ops}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccount: legacy\n          containers: [{name: a, image: 'x:1'}]\n",
        );
        let w = &e.workloads[0];
        assert_eq!((w.name.as_str(), w.namespace.as_str()), ("c", "ops"));
        assert_eq!(w.service_account, "legacy");
        assert_eq!(w.containers[0].image, "x:1");
        assert_eq!(w.containers[0].image_span.start.line, 10);
    }

    #[test]
    fn crd_named_job_is_not_a_workload() {
        let e = extract_one(
            "apiVersion: example.com/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: [{image: x}]\n",
        );
        assert!(e.workloads.is_empty());
    }

    #[test]
    fn malformed_containers_and_images() {
        let e = extract_one(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: 123}\n  - just-a-string\n  initContainers: {a: b}\n",
        );
        let messages: Vec<&str> = e.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(e.problems.len(), 3, "{messages:?}");
        assert!(messages[0].contains("`image` must be a string"));
        assert_eq!(e.workloads.len(), 1);
        assert!(e.workloads[0].containers.is_empty());
    }

    #[test]
    fn lists_are_expanded_in_order() {
        let e = extract_one(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{image: a}]}}\n- {apiVersion: apps/v1, kind: DeploymentList, items: [{apiVersion: apps/v1, kind: Deployment, metadata: {name: b}, spec: {template: {spec: {containers: [{image: b}]}}}}]}\n",
        );
        let names: Vec<&str> = e.workloads.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
    }
}
