//! Kubernetes objects: which kinds carry a pod template, where it lives, and extraction of
//! the pod's identity (namespace, service account), metadata and containers.
//!
//! The route table below is the one place to extend for a new workload kind.

pub mod cloudrun;
pub mod cloudrun_terraform;
pub mod routes;

pub const LABEL_KEY: &str = "image-policy.k8s.io/break-glass";
pub const LEGACY_ANNOTATION_KEY: &str = "alpha.image-policy.k8s.io/break-glass";

/// The keys whose values the break-glass rules check (`breakglass-ineffective` reports an
/// unquoted or non-`"true"` value); other validators leave these keys alone.
pub fn validates_value(key: &str) -> bool {
    key == LABEL_KEY || key == LEGACY_ANNOTATION_KEY
}

use crate::yaml::{NodeId, Span, Tree};
pub use routes::{
    ContainerSource, LabelSource, POD_SPEC_CONTAINERS, POD_TEMPLATE_ROUTES, PodRoute,
    PodTemplateRoute, Shape, Step,
};

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

/// A workload: one pod template of an object (or a Pod), resolved for admission.
#[derive(Clone, Debug)]
pub struct Workload {
    pub object: Object,
    /// The route from the object to this pod template as written, e.g. `spec.template` or
    /// `spec.replicatedJobs[name=workers].template.spec.template` (empty for a bare Pod).
    pub route: String,
    /// For a kind the table does not know: where the pod spec was found, and its span (the
    /// workload's route is reported as `detected`).
    pub detected_at: Option<(String, Span)>,
    pub name: String,
    pub namespace: String,
    pub service_account: String,
    /// The object's own `metadata` mapping.
    pub object_metadata: Option<NodeId>,
    /// The metadata blocks whose labels and annotations the pods get (the pod template's
    /// `metadata`; the object's own for a Pod, a Notebook or a Tekton Task, ...).
    pub pod_metadata: Vec<NodeId>,
    /// Those of `pod_metadata` whose annotations do not reach the pods (only their labels
    /// are copied), with the place of those annotations as messages name it.
    pub annotations_not_copied: Vec<(NodeId, String)>,
    /// Metadata blocks of the workload that do *not* reach the pods, with their place as the
    /// break-glass messages name it.
    pub other_metadata: Vec<(NodeId, String)>,
    /// Where the break-glass label belongs, as the fix in messages says it.
    pub breakglass_place: String,
    pub containers: Vec<Container>,
    /// Set when the object is a Cloud Run service or job (contract §12): its platform is
    /// Cloud Run, with this setting and these justifications.
    pub cloud_run: Option<cloudrun::CloudRun>,
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
    extract_with(
        tree,
        root,
        default_namespace,
        crate::settings::platform::PlatformSetting::Auto,
    )
}

/// [`extract`], with the config's `platform:` deciding how a Knative `Service` is read.
pub fn extract_with(
    tree: &Tree,
    root: NodeId,
    default_namespace: &str,
    platform: crate::settings::platform::PlatformSetting,
) -> Extraction {
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
        // Requests, records and allowlists about pods are not pods (see the table).
        if routes::creates_no_pods(api_group(&object.api_version), &object.kind) {
            continue;
        }
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
        match route_for(&object.api_version, &object.kind) {
            Some(route) => {
                let mut state = ObjectState::default();
                let cloud_run = cloudrun::classify(tree, &object, platform);
                for pod in route.pods {
                    for instance in instances(tree, node, pod.template) {
                        if let Some(w) = workload(
                            tree,
                            &object,
                            pod,
                            instance,
                            default_namespace,
                            &mut state,
                            &mut out.problems,
                        ) {
                            out.workloads.push(Workload {
                                cloud_run: cloud_run.clone(),
                                ..w
                            });
                        }
                    }
                }
            }
            None if routes::has_no_pod_spec(api_group(&object.api_version), &object.kind) => {}
            None => detect(tree, &object, default_namespace, &mut out),
        }
    }
    out
}

/// A pod template reached by following a route: the node, its route as written, and the
/// nodes passed on the way (`chain[i]` after `i` steps, with its route).
struct Instance {
    node: NodeId,
    route: String,
    chain: Vec<(NodeId, String)>,
}

fn join_key(route: &str, key: &str) -> String {
    if route.is_empty() {
        key.to_string()
    } else {
        format!("{route}.{key}")
    }
}

/// Every node a route reaches, in document order. Missing steps end a branch silently (a
/// Ray cluster without worker groups, a training job without a `Worker` role).
fn instances(tree: &Tree, object: NodeId, steps: &[Step]) -> Vec<Instance> {
    let mut current = vec![Instance {
        node: object,
        route: String::new(),
        chain: vec![(object, String::new())],
    }];
    for step in steps {
        let mut next = Vec::new();
        for instance in current {
            let mut push = |node: NodeId, route: String| {
                let mut chain = instance.chain.clone();
                chain.push((node, route.clone()));
                next.push(Instance { node, route, chain });
            };
            match step {
                Step::Key(key) => {
                    if let Some(child) = tree.get(instance.node, key) {
                        push(child, join_key(&instance.route, key));
                    }
                }
                Step::Items(name_field) => {
                    for (index, item) in tree
                        .seq(instance.node)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        let label = tree
                            .get(*item, name_field)
                            .and_then(|n| tree.string(n))
                            .map(|name| format!("[{name_field}={name}]"))
                            .unwrap_or_else(|| format!("[{index}]"));
                        push(*item, format!("{}{label}", instance.route));
                    }
                }
                Step::Values => {
                    for (key, value) in tree.entries(instance.node) {
                        let Some(key) = tree.scalar(key) else {
                            continue;
                        };
                        push(value, join_key(&instance.route, key));
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// The object's name and namespace, resolved once per object (its metadata is checked once
/// even when it has several pod templates).
struct Identity {
    name: String,
    namespace: String,
}

#[derive(Default)]
struct ObjectState {
    identity: Option<Identity>,
    checked: Vec<NodeId>,
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
    object: &Object,
    pod: &PodRoute,
    instance: Instance,
    default_namespace: &str,
    state: &mut ObjectState,
    problems: &mut Vec<Problem>,
) -> Option<Workload> {
    let node = object.node;
    let object_metadata = tree
        .get(node, "metadata")
        .filter(|m| tree.map(*m).is_some());
    let template = instance.node;
    if tree.map(template).is_none() {
        if !tree.is_null(template) {
            let what = match pod.shape {
                Shape::Template => "pod template",
                Shape::Spec => "pod spec",
            };
            problems.push(Problem {
                span: tree.span(template),
                message: format!("the {what} `{}` must be a mapping", instance.route),
            });
        }
        return None;
    }
    let pod_spec = match pod.shape {
        Shape::Template => {
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
            pod_spec
        }
        Shape::Spec => template,
    };
    if pod.requires_containers {
        // A workload is an object whose pod spec has a `containers` list (a kustomize patch
        // or a `workloadRef` Rollout without one is not evaluated).
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
    } else if !pod
        .containers
        .iter()
        .any(|source| source_present(tree, node, pod_spec, source))
    {
        // An Argo `steps` / `dag` template, a Tekton task given by reference: no pod here.
        return None;
    }
    let mut pod_metadata: Vec<NodeId> = Vec::new();
    let mut annotations_not_copied = Vec::new();
    for source in pod.labels_from {
        let meta = match source {
            LabelSource::TemplateMetadata => tree.get(template, "metadata"),
            LabelSource::Inline => Some(pod_spec),
            LabelSource::Object | LabelSource::ObjectLabels => object_metadata,
            LabelSource::Path(path) => tree.path(node, path),
        };
        if let Some(meta) = meta.filter(|m| tree.map(*m).is_some())
            && !pod_metadata.contains(&meta)
        {
            pod_metadata.push(meta);
            if *source == LabelSource::ObjectLabels {
                annotations_not_copied.push((
                    meta,
                    format!(
                        "the {}'s own annotations (its controller copies only the labels)",
                        object.kind
                    ),
                ));
            }
        }
    }
    let mut other_metadata = Vec::new();
    if let Some(meta) = object_metadata.filter(|m| !pod_metadata.contains(m)) {
        other_metadata.push((meta, format!("the {}'s own metadata", object.kind)));
    }
    for after in pod.intermediate_metadata {
        if let Some((step_node, step_route)) = instance.chain.get(*after)
            && let Some(meta) = tree.get(*step_node, "metadata")
        {
            other_metadata.push((meta, format!("`{step_route}.metadata`")));
        }
    }
    // Each metadata block is checked once per object, however many pod templates share it.
    for meta in [object_metadata]
        .into_iter()
        .flatten()
        .chain(pod_metadata.iter().copied())
    {
        if !state.checked.contains(&meta) {
            state.checked.push(meta);
            check_string_maps(tree, meta, problems);
        }
    }
    if state.identity.is_none() {
        state.identity = Some(object_identity(
            tree,
            object_metadata,
            default_namespace,
            problems,
        ));
    }
    let identity = state.identity.as_ref()?;
    let service_account = pod
        .service_account
        .iter()
        .find_map(|field| {
            optional_string(tree, pod_spec, field, problems).filter(|s| !s.is_empty())
        })
        .or_else(|| {
            pod.service_account_fallback.iter().find_map(|path| {
                let (parent, field) = path.split_last().map(|(f, p)| (p, *f))?;
                let parent = tree.path(node, parent)?;
                optional_string(tree, parent, field, problems).filter(|s| !s.is_empty())
            })
        })
        .unwrap_or("default")
        .to_string();
    let mut containers = Vec::new();
    for source in pod.containers {
        collect_source(tree, node, pod_spec, source, &mut containers, problems);
    }
    let breakglass_place = breakglass_place(object, pod, &instance.route);
    Some(Workload {
        object: object.clone(),
        route: instance.route,
        detected_at: None,
        name: identity.name.clone(),
        namespace: identity.namespace.clone(),
        service_account,
        object_metadata,
        pod_metadata,
        annotations_not_copied,
        other_metadata,
        breakglass_place,
        containers,
        cloud_run: None,
    })
}

/// The route reported for a workload whose kind is not in the table.
pub const DETECTED_ROUTE: &str = "detected";

/// A kind the table does not know: every mapping with a `containers` list holding a
/// container with an `image` string is taken as a pod spec (its metadata and status
/// aside), so that no image goes unevaluated without a word. Malformed parts of an unknown
/// kind are not reported: its schema is not known.
fn detect(tree: &Tree, object: &Object, default_namespace: &str, out: &mut Extraction) {
    let mut ignored = Vec::new();
    // The walk records each node's step from its parent; a route string is only built for
    // the pod specs found (most objects of unknown kinds are CRDs, ConfigMaps, ...).
    let mut steps: Vec<(usize, PathStep<'_>)> = Vec::new();
    let mut pending: Vec<(NodeId, usize, Option<NodeId>)> = Vec::new();
    for (key, value) in tree.entries(object.node).into_iter().rev() {
        match tree.scalar(key) {
            Some("metadata" | "status" | "apiVersion" | "kind") | None => {}
            Some(key) => {
                steps.push((usize::MAX, PathStep::Key(key)));
                pending.push((value, steps.len() - 1, Some(object.node)));
            }
        }
    }
    let object_metadata = tree
        .get(object.node, "metadata")
        .filter(|m| tree.map(*m).is_some());
    let mut identity = None;
    // Aliases share nodes, so a walk can meet far more nodes than the text has: bounded.
    let mut budget: u32 = 200_000;
    while let Some((node, step, parent)) = pending.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        if let Some(items) = tree.seq(node) {
            for (index, item) in items.iter().enumerate().rev() {
                steps.push((step, PathStep::Index(index)));
                pending.push((*item, steps.len() - 1, None));
            }
            continue;
        }
        if tree.map(node).is_none() {
            continue;
        }
        if holds_containers(tree, node) {
            let identity = identity.get_or_insert_with(|| {
                object_identity(tree, object_metadata, default_namespace, &mut ignored)
            });
            let route = render_path(&steps, step);
            // A `PodTemplateSpec` shape: the pod spec under `spec` beside a `metadata`.
            let template_metadata = parent
                .filter(|_| matches!(steps[step].1, PathStep::Key("spec")))
                .and_then(|p| tree.get(p, "metadata"))
                .filter(|m| tree.map(*m).is_some() && Some(*m) != object_metadata);
            let breakglass_place = match template_metadata {
                Some(_) => format!(
                    "the pod template's `{}metadata.labels`",
                    route.strip_suffix("spec").unwrap_or("")
                ),
                None => {
                    "the pods' labels (where this kind's operator takes them from is not known)"
                        .to_string()
                }
            };
            let service_account = ["serviceAccountName", "serviceAccount"]
                .iter()
                .find_map(|f| {
                    optional_string(tree, node, f, &mut ignored).filter(|s| !s.is_empty())
                })
                .unwrap_or("default")
                .to_string();
            let mut containers = Vec::new();
            for source in POD_SPEC_CONTAINERS {
                collect_source(
                    tree,
                    object.node,
                    node,
                    source,
                    &mut containers,
                    &mut ignored,
                );
            }
            out.workloads.push(Workload {
                object: object.clone(),
                route: DETECTED_ROUTE.to_string(),
                detected_at: Some((route, tree.span(node))),
                name: identity.name.clone(),
                namespace: identity.namespace.clone(),
                service_account,
                object_metadata,
                pod_metadata: template_metadata.into_iter().collect(),
                annotations_not_copied: Vec::new(),
                other_metadata: Vec::new(),
                breakglass_place,
                containers,
                cloud_run: None,
            });
        }
        for (key, value) in tree.entries(node).into_iter().rev() {
            match tree.scalar(key) {
                Some("containers" | "initContainers" | "ephemeralContainers") | None => {}
                Some(key) => {
                    steps.push((step, PathStep::Key(key)));
                    pending.push((value, steps.len() - 1, Some(node)));
                }
            }
        }
    }
}

/// One step of a path found by [`detect`].
#[derive(Clone, Copy)]
enum PathStep<'t> {
    Key(&'t str),
    Index(usize),
}

/// `spec.runner[0].template.spec` from the recorded steps.
fn render_path(steps: &[(usize, PathStep<'_>)], mut at: usize) -> String {
    let mut chain = Vec::new();
    while let Some((parent, step)) = steps.get(at) {
        chain.push(*step);
        at = *parent;
    }
    let mut out = String::new();
    for step in chain.iter().rev() {
        match step {
            PathStep::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathStep::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// A `containers` list with at least one container that has an `image` string.
fn holds_containers(tree: &Tree, node: NodeId) -> bool {
    tree.get(node, "containers")
        .and_then(|list| tree.seq(list))
        .unwrap_or_default()
        .iter()
        .any(|item| {
            tree.get(*item, "image")
                .and_then(|i| tree.string(i))
                .is_some()
        })
}

fn object_identity(
    tree: &Tree,
    object_metadata: Option<NodeId>,
    default_namespace: &str,
    problems: &mut Vec<Problem>,
) -> Identity {
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
    Identity { name, namespace }
}

/// Where the break-glass label must go for this pod template, as messages say it.
fn breakglass_place(object: &Object, pod: &PodRoute, route: &str) -> String {
    if object.kind == "CronJob" && route == "spec.jobTemplate.spec.template" {
        return format!("`{route}.metadata.labels`");
    }
    match pod.labels_from.first() {
        Some(LabelSource::TemplateMetadata) if route.is_empty() => {
            format!("the {}'s `metadata.labels`", object.kind)
        }
        Some(LabelSource::TemplateMetadata) if pod.shape == Shape::Template => {
            format!("the pod template's `{route}.metadata.labels`")
        }
        Some(LabelSource::TemplateMetadata) => format!("`{route}.metadata.labels`"),
        Some(LabelSource::Inline) => format!("`{route}.labels`"),
        Some(LabelSource::Path(path)) => format!("`{}.labels`", path.join(".")),
        Some(LabelSource::Object | LabelSource::ObjectLabels) | None => {
            format!("the {}'s own `metadata.labels`", object.kind)
        }
    }
}

/// True when a container source has something written at it.
fn source_present(tree: &Tree, object: NodeId, pod_spec: NodeId, source: &ContainerSource) -> bool {
    let present = |node: Option<NodeId>| node.is_some_and(|n| !tree.is_null(n));
    match source {
        ContainerSource::List(path, _) | ContainerSource::One(path, _, _) => {
            present(tree.path(pod_spec, path))
        }
        ContainerSource::Image {
            field, fallback, ..
        } => present(tree.get(pod_spec, field)) || present(tree.path(object, fallback)),
    }
}

fn collect_source(
    tree: &Tree,
    object: NodeId,
    pod_spec: NodeId,
    source: &ContainerSource,
    out: &mut Vec<Container>,
    problems: &mut Vec<Problem>,
) {
    match source {
        ContainerSource::List(path, container_type) => {
            collect_containers(tree, pod_spec, path, *container_type, out, problems)
        }
        ContainerSource::One(path, container_type, default_name) => {
            let Some(node) = tree.path(pod_spec, path) else {
                return;
            };
            if tree.is_null(node) {
                return;
            }
            let field = path.join(".");
            if tree.map(node).is_none() {
                problems.push(Problem {
                    span: tree.span(node),
                    message: format!("`{field}` must be a mapping (a container)"),
                });
                return;
            }
            container(tree, node, *container_type, default_name, out, problems);
        }
        ContainerSource::Image {
            field,
            fallback,
            container,
        } => {
            let image_node = tree
                .get(pod_spec, field)
                .filter(|n| !tree.is_null(*n))
                .or_else(|| tree.path(object, fallback).filter(|n| !tree.is_null(*n)));
            let Some(image_node) = image_node else {
                return;
            };
            let Some(image) = required_string(tree, image_node, "image", problems) else {
                return;
            };
            out.push(Container {
                name: container.to_string(),
                container_type: ContainerType::Container,
                image: image.to_string(),
                image_span: tree.span(image_node),
            });
        }
    }
}

fn collect_containers(
    tree: &Tree,
    pod_spec: NodeId,
    path: &[&str],
    container_type: ContainerType,
    out: &mut Vec<Container>,
    problems: &mut Vec<Problem>,
) {
    let Some(list) = tree.path(pod_spec, path) else {
        return;
    };
    let field = path.join(".");
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
        container(tree, *item, container_type, "", out, problems);
    }
}

fn container(
    tree: &Tree,
    item: NodeId,
    container_type: ContainerType,
    default_name: &str,
    out: &mut Vec<Container>,
    problems: &mut Vec<Problem>,
) {
    let name = optional_string(tree, item, "name", problems)
        .unwrap_or(default_name)
        .to_string();
    let Some(image_node) = tree.get(item, "image") else {
        return;
    };
    if tree.is_null(image_node) {
        // `image:` with no value: nothing to evaluate (kustomize patches, overlays).
        return;
    }
    let Some(image) = required_string(tree, image_node, "image", problems) else {
        return;
    };
    out.push(Container {
        name,
        container_type,
        image: image.to_string(),
        image_span: tree.span(image_node),
    });
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
            if validates_value(key_text) {
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
    fn crd_named_job_is_not_a_batch_job() {
        let e = extract_one(
            "apiVersion: example.com/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: [{image: x}]\n",
        );
        assert_eq!(e.workloads.len(), 1);
        assert_eq!(e.workloads[0].route, DETECTED_ROUTE);
        let (path, _) = e.workloads[0].detected_at.clone().unwrap();
        assert_eq!(path, "spec.template.spec");
    }

    #[test]
    fn detected_pod_specs_are_named_by_their_path() {
        let e = extract_one(
            "apiVersion: example.com/v1\nkind: Fleet\nmetadata: {name: f}\nspec:\n  runners:\n  - {pod: {containers: [{image: a}]}}\n  - pod:\n      serviceAccountName: robot\n      containers: [{name: b, image: b}]\n",
        );
        let found: Vec<(String, &str)> = e
            .workloads
            .iter()
            .map(|w| (w.detected_at.clone().unwrap().0, w.service_account.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("spec.runners[0].pod".to_string(), "default"),
                ("spec.runners[1].pod".to_string(), "robot")
            ]
        );
        assert!(e.workloads.iter().all(|w| w.pod_metadata.is_empty()));
    }

    #[test]
    fn unknown_kind_without_images_is_not_a_workload() {
        let e = extract_one(
            "apiVersion: example.com/v1\nkind: Thing\nspec:\n  containers: [{name: a}]\n  other: {containers: {a: b}}\n",
        );
        assert!(e.workloads.is_empty());
        assert!(e.problems.is_empty());
    }

    #[test]
    fn list_and_map_routes_name_each_template() {
        let e = extract_one(
            "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata: {name: t, labels: {a: b}}\nspec:\n  pytorchReplicaSpecs:\n    Master: {template: {spec: {containers: [{name: pytorch, image: m}]}}}\n    Worker: {template: {spec: {containers: [{name: pytorch, image: w}]}}}\n",
        );
        let routes: Vec<&str> = e.workloads.iter().map(|w| w.route.as_str()).collect();
        assert_eq!(
            routes,
            vec![
                "spec.pytorchReplicaSpecs.Master.template",
                "spec.pytorchReplicaSpecs.Worker.template"
            ]
        );
        assert!(e.problems.is_empty());
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
