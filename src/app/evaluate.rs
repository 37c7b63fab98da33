//! `binauthz-lint evaluate --platform-policy FILE RESOURCE…`: the offline twin of
//! `gcloud beta container binauthz policy evaluate` (contract §15, §17). Every Pod or
//! workload of the resources is one pod result (a workload's pods are named like the
//! workload); the output is the `EvaluateGkePolicyResponse` gcloud prints, with `ERROR` for
//! what only the online evaluation decides.

use std::io::{Read, Write};
use std::path::Path;

use super::cli::{EvaluateArgs, EvaluateFormat};
use super::{Environment, Fatal};
use crate::inputs::discover;
use crate::policy::platform::{
    self, EvalInputs, LoadedPlatformPolicy, PodDescription, PodVerdict, Verdict,
};
use crate::policy::render_diagnostics;
use crate::yaml::{self, Limits};

/// Largest resource file read (manifests are small; the scan's default limit).
const MAX_RESOURCE_BYTES: u64 = 32 * 1024 * 1024;

/// One pod to evaluate.
struct Pod {
    name: String,
    namespace: String,
    service_account: String,
    images: Vec<String>,
}

/// The outcome of `evaluate` once the response is written: its exit code (0: every pod
/// CONFORMANT, else 1) and the policies' warnings.
pub struct Evaluation {
    /// Rendered warnings of the platform policies (for standard error).
    pub diagnostics: String,
    pub code: u8,
}

/// Run `evaluate`; `Err` is exit code 2 (unreadable or invalid input).
pub fn evaluate(
    args: &EvaluateArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<Evaluation, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    let color = env.stderr_color(args.color);
    let mut policies: Vec<LoadedPlatformPolicy> = Vec::new();
    let mut diagnostics = String::new();
    for path in &args.platform_policy {
        let display = discover::display_path(path, &cwd);
        match platform::load_platform_policy_file(path, &display) {
            Ok(loaded) => {
                diagnostics.push_str(&render_diagnostics(
                    &loaded.diagnostics,
                    &loaded.source_text,
                    color,
                ));
                policies.push(loaded);
            }
            Err(err) => {
                let message = if path.exists() {
                    format!("{display}: invalid platform policy")
                } else {
                    format!("{display}: platform policy file not found")
                };
                return Err(Fatal::new(message).after(err.render(color)));
            }
        }
    }
    let store = match &args.attestations {
        None => None,
        Some(path) => Some(
            crate::attest::AttestationStore::load(path)
                .map_err(|e| Fatal::new(format!("invalid --attestations input: {e}")))?,
        ),
    };
    let mut pods = Vec::new();
    if !args.image.is_empty() {
        // gcloud's `--image`: one pod named "" with a container per image.
        pods.push(Pod {
            name: String::new(),
            namespace: String::new(),
            service_account: String::new(),
            images: args.image.clone(),
        });
    }
    let mut stdin_read = false;
    for path in &args.resources {
        let (display, text) = if path.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|e| Fatal::new(format!("cannot read standard input: {e}")))?;
            (crate::report::paths::STDIN_DISPLAY.to_string(), text)
        } else {
            let display = discover::display_path(path, &cwd);
            let text = read_resource(path, &display)?;
            (display, text)
        };
        pods.extend(pods_of(&display, &text, &args.namespace)?);
    }
    if pods.is_empty() {
        return Err(Fatal::new(
            "no Pod or workload with containers in the resources: `evaluate` needs a Kubernetes \
             resource whose pods it can evaluate",
        ));
    }
    let inputs = EvalInputs {
        attestations: store.as_ref(),
        ..EvalInputs::default()
    };
    let mut responses = Vec::with_capacity(policies.len());
    let mut conformant = true;
    for loaded in &policies {
        let verdicts: Vec<PodVerdict> = pods
            .iter()
            .map(|pod| {
                let images: Vec<&str> = pod.images.iter().map(String::as_str).collect();
                if args.image.is_empty() {
                    loaded.policy.evaluate_pod(
                        &pod.namespace,
                        &pod.service_account,
                        &images,
                        &inputs,
                    )
                } else {
                    loaded.policy.evaluate_images(&images, &inputs)
                }
            })
            .collect();
        conformant &= verdicts.iter().all(|v| v.verdict == Verdict::Conformant);
        let described: Vec<PodDescription<'_>> = pods
            .iter()
            .zip(&verdicts)
            .map(|(pod, verdict)| PodDescription {
                name: &pod.name,
                namespace: &pod.namespace,
                service_account: &pod.service_account,
                verdict,
            })
            .collect();
        responses.push(platform::evaluate_response(&described));
    }
    let EvaluateFormat::Json = args.format;
    // One policy: gcloud's response object. Several (gcloud evaluates one per call): the
    // responses in the order of the options.
    let value = match <[serde_json::Value; 1]>::try_from(responses) {
        Ok([single]) => single,
        Err(many) => serde_json::Value::Array(many),
    };
    let mut text = serde_json::to_string_pretty(&value)
        .map_err(|e| Fatal::new(format!("cannot write the response: {e}")))?;
    text.push('\n');
    if let Err(e) = stdout.write_all(text.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Fatal::new(format!("cannot write standard output: {e}")));
    }
    Ok(Evaluation {
        diagnostics,
        code: u8::from(!conformant),
    })
}

fn read_resource(path: &Path, display: &str) -> Result<String, Fatal> {
    crate::inputs::read::read_file(path, MAX_RESOURCE_BYTES)
        .map_err(|reason| Fatal::new(format!("{display}: cannot read the resource ({reason})")))
}

/// Every pod a resource file describes: Pods, and one pod per workload (named like it).
fn pods_of(display: &str, text: &str, namespace: &str) -> Result<Vec<Pod>, Fatal> {
    let tree = yaml::parse_manifest(text, &Limits::default());
    if let Some(err) = &tree.error {
        return Err(Fatal::new(format!(
            "{display}:{}:{}: not a valid resource: {}",
            err.pos.line, err.pos.column, err.message
        )));
    }
    let mut pods = Vec::new();
    for document in &tree.documents {
        let Some(root) = document.root else {
            continue;
        };
        let extraction = crate::extract::extract(&tree, root, namespace);
        if let Some(problem) = extraction.problems.first() {
            return Err(Fatal::new(format!(
                "{display}:{}:{}: {}",
                problem.span.start.line, problem.span.start.column, problem.message
            )));
        }
        for workload in extraction.workloads {
            pods.push(Pod {
                name: workload.name.clone(),
                namespace: workload.namespace.clone(),
                service_account: workload.service_account.clone(),
                images: workload
                    .containers
                    .iter()
                    .map(|c| c.image.clone())
                    .collect(),
            });
        }
    }
    Ok(pods)
}
