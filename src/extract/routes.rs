//! The kind → pod-template table: for every kind that makes the cluster create Pods, where
//! its pod templates are, where their containers are, and where the pods' labels come from.
//!
//! Each custom kind's route is checked against its published CRD schema or API reference;
//! `docs/crds.md` lists the source of every row. This table is the one place to extend for a
//! new workload kind.

use super::ContainerType;

/// One step from an object towards a pod template.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// A mapping key.
    Key(&'static str),
    /// Every item of a list. In the route an item is named by this string field when it has
    /// one (`[name=workers]`, stable when items are reordered), else by its index (`[0]`).
    Items(&'static str),
    /// Every value of a mapping, named by its key (Kubeflow's `pytorchReplicaSpecs.Worker`).
    Values,
}

/// Where a pod template keeps its pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `PodTemplateSpec`: `metadata` and `spec` (the pod spec).
    Template,
    /// The node reached is the pod spec itself (a Knative Revision's `spec`, a KServe
    /// predictor, an Argo Workflows template, a Tekton Task's `spec`).
    Spec,
}

/// Where the containers of a pod spec are.
#[derive(Clone, Copy, Debug)]
pub enum ContainerSource {
    /// A list of containers at this path of the pod spec.
    List(&'static [&'static str], ContainerType),
    /// One container at this path (Argo Workflows' `container`, `script`); `default_name` is
    /// the container's name when it has no `name` (what the operator calls it).
    One(&'static [&'static str], ContainerType, &'static str),
    /// A bare image string of the pod spec, else `fallback` from the object (Spark's
    /// `driver.image`, else `spec.image`), for the container the operator names `container`.
    Image {
        field: &'static str,
        fallback: &'static [&'static str],
        container: &'static str,
    },
}

/// Where the labels and annotations the created pods get are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelSource {
    /// The pod template's `metadata` (the core kinds, Knative, JobSet, Ray, ...), or an Argo
    /// Workflows template's `metadata`.
    TemplateMetadata,
    /// `labels` / `annotations` directly in the pod spec node (KServe components, KServe
    /// serving runtimes, Spark's `driver` / `executor`).
    Inline,
    /// The object's own `metadata`: the operator copies it to the pods (a bare Pod, a
    /// Kubeflow Notebook, Tekton Tasks and TaskRuns, a Knative Revision, a KServe
    /// InferenceService).
    Object,
    /// A metadata block at this path from the object (Argo Workflows' `spec.podMetadata`).
    Path(&'static [&'static str]),
    /// The object's own labels, but not its annotations (the Kubeflow notebook controller
    /// copies only the Notebook's labels to the pod template).
    ObjectLabels,
}

/// One pod template of a kind.
#[derive(Clone, Copy, Debug)]
pub struct PodRoute {
    pub template: &'static [Step],
    pub shape: Shape,
    pub containers: &'static [ContainerSource],
    /// A `PodSpec` without a `containers` list is not a workload (a kustomize patch, a
    /// `workloadRef` Rollout); other pod specs are workloads when any container source is
    /// written.
    pub requires_containers: bool,
    /// In order: the first is where the break-glass label is suggested.
    pub labels_from: &'static [LabelSource],
    /// After how many steps of `template` the node reached has a `metadata` that does *not*
    /// reach the pods (a CronJob's `spec.jobTemplate.metadata`, a JobSet's Job template).
    pub intermediate_metadata: &'static [usize],
    /// Service-account fields of the object, used when the pod spec names none.
    pub service_account_fallback: &'static [&'static [&'static str]],
    /// Service-account fields of the pod spec, first non-empty wins.
    pub service_account: &'static [&'static str],
}

/// Where a kind keeps its pod templates.
#[derive(Clone, Copy, Debug)]
pub struct PodTemplateRoute {
    pub kind: &'static str,
    /// API groups the kind belongs to (`""` is the core group). A kind is only treated as a
    /// workload under one of these groups, so a CRD that happens to be called `Job` (or a
    /// Knative `Service`) is not a core kind.
    pub groups: &'static [&'static str],
    pub pods: &'static [PodRoute],
}

use ContainerSource::{Image, List, One};
use ContainerType::{Container, InitContainer};
use Step::{Items, Key, Values};

/// A Kubernetes `PodSpec`'s containers.
pub const POD_SPEC_CONTAINERS: &[ContainerSource] = &[
    List(&["containers"], Container),
    List(&["initContainers"], InitContainer),
    List(&["ephemeralContainers"], ContainerType::EphemeralContainer),
];

const POD_SA: &[&str] = &["serviceAccountName", "serviceAccount"];

/// A pod template with a `PodSpec`, labelled from its own metadata.
const fn template(steps: &'static [Step]) -> PodRoute {
    PodRoute {
        template: steps,
        shape: Shape::Template,
        containers: POD_SPEC_CONTAINERS,
        requires_containers: true,
        labels_from: &[LabelSource::TemplateMetadata],
        intermediate_metadata: &[],
        service_account_fallback: &[],
        service_account: POD_SA,
    }
}

const fn with_intermediate(mut route: PodRoute, after: &'static [usize]) -> PodRoute {
    route.intermediate_metadata = after;
    route
}

/// A pod spec reached directly (no PodTemplateSpec around it), labelled from `labels_from`.
const fn spec(
    steps: &'static [Step],
    containers: &'static [ContainerSource],
    labels_from: &'static [LabelSource],
) -> PodRoute {
    PodRoute {
        template: steps,
        shape: Shape::Spec,
        containers,
        requires_containers: false,
        labels_from,
        intermediate_metadata: &[],
        service_account_fallback: &[],
        service_account: POD_SA,
    }
}

const fn kind(
    kind: &'static str,
    groups: &'static [&'static str],
    pods: &'static [PodRoute],
) -> PodTemplateRoute {
    PodTemplateRoute { kind, groups, pods }
}

/// Cloud Run Admin API v2 templates (Config Connector): a `containers` list, no init
/// containers (v2 orders start-up with `dependsOn`).
const CLOUD_RUN_V2_CONTAINERS: &[ContainerSource] = &[List(&["containers"], Container)];

const SPEC_TEMPLATE: &[PodRoute] = &[template(&[Key("spec"), Key("template")])];

const KUBEFLOW: &[&str] = &["kubeflow.org"];
const RAY: &[&str] = &["ray.io"];
const KNATIVE: &[&str] = &["serving.knative.dev"];
const KSERVE: &[&str] = &["serving.kserve.io"];
const ARGO: &[&str] = &["argoproj.io"];
const TEKTON: &[&str] = &["tekton.dev"];
const SPARK: &[&str] = &["sparkoperator.k8s.io"];

/// KServe component (predictor, transformer, explainer): an inline `PodSpec`, plus the
/// model-format containers of a predictor (their image usually comes from a ServingRuntime).
const KSERVE_COMPONENT: &[ContainerSource] = &[
    List(&["containers"], Container),
    List(&["initContainers"], InitContainer),
    One(&["model"], Container, "kserve-container"),
    One(&["sklearn"], Container, "kserve-container"),
    One(&["xgboost"], Container, "kserve-container"),
    One(&["tensorflow"], Container, "kserve-container"),
    One(&["pytorch"], Container, "kserve-container"),
    One(&["triton"], Container, "kserve-container"),
    One(&["onnx"], Container, "kserve-container"),
    One(&["pmml"], Container, "kserve-container"),
    One(&["lightgbm"], Container, "kserve-container"),
    One(&["paddle"], Container, "kserve-container"),
    One(&["huggingface"], Container, "kserve-container"),
    One(&["alibi"], Container, "kserve-container"),
    One(&["art"], Container, "kserve-container"),
];

/// KServe merges the InferenceService's labels with the component's `labels` into the pods'.
const fn kserve_component(steps: &'static [Step]) -> PodRoute {
    spec(
        steps,
        KSERVE_COMPONENT,
        &[LabelSource::Inline, LabelSource::Object],
    )
}

/// KServe ServingRuntime / ClusterServingRuntime: `spec` is a `ServingRuntimePodSpec`
/// (containers, and the `labels` / `annotations` KServe adds to the pods).
const KSERVE_RUNTIME: &[PodRoute] = &[spec(
    &[Key("spec")],
    &[
        List(&["containers"], Container),
        List(&["initContainers"], InitContainer),
    ],
    &[LabelSource::Inline],
)];

/// Argo Workflows template: the main `container` or `script`, a `containerSet`, init
/// containers and sidecars. Labels: `metadata` of the template, and the workflow's
/// `podMetadata`.
const ARGO_TEMPLATE: &[ContainerSource] = &[
    One(&["container"], Container, "main"),
    One(&["script"], Container, "main"),
    List(&["containerSet", "containers"], Container),
    List(&["initContainers"], InitContainer),
    List(&["sidecars"], Container),
];

const fn argo_templates(
    steps: &'static [Step],
    pod_metadata: &'static [LabelSource],
    service_account: &'static [&'static [&'static str]],
) -> PodRoute {
    PodRoute {
        template: steps,
        shape: Shape::Spec,
        containers: ARGO_TEMPLATE,
        requires_containers: false,
        labels_from: pod_metadata,
        intermediate_metadata: &[],
        service_account_fallback: service_account,
        service_account: &["serviceAccountName"],
    }
}

const ARGO_WORKFLOW_TEMPLATES: &[PodRoute] = &[argo_templates(
    &[Key("spec"), Key("templates"), Items("name")],
    &[
        LabelSource::TemplateMetadata,
        LabelSource::Path(&["spec", "podMetadata"]),
    ],
    &[&["spec", "serviceAccountName"]],
)];

/// Tekton Task spec: `steps` and `sidecars` (one pod per TaskRun).
const TEKTON_TASK: &[ContainerSource] =
    &[List(&["steps"], Container), List(&["sidecars"], Container)];

const TEKTON_EMBEDDED_LABELS: &[LabelSource] =
    &[LabelSource::Object, LabelSource::TemplateMetadata];

/// Spark's driver or executor pod: its `image` (else the application's), init containers
/// and sidecars, labelled from its own `labels` / `annotations`.
const fn spark(steps: &'static [Step], containers: &'static [ContainerSource]) -> PodRoute {
    PodRoute {
        template: steps,
        shape: Shape::Spec,
        containers,
        requires_containers: false,
        labels_from: &[LabelSource::Inline],
        intermediate_metadata: &[],
        service_account_fallback: &[],
        service_account: &["serviceAccount"],
    }
}

const fn spark_containers(
    fallback: &'static [&'static str],
    container: &'static str,
) -> [ContainerSource; 3] {
    [
        Image {
            field: "image",
            fallback,
            container,
        },
        List(&["initContainers"], InitContainer),
        List(&["sidecars"], Container),
    ]
}

const SPARK_DRIVER: &[ContainerSource] =
    &spark_containers(&["spec", "image"], "spark-kubernetes-driver");
const SPARK_EXECUTOR: &[ContainerSource] =
    &spark_containers(&["spec", "image"], "spark-kubernetes-executor");
const SCHEDULED_SPARK_DRIVER: &[ContainerSource] =
    &spark_containers(&["spec", "template", "image"], "spark-kubernetes-driver");
const SCHEDULED_SPARK_EXECUTOR: &[ContainerSource] =
    &spark_containers(&["spec", "template", "image"], "spark-kubernetes-executor");

const ANALYSIS_JOB: &[PodRoute] = &[with_intermediate(
    template(&[
        Key("spec"),
        Key("metrics"),
        Items("name"),
        Key("provider"),
        Key("job"),
        Key("spec"),
        Key("template"),
    ]),
    &[5],
)];

/// The kind → pod-template table.
pub const POD_TEMPLATE_ROUTES: &[PodTemplateRoute] = &[
    // A bare Pod is its own template.
    kind("Pod", &[""], &[template(&[])]),
    kind("Deployment", &["apps", "extensions"], SPEC_TEMPLATE),
    kind("ReplicaSet", &["apps", "extensions"], SPEC_TEMPLATE),
    kind("StatefulSet", &["apps"], SPEC_TEMPLATE),
    kind("DaemonSet", &["apps", "extensions"], SPEC_TEMPLATE),
    kind("Job", &["batch"], SPEC_TEMPLATE),
    kind(
        "CronJob",
        &["batch"],
        &[with_intermediate(
            template(&[
                Key("spec"),
                Key("jobTemplate"),
                Key("spec"),
                Key("template"),
            ]),
            &[2],
        )],
    ),
    kind("ReplicationController", &[""], SPEC_TEMPLATE),
    kind("PodTemplate", &[""], &[template(&[Key("template")])]),
    // Argo Rollouts: same shape as a Deployment (a `workloadRef` rollout has no template: it
    // scales the referenced Deployment, which is evaluated itself).
    kind("Rollout", ARGO, SPEC_TEMPLATE),
    // OpenShift DeploymentConfig.
    kind(
        "DeploymentConfig",
        &["apps.openshift.io", ""],
        SPEC_TEMPLATE,
    ),
    // Argo Rollouts Experiment: ReplicaSets from `spec.templates[].template`.
    kind(
        "Experiment",
        ARGO,
        &[template(&[
            Key("spec"),
            Key("templates"),
            Items("name"),
            Key("template"),
        ])],
    ),
    // Argo Rollouts analysis Job metrics: `provider.job` is a JobTemplateSpec.
    kind("AnalysisTemplate", ARGO, ANALYSIS_JOB),
    kind("ClusterAnalysisTemplate", ARGO, ANALYSIS_JOB),
    kind("AnalysisRun", ARGO, ANALYSIS_JOB),
    // Cloud Run (`cloudrun.rs` reads the Binary Authorization setting): a Job as
    // `gcloud run jobs replace` takes it (execution template → task template), and Config
    // Connector's RunService / RunJob (Admin API v2 templates: containers inline).
    kind(
        "Job",
        &["run.googleapis.com"],
        &[with_intermediate(
            template(&[Key("spec"), Key("template"), Key("spec"), Key("template")]),
            &[2],
        )],
    ),
    kind(
        "RunService",
        &["run.cnrm.cloud.google.com"],
        &[spec(
            &[Key("spec"), Key("template")],
            CLOUD_RUN_V2_CONTAINERS,
            &[LabelSource::Inline],
        )],
    ),
    kind(
        "RunJob",
        &["run.cnrm.cloud.google.com"],
        &[spec(
            &[Key("spec"), Key("template"), Key("template")],
            CLOUD_RUN_V2_CONTAINERS,
            &[LabelSource::Inline],
        )],
    ),
    // Knative Serving (a Service is Cloud Run's when `cloudrun.rs` says so).
    kind("Service", KNATIVE, SPEC_TEMPLATE),
    kind("Configuration", KNATIVE, SPEC_TEMPLATE),
    kind(
        "Revision",
        KNATIVE,
        &[PodRoute {
            requires_containers: true,
            ..spec(&[Key("spec")], POD_SPEC_CONTAINERS, &[LabelSource::Object])
        }],
    ),
    // KServe.
    kind(
        "InferenceService",
        KSERVE,
        &[
            kserve_component(&[Key("spec"), Key("predictor")]),
            kserve_component(&[Key("spec"), Key("transformer")]),
            kserve_component(&[Key("spec"), Key("explainer")]),
            // Multi-node serving: worker pods from `predictor.workerSpec` (an inline
            // PodSpec), labelled like the predictor.
            spec(
                &[Key("spec"), Key("predictor"), Key("workerSpec")],
                &[
                    List(&["containers"], Container),
                    List(&["initContainers"], InitContainer),
                ],
                &[
                    LabelSource::Path(&["spec", "predictor"]),
                    LabelSource::Object,
                ],
            ),
        ],
    ),
    kind("ServingRuntime", KSERVE, KSERVE_RUNTIME),
    kind("ClusterServingRuntime", KSERVE, KSERVE_RUNTIME),
    // KubeRay.
    kind(
        "RayCluster",
        RAY,
        &[
            template(&[Key("spec"), Key("headGroupSpec"), Key("template")]),
            template(&[
                Key("spec"),
                Key("workerGroupSpecs"),
                Items("groupName"),
                Key("template"),
            ]),
        ],
    ),
    kind(
        "RayJob",
        RAY,
        &[
            template(&[
                Key("spec"),
                Key("rayClusterSpec"),
                Key("headGroupSpec"),
                Key("template"),
            ]),
            template(&[
                Key("spec"),
                Key("rayClusterSpec"),
                Key("workerGroupSpecs"),
                Items("groupName"),
                Key("template"),
            ]),
            template(&[Key("spec"), Key("submitterPodTemplate")]),
        ],
    ),
    kind(
        "RayService",
        RAY,
        &[
            template(&[
                Key("spec"),
                Key("rayClusterConfig"),
                Key("headGroupSpec"),
                Key("template"),
            ]),
            template(&[
                Key("spec"),
                Key("rayClusterConfig"),
                Key("workerGroupSpecs"),
                Items("groupName"),
                Key("template"),
            ]),
        ],
    ),
    // JobSet: each replicated Job's template is a JobTemplateSpec, whose own metadata stays
    // on the Job.
    kind(
        "JobSet",
        &["jobset.x-k8s.io"],
        &[with_intermediate(
            template(&[
                Key("spec"),
                Key("replicatedJobs"),
                Items("name"),
                Key("template"),
                Key("spec"),
                Key("template"),
            ]),
            &[4],
        )],
    ),
    // LeaderWorkerSet.
    kind(
        "LeaderWorkerSet",
        &["leaderworkerset.x-k8s.io"],
        &[
            template(&[
                Key("spec"),
                Key("leaderWorkerTemplate"),
                Key("leaderTemplate"),
            ]),
            template(&[
                Key("spec"),
                Key("leaderWorkerTemplate"),
                Key("workerTemplate"),
            ]),
        ],
    ),
    // Kubeflow training operator (v1) and MPI operator: `<x>ReplicaSpecs.<Role>.template`.
    kind(
        "PyTorchJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("pytorchReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "TFJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("tfReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "MPIJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("mpiReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "XGBoostJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("xgbReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "PaddleJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("paddleReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "MXJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("mxReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    kind(
        "JAXJob",
        KUBEFLOW,
        &[template(&[
            Key("spec"),
            Key("jaxReplicaSpecs"),
            Values,
            Key("template"),
        ])],
    ),
    // Kubeflow Notebook: `spec.template` has only a `spec`; the controller copies the
    // Notebook's own labels to the pod template.
    kind(
        "Notebook",
        KUBEFLOW,
        &[PodRoute {
            labels_from: &[LabelSource::ObjectLabels],
            ..template(&[Key("spec"), Key("template")])
        }],
    ),
    // Spark operator: driver and executor are not PodTemplateSpecs.
    kind(
        "SparkApplication",
        SPARK,
        &[
            spark(&[Key("spec"), Key("driver")], SPARK_DRIVER),
            spark(&[Key("spec"), Key("executor")], SPARK_EXECUTOR),
        ],
    ),
    kind(
        "ScheduledSparkApplication",
        SPARK,
        &[
            spark(
                &[Key("spec"), Key("template"), Key("driver")],
                SCHEDULED_SPARK_DRIVER,
            ),
            spark(
                &[Key("spec"), Key("template"), Key("executor")],
                SCHEDULED_SPARK_EXECUTOR,
            ),
        ],
    ),
    // Argo Workflows: one pod per container / script / containerSet template.
    kind("Workflow", ARGO, ARGO_WORKFLOW_TEMPLATES),
    kind("WorkflowTemplate", ARGO, ARGO_WORKFLOW_TEMPLATES),
    kind("ClusterWorkflowTemplate", ARGO, ARGO_WORKFLOW_TEMPLATES),
    kind(
        "CronWorkflow",
        ARGO,
        &[argo_templates(
            &[
                Key("spec"),
                Key("workflowSpec"),
                Key("templates"),
                Items("name"),
            ],
            &[
                LabelSource::TemplateMetadata,
                LabelSource::Path(&["spec", "workflowSpec", "podMetadata"]),
            ],
            &[&["spec", "workflowSpec", "serviceAccountName"]],
        )],
    ),
    // Tekton Pipelines: labels propagate Task → TaskRun → Pod and Pipeline → PipelineRun →
    // TaskRun → Pod; an embedded task spec's `metadata` reaches its pod too.
    kind(
        "Task",
        TEKTON,
        &[spec(&[Key("spec")], TEKTON_TASK, &[LabelSource::Object])],
    ),
    kind(
        "ClusterTask",
        TEKTON,
        &[spec(&[Key("spec")], TEKTON_TASK, &[LabelSource::Object])],
    ),
    kind(
        "TaskRun",
        TEKTON,
        &[PodRoute {
            service_account_fallback: &[&["spec", "serviceAccountName"]],
            ..spec(
                &[Key("spec"), Key("taskSpec")],
                TEKTON_TASK,
                &[LabelSource::Object],
            )
        }],
    ),
    kind(
        "Pipeline",
        TEKTON,
        &[
            spec(
                &[Key("spec"), Key("tasks"), Items("name"), Key("taskSpec")],
                TEKTON_TASK,
                TEKTON_EMBEDDED_LABELS,
            ),
            spec(
                &[Key("spec"), Key("finally"), Items("name"), Key("taskSpec")],
                TEKTON_TASK,
                TEKTON_EMBEDDED_LABELS,
            ),
        ],
    ),
    kind(
        "PipelineRun",
        TEKTON,
        &[
            spec(
                &[
                    Key("spec"),
                    Key("pipelineSpec"),
                    Key("tasks"),
                    Items("name"),
                    Key("taskSpec"),
                ],
                TEKTON_TASK,
                TEKTON_EMBEDDED_LABELS,
            ),
            spec(
                &[
                    Key("spec"),
                    Key("pipelineSpec"),
                    Key("finally"),
                    Items("name"),
                    Key("taskSpec"),
                ],
                TEKTON_TASK,
                TEKTON_EMBEDDED_LABELS,
            ),
        ],
    ),
];

/// Kinds that hold pod specs (or containers with images) but never make the cluster create
/// a pod: requests, records and allowlists about pods. The inferred route (`detected`) must
/// not take them for workloads, or a repository of policy-engine test samples or Autopilot
/// allowlists would be full of denials for pods that never exist. `docs/crds.md` lists
/// each row's source.
pub const NOT_WORKLOAD_KINDS: &[(&str, &str)] = &[
    // An API server → admission webhook request: `request.object` is the pod under review.
    // Policy engines (Kyverno, Gatekeeper, Kubewarden) keep them as test samples.
    ("admission.k8s.io", "AdmissionReview"),
    // A Kubernetes audit-log entry: `requestObject` / `responseObject` copy the pod.
    ("audit.k8s.io", "Event"),
    ("audit.k8s.io", "EventList"),
    // The ImagePolicyWebhook request (`spec.containers[].image`): what the enforcer is asked,
    // not a pod.
    ("imagepolicy.k8s.io", "ImageReview"),
    // A controller's saved revision of a DaemonSet or StatefulSet template (`data`): the
    // pods come from the owning workload.
    ("apps", "ControllerRevision"),
    // GKE Autopilot privileged-workload allowlists: `matchingCriteria.containers` (or
    // `spec.containers`) describe which pods Autopilot may admit.
    ("auto.gke.io", "WorkloadAllowlist"),
    ("auto.gke.io", "AllowlistedWorkload"),
    // Kyverno's background requests copy the admission request (and its object).
    ("kyverno.io", "UpdateRequest"),
];

/// True for a kind of [`NOT_WORKLOAD_KINDS`] under its API group.
pub fn creates_no_pods(group: &str, kind: &str) -> bool {
    listed(NOT_WORKLOAD_KINDS, group, kind)
}

/// Whether `(group, kind)` is a row of `kinds`.
fn listed(kinds: &[(&str, &str)], group: &str, kind: &str) -> bool {
    kinds.iter().any(|(g, k)| *g == group && *k == kind)
}

/// Built-in kinds whose schema has no pod spec anywhere (and the CustomResourceDefinition,
/// whose schema only describes one): the inferred route never applies to them, so their
/// objects — a repository's many ConfigMaps, Services and Secrets, its huge CRDs — are not
/// walked node by node. The API server refuses a `containers` list in any of them (an
/// unknown field), so nothing is lost.
const NO_POD_SPEC_KINDS: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "Namespace"),
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
];

/// True for a built-in kind of [`NO_POD_SPEC_KINDS`] under its API group.
pub fn has_no_pod_spec(group: &str, kind: &str) -> bool {
    listed(NO_POD_SPEC_KINDS, group, kind)
}
