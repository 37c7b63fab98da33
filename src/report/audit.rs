//! Audit events shaped like the Cloud Audit Logs entries GKE writes for break-glass and
//! dry-run admissions (contract §4), so log-based alerts can be tested offline.

use crate::extract::cloudrun::Resource;
use crate::policy::decision::Decision;
use crate::report::{CloudRunInfo, PolicyDecision, WorkloadReport};
use serde_json::{Map, Value, json};

const LABEL_PREFIX: &str = "imagepolicywebhook.image-policy.k8s.io/";

/// One event per workload whose admission GKE would log as break-glass or dry-run.
/// One event per workload whose admission GKE would log as break-glass or dry-run; each
/// with its own cluster and its policy's project (`projects/PROJECT/policy`; `PROJECT_ID`
/// without).
pub fn events(workloads: &[WorkloadReport]) -> Vec<Value> {
    workloads.iter().filter_map(event).collect()
}

fn event(w: &WorkloadReport) -> Option<Value> {
    let project = w.project.as_deref().unwrap_or("PROJECT_ID");
    let breakglass = w.breakglass.as_ref().is_some_and(|b| b.effective);
    let dryrun = w.policy_decision == PolicyDecision::DryrunDeny;
    // A Cloud Run object whose Binary Authorization is off is never checked, so never logged.
    if (!breakglass && !dryrun) || w.binauthz == Some("off") {
        return None;
    }
    let mut labels = Map::new();
    if breakglass {
        labels.insert(format!("{LABEL_PREFIX}break-glass"), json!("true"));
    }
    if dryrun {
        labels.insert(format!("{LABEL_PREFIX}dry-run"), json!("true"));
    }
    // Not a GKE label: which reviewed exception of the config approves this break-glass, so
    // an alert can tell approved uses from unapproved ones.
    if let Some(id) = w.approved_by.as_deref().filter(|_| breakglass) {
        labels.insert("binauthz-lint/approved-exception".to_string(), json!(id));
    }
    let overridden: String = w
        .images
        .iter()
        .filter(|i| i.verdict.decision == Decision::Deny)
        .map(|i| format!("'{}' : {}\n", i.image, i.denial_message()))
        .collect();
    if !overridden.is_empty() {
        labels.insert(
            format!("{LABEL_PREFIX}overridden-verification-result"),
            json!(overridden),
        );
    }
    let mut resource_labels = Map::new();
    resource_labels.insert("project_id".to_string(), json!(project));
    if let Some(info) = &w.cloud_run {
        return Some(cloud_run_event(w, info, project, resource_labels, labels));
    }
    if let Some((location, name)) = w.cluster.as_deref().and_then(|c| c.split_once('.')) {
        resource_labels.insert("location".to_string(), json!(location));
        resource_labels.insert("cluster_name".to_string(), json!(name));
    }
    let pod_name = if w.name.is_empty() {
        "unnamed".to_string()
    } else {
        w.name.clone()
    };
    let to_map = |pairs: &[(String, String)]| -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    };
    let containers: Vec<Value> = w
        .images
        .iter()
        .map(|i| json!({"name": i.container, "image": i.image}))
        .collect();
    Some(json!({
        "logName": format!("projects/{project}/logs/cloudaudit.googleapis.com%2Factivity"),
        "resource": {"type": "k8s_cluster", "labels": resource_labels},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "k8s.io",
            "methodName": "io.k8s.core.v1.pods.create",
            "resourceName": format!("core/v1/namespaces/{}/pods/{}", w.namespace, pod_name),
            "request": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": w.namespace,
                    "labels": to_map(&w.pod_labels),
                    "annotations": to_map(&w.pod_annotations),
                },
                "spec": {"serviceAccountName": w.service_account, "containers": containers},
            },
            "response": {"status": "Success"},
        },
        "labels": labels,
        "severity": "NOTICE",
        "sourceLocation": {"file": w.location.file, "line": w.location.line, "document": w.location.document},
        "platform": "gke",
    }))
}

/// A Cloud Run deploy's event (contract §12.5): the revision (Service) or job resource, the
/// object as the request, and the justification beside the platform. Cloud Run writes its
/// Binary Authorization events to the system-event audit log.
fn cloud_run_event(
    w: &WorkloadReport,
    info: &CloudRunInfo,
    project: &str,
    mut resource_labels: Map<String, Value>,
    labels: Map<String, Value>,
) -> Value {
    let name = if w.name.is_empty() {
        "unnamed"
    } else {
        &w.name
    };
    let (resource_type, name_label, collection, method) = match info.resource {
        Resource::Service => (
            "cloud_run_revision",
            "service_name",
            "services",
            "google.cloud.run.v1.Services.ReplaceService",
        ),
        Resource::Job => (
            "cloud_run_job",
            "job_name",
            "jobs",
            "google.cloud.run.v1.Jobs.ReplaceJob",
        ),
    };
    resource_labels.insert(name_label.to_string(), json!(name));
    if let Some(region) = &info.region {
        resource_labels.insert("location".to_string(), json!(region));
    }
    let justification = w.breakglass.as_ref().and_then(|b| b.justification());
    let to_map = |pairs: &[(String, String)]| -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    };
    let containers: Vec<Value> = w
        .images
        .iter()
        .map(|i| json!({"name": i.container, "image": i.image}))
        .collect();
    let status = match justification {
        Some(text) => format!("Deployed with breakglass; justification: {text}"),
        None => "Deployed; Binary Authorization dry-run violation audit-logged".to_string(),
    };
    json!({
        "logName": format!("projects/{project}/logs/cloudaudit.googleapis.com%2Fsystem_event"),
        "resource": {"type": resource_type, "labels": resource_labels},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "run.googleapis.com",
            "methodName": method,
            "resourceName": format!("namespaces/{}/{collection}/{name}", w.namespace),
            "request": {
                "apiVersion": w.api_version,
                "kind": w.kind,
                "metadata": {
                    "name": name,
                    "namespace": w.namespace,
                    "labels": to_map(&w.pod_labels),
                    "annotations": to_map(&w.pod_annotations),
                },
                "spec": {"containers": containers},
            },
            "status": {"message": status},
            "response": {"status": "Success"},
        },
        "labels": labels,
        "severity": "NOTICE",
        "sourceLocation": {"file": w.location.file, "line": w.location.line, "document": w.location.document},
        "platform": "cloudrun",
        "justification": justification,
    })
}
