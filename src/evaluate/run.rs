//! The scan pipeline: candidates → parallel per-file work → deterministic merge → report.

use crate::evaluate::context::FileContext;
use crate::evaluate::scan::{self, FileResult};
use crate::inputs::discover::{self, Candidate, Candidates};
use crate::inputs::read::read_file;
use crate::policy::Policy;
use crate::report::{Finding, Location, Report, Skipped};
use crate::rules::Level;
use crate::settings::scope::Scopes;
use rayon::prelude::*;

/// Worker stacks: generous, so that even the deepest YAML the limits allow never overflows.
const WORKER_STACK: usize = 16 * 1024 * 1024;

/// The text of one candidate, or the result that says why it is not scanned.
fn read_candidate(
    display: &str,
    candidate: &Candidate,
    stdin_text: Option<&str>,
    max_file_size: u64,
) -> Result<String, FileResult> {
    match candidate {
        Candidate::Skip { reason } => Err(FileResult::skipped(display, reason)),
        Candidate::StdinNotUtf8(at) => Err(FileResult::not_utf8(display, at)),
        Candidate::Stdin => match stdin_text {
            Some(t) => Ok(t.to_string()),
            None => Err(FileResult::skipped(display, "unreadable")),
        },
        // A `.tf` file matters only for its Cloud Run resources (contract §12 item 6): one
        // that is not readable text is not counted, as a `.tf` file without them is not; a
        // too-large one is still reported (it may hide a service).
        Candidate::Read { path, .. }
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tf")) =>
        {
            match read_file(path, max_file_size) {
                Ok(t) => Ok(t),
                Err(reason @ "too-large") => Err(FileResult::skipped(display, reason)),
                Err(_) => Err(FileResult::skipped(
                    display,
                    discover::TERRAFORM_WITHOUT_CLOUD_RUN,
                )),
            }
        }
        Candidate::Read { path, .. } => match read_file(path, max_file_size) {
            Ok(t) if t.contains("{{") => match discover::helm_chart_depth(path) {
                Some(depth) => Err(FileResult::helm_template(display, depth)),
                None => Ok(t),
            },
            Ok(t) => Ok(t),
            // Read again to say where (rare): the error is located like a parse error.
            Err("not-utf8") => Err(std::fs::read(path)
                .ok()
                .and_then(|bytes| crate::inputs::read::find_not_utf8(&bytes))
                .map_or_else(
                    || FileResult::skipped(display, "not-utf8"),
                    |at| FileResult::not_utf8(display, &at),
                )),
            Err(reason) => Err(FileResult::skipped(display, reason)),
        },
    }
}

/// Every scope a candidate is evaluated in (see [`Scopes::indices_for`]).
fn scope_indices(candidate: &Candidate, scopes: &Scopes<'_, '_>) -> Vec<usize> {
    match candidate {
        Candidate::Read { path, .. } => scopes.indices_for(Some(path)),
        _ => scopes.indices_for(None),
    }
}

fn process_candidate(
    display: &str,
    candidate: &Candidate,
    stdin_text: Option<&str>,
    scopes: &Scopes<'_, '_>,
) -> FileResult {
    let indices = scope_indices(candidate, scopes);
    let index = indices.first().copied().unwrap_or(0);
    let scope = scopes.get(index);
    // `helm template … | binauthz-lint scan -`: findings go to the template files.
    if let (Candidate::Stdin, Some(t)) = (candidate, stdin_text)
        && crate::inputs::render::helm::has_source_comments(t)
    {
        let resolve = crate::inputs::render::helm::resolve_from_cwd(&scopes.cwd);
        let mut result = crate::inputs::render::helm::scan_stream(
            display,
            t,
            &scope.settings,
            scope.policy,
            &resolve,
            crate::inputs::render::helm::Fallback::Stream,
        );
        scopes.stamp(index, &mut result.workloads, &mut result.findings);
        return result;
    }
    let text = match read_candidate(display, candidate, stdin_text, scope.settings.max_file_size) {
        Ok(text) => text,
        Err(skipped) => return skipped,
    };
    let path = match candidate {
        Candidate::Read { path, .. } => Some(path.as_path()),
        _ => None,
    };
    scan::scan_in_scopes(display, &text, path, &indices, scopes)
}

/// Every candidate through `work` on a pool of `jobs` threads, largest files first, results
/// in display-path order whatever ran first; a panic in one file becomes `on_panic`.
fn for_each_candidate<R: Send>(
    candidates: &Candidates,
    stdin_text: Option<&str>,
    jobs: usize,
    work: impl Fn(&str, &Candidate) -> R + Sync,
    on_panic: impl Fn(&str, Box<dyn std::any::Any + Send>) -> R + Sync,
) -> Vec<R> {
    let list: Vec<(&String, &Candidate)> = candidates.iter().collect();
    let all = || -> Vec<R> {
        // Largest files first (classic longest-processing-time scheduling): a repository's
        // few huge CRDs must not end up as the last task of one thread while the others idle.
        let sizes: Vec<u64> = list
            .iter()
            .map(|(_, candidate)| match candidate {
                Candidate::Read { size, .. } => *size,
                Candidate::Stdin => stdin_text.map(|t| t.len() as u64).unwrap_or(0),
                Candidate::Skip { .. } | Candidate::StdinNotUtf8(_) => 0,
            })
            .collect();
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(sizes.get(i).copied().unwrap_or(0)));
        let mut done: Vec<(usize, R)> = order
            .par_iter()
            .with_max_len(1)
            .filter_map(|&i| list.get(i).map(|entry| (i, entry)))
            .map(|(i, (display, candidate))| {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(display, candidate)
                }))
                .unwrap_or_else(|panic| on_panic(display, panic));
                (i, result)
            })
            .collect();
        // Back to display-path order: the report is deterministic whatever ran first.
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, result)| result).collect()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .stack_size(WORKER_STACK)
        .build()
    {
        Ok(pool) => pool.install(all),
        Err(_) => all(),
    }
}

/// Run the whole scan. `stdin_text` is the content of `-` when given.
pub fn run(
    candidates: &Candidates,
    stdin_text: Option<&str>,
    scopes: &Scopes<'_, '_>,
    jobs: usize,
) -> Report {
    run_with_rendered(
        candidates,
        stdin_text,
        scopes,
        jobs,
        Vec::new(),
        crate::inputs::render::Prepared::default(),
    )
}

/// [`run`], merged with results made elsewhere: rendered chart roots (`rendered`) and what
/// the kustomizations contribute (`prepared`, from `render::kustomize::prepare`: the
/// candidates it replaces are not read; its results and findings are merged in), in
/// display order.
pub fn run_with_rendered(
    candidates: &Candidates,
    stdin_text: Option<&str>,
    scopes: &Scopes<'_, '_>,
    jobs: usize,
    rendered: Vec<FileResult>,
    prepared: crate::inputs::render::Prepared,
) -> Report {
    let remaining = not_replaced(candidates, &prepared);
    let results = for_each_candidate(
        remaining.as_ref().unwrap_or(candidates),
        stdin_text,
        jobs,
        |display, candidate| {
            let mut result = process_candidate(display, candidate, stdin_text, scopes);
            result.shrink_to_fit();
            result
        },
        internal_error,
    );
    assemble_prepared(
        with_rendered(results, rendered),
        scopes.top().policy,
        prepared,
    )
}

/// The candidates `prepared` does not replace (`None`: all of them).
fn not_replaced(
    candidates: &Candidates,
    prepared: &crate::inputs::render::Prepared,
) -> Option<Candidates> {
    (!prepared.replaced.is_empty()).then(|| {
        candidates
            .iter()
            .filter(|(display, _)| !prepared.replaced.contains_key(*display))
            .map(|(display, candidate)| (display.clone(), candidate.clone()))
            .collect()
    })
}

/// Read results and rendered chart results, in display-path order.
fn with_rendered(results: Vec<FileResult>, rendered: Vec<FileResult>) -> Vec<FileResult> {
    if rendered.is_empty() {
        return results;
    }
    let mut all: Vec<FileResult> = results.into_iter().chain(rendered).collect();
    all.sort_by(|a, b| a.display.cmp(&b.display));
    all
}

/// [`assemble`], with the results `prepared` replaces swapped in and its findings and
/// counts added (`results` in display-path order).
pub fn assemble_prepared(
    mut results: Vec<FileResult>,
    policy: &Policy,
    mut prepared: crate::inputs::render::Prepared,
) -> Report {
    if !prepared.replaced.is_empty() {
        let replaced = std::mem::take(&mut prepared.replaced);
        results.retain(|r| !replaced.contains_key(&r.display));
        results.extend(replaced.into_values());
        results.sort_by(|a, b| a.display.cmp(&b.display));
    }
    let mut report = assemble(results, policy);
    crate::inputs::render::unseen::warn_unseen_roots(
        &prepared.raw_roots,
        &report.workloads,
        &mut prepared.findings,
    );
    if prepared.kustomize_roots > 0 || prepared.rendered_roots > 0 || !prepared.findings.is_empty()
    {
        report.summary.kustomize_roots = Some(prepared.kustomize_roots);
        report.summary.rendered_roots = Some(prepared.rendered_roots);
        report.findings.extend(prepared.findings);
        report.finish();
    }
    report
}

/// `policy diff`: what is evaluated decided as `scan` decides it (`prepared`: rendered
/// charts and the kustomizations' contribution, see `app::scan::prepare_inputs`), then
/// every file read and parsed once and evaluated under two sets of scopes that differ only
/// in their policies; the two reports, in the same order.
pub fn run_pair(
    candidates: &Candidates,
    stdin_text: Option<&str>,
    old: &Scopes<'_, '_>,
    new: &Scopes<'_, '_>,
    jobs: usize,
    (rendered, prepared): (Vec<FileResult>, crate::inputs::render::Prepared),
) -> (Report, Report) {
    let remaining = not_replaced(candidates, &prepared);
    let pairs = for_each_candidate(
        remaining.as_ref().unwrap_or(candidates),
        stdin_text,
        jobs,
        |display, candidate| {
            // `helm template … | binauthz-lint scan -` goes the way `scan` takes it.
            if let (Candidate::Stdin, Some(t)) = (candidate, stdin_text)
                && crate::inputs::render::helm::has_source_comments(t)
            {
                return (
                    process_candidate(display, candidate, stdin_text, old),
                    process_candidate(display, candidate, stdin_text, new),
                );
            }
            let indices = scope_indices(candidate, old);
            let index = indices.first().copied().unwrap_or(0);
            let settings = &old.get(index).settings;
            let text = match read_candidate(display, candidate, stdin_text, settings.max_file_size)
            {
                Ok(text) => text,
                Err(skipped) => return (skipped.clone(), skipped),
            };
            let tree = crate::yaml::parse_manifest(&text, &settings.limits);
            let mut before = FileResult::default();
            let mut after = FileResult::default();
            for &index in &indices {
                let (old_scope, new_scope) = (old.get(index), new.get(index));
                let mut b = scan::scan_tree(display, &text, &tree, &FileContext::of(old_scope));
                let mut a = scan::scan_tree(display, &text, &tree, &FileContext::of(new_scope));
                old.stamp(index, &mut b.workloads, &mut b.findings);
                new.stamp(index, &mut a.workloads, &mut a.findings);
                if before.display.is_empty() {
                    (before, after) = (b, a);
                } else {
                    before.workloads.extend(b.workloads);
                    after.workloads.extend(a.workloads);
                }
            }
            // The diff compares workloads only: drop the findings (snippets, messages) now,
            // so that two reports do not cost twice the memory of one.
            before.findings = Vec::new();
            after.findings = Vec::new();
            before.shrink_to_fit();
            after.shrink_to_fit();
            (before, after)
        },
        |display, panic| {
            let failed = internal_error(display, panic);
            (failed.clone(), failed)
        },
    );
    let (before, after): (Vec<FileResult>, Vec<FileResult>) = pairs.into_iter().unzip();
    let old_prepared = prepared.clone();
    (
        assemble_prepared(
            with_rendered(before, rendered.clone()),
            old.top().policy,
            old_prepared,
        ),
        assemble_prepared(with_rendered(after, rendered), new.top().policy, prepared),
    )
}

fn internal_error(display: &str, panic: Box<dyn std::any::Any + Send>) -> FileResult {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let mut result = FileResult {
        display: display.to_string(),
        ..FileResult::default()
    };
    result.findings.push(Finding::new(
        "internal-error",
        Level::Error,
        format!("internal error while processing this file ({what}); the rest of the scan went on — please report this"),
        Location::file_start(display),
    ));
    result
}

/// Merge per-file results in display-path order into one sorted report.
pub fn assemble(results: Vec<FileResult>, policy: &Policy) -> Report {
    let mut report = Report::new(policy.source());
    report.policy.source = policy.origin().clone();
    // Skipped Helm templates by chart folder: (first template, count), in display order.
    let mut charts: Vec<(String, String, usize)> = Vec::new();
    // One exact allocation each instead of doubling (the old and new buffers of a doubling
    // would be alive at once, at the scan's peak).
    report
        .workloads
        .reserve_exact(results.iter().map(|r| r.workloads.len()).sum());
    report
        .findings
        .reserve_exact(results.iter().map(|r| r.findings.len()).sum());
    for result in results {
        if result.skipped.as_deref() == Some(crate::inputs::discover::TERRAFORM_WITHOUT_CLOUD_RUN) {
            continue;
        }
        report.summary.files += 1;
        report.summary.documents += result.documents;
        if let Some(reason) = result.skipped {
            if reason == "helm-template" {
                let chart = result
                    .helm_chart
                    .map_or_else(|| ".".to_string(), String::from);
                match charts.iter_mut().find(|(c, _, _)| *c == chart) {
                    Some((_, _, count)) => *count += 1,
                    None => charts.push((chart, result.display.clone(), 1)),
                }
            } else if !result.findings.is_empty() {
                // The file says itself why it was not evaluated (not UTF-8: an error).
                report.findings.extend(result.findings);
            } else if !matches!(
                reason.as_str(),
                // Patches and files evaluated through their rendered root are accounted
                // for by the kustomize findings, not file by file.
                "not-a-manifest" | "empty" | "excluded" | "kustomize-patch" | "kustomize-rendered"
            ) {
                // A file too large to read may well hide a workload: not only a note.
                let level = if reason == "too-large" {
                    Level::Warning
                } else {
                    Level::Note
                };
                report.findings.push(Finding::new(
                    "file-skipped",
                    level,
                    skip_message(&reason),
                    Location::file_start(&result.display),
                ));
            }
            report.skipped.push(Skipped {
                file: result.display,
                reason,
            });
            continue;
        }
        report.workloads.extend(result.workloads);
        report.findings.extend(result.findings);
    }
    let findings = helm_skip_findings(&charts, &report.workloads);
    report.findings.extend(findings);
    report.audit_events = crate::report::audit::events(&report.workloads);
    report.finish();
    report
}

/// `helm-template-skipped`: a chart none of whose workloads was evaluated is a warning of
/// its own (a gate that checked nothing of it must not pass: `--render helm` is the fix);
/// the templates of charts that did yield workloads (from plain YAML files beside the
/// templates) share one note, as before. `charts`: (folder, first template, templates).
fn helm_skip_findings(
    charts: &[(String, String, usize)],
    workloads: &[crate::report::WorkloadReport],
) -> Vec<Finding> {
    let evaluated = |chart: &str| {
        workloads.iter().any(|w| {
            chart == "."
                || w.location
                    .file
                    .strip_prefix(chart)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut findings = Vec::new();
    let mut first_seen: Option<&str> = None;
    let mut seen_count = 0usize;
    for (chart, first, count) in charts {
        if evaluated(chart) {
            first_seen.get_or_insert(first);
            seen_count += count;
            continue;
        }
        findings.push(Finding::new(
            "helm-template-skipped",
            Level::Warning,
            format!(
                "Helm chart `{chart}`: {count} template{} skipped (Go template syntax is not YAML until rendered) and no workload of the chart was evaluated, so none of its images was checked; run with `--render helm` (or pipe `helm template RELEASE {chart} | binauthz-lint scan -`)",
                plural(*count)
            ),
            Location::file_start(first),
        ));
    }
    if let Some(first) = first_seen {
        findings.push(Finding::new(
            "helm-template-skipped",
            Level::Note,
            format!(
                "{seen_count} Helm chart template{} skipped (Go template syntax is not YAML until rendered); check the rendered chart with `helm template RELEASE CHART | binauthz-lint scan -`",
                plural(seen_count)
            ),
            Location::file_start(first),
        ));
    }
    findings
}

fn skip_message(reason: &str) -> String {
    match reason {
        "too-large" => "file skipped: larger than --max-file-size, so any workload in it was not checked (raise --max-file-size or split the file)".to_string(),
        "binary" => {
            "file skipped: binary content (a NUL byte), not a YAML or JSON manifest".to_string()
        }
        "not-utf8" => {
            "file skipped: not valid UTF-8 (Kubernetes manifests must be UTF-8)".to_string()
        }
        "not-a-regular-file" => {
            "file skipped: not a regular file (FIFO, socket or device); it was not opened"
                .to_string()
        }
        "symlink-outside-root" => {
            "file skipped: a symlink that leads outside the scanned folder".to_string()
        }
        "symlink-loop" => "file skipped: a symlink loop".to_string(),
        "broken-symlink" => "file skipped: a symlink whose target does not exist".to_string(),
        "unreadable" => "file skipped: it could not be read".to_string(),
        other => format!("file skipped: {other}"),
    }
}

/// Turn policy diagnostics (load-time warnings, `lint_usage` notes) into report findings
/// located in the policy file, with the offending line as snippet.
pub fn add_policy_findings(
    report: &mut Report,
    diagnostics: &[crate::policy::PolicyDiagnostic],
    policy_text: &str,
) {
    use crate::policy::Severity;
    if diagnostics.is_empty() {
        // Nothing added: the report is already sorted and counted.
        return;
    }
    let source = scan::Source {
        display: "",
        text: policy_text,
    };
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Note => Level::Note,
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!(" ({help})"));
        }
        let line = d.line.max(1);
        let column = d.column.max(1);
        let mut finding = Finding::new(
            d.rule_id,
            level,
            message,
            Location {
                file: d.file.clone(),
                line,
                column,
                document: 0,
                end_line: d.end_line.max(line),
                end_column: if d.end_line > d.line {
                    d.end_column.max(1)
                } else {
                    d.end_column.max(column)
                },
            },
        );
        finding.snippet = if d.line > 0 {
            source.line_text(d.line)
        } else {
            None
        };
        report.findings.push(finding);
    }
    report.finish();
}

/// The policy's scope-dependent lint (`policy-unused-pattern`, `policy-unused-rule`) over
/// every image and pod context of a finished scan that `uses_policy` says this policy
/// evaluated (each workload with its own cluster).
pub fn lint_policy_usage(
    report: &Report,
    policy: &Policy,
    uses_policy: impl Fn(&crate::report::WorkloadReport) -> bool,
) -> Vec<crate::policy::PolicyDiagnostic> {
    let workloads: Vec<&crate::report::WorkloadReport> =
        report.workloads.iter().filter(|w| uses_policy(w)).collect();
    let images: Vec<&str> = workloads
        .iter()
        .flat_map(|w| w.images.iter().map(|i| i.image.as_str()))
        .collect();
    let unchecked_files = report
        .skipped
        .iter()
        .filter(|s| {
            !matches!(
                s.reason.as_str(),
                "not-a-manifest" | "empty" | "excluded" | "kustomize-rendered"
            )
        })
        .count();
    // Cloud Run workloads select only the default rule (contract §12.2): they make no
    // specific rule used.
    let contexts: Vec<crate::policy::decision::PodContext<'_>> = workloads
        .iter()
        .filter(|w| w.platform == crate::settings::platform::Platform::Gke)
        .map(|w| crate::policy::decision::PodContext {
            cluster: w.cluster.as_deref(),
            namespace: &w.namespace,
            service_account: &w.service_account,
        })
        .collect();
    let mut diagnostics = policy.lint_usage(&images, &contexts, unchecked_files);
    // Every cluster key this policy was asked about (flag or config contexts), once each.
    let clusters: std::collections::BTreeSet<&str> = workloads
        .iter()
        .filter_map(|w| w.cluster.as_deref())
        .collect();
    diagnostics.extend(
        clusters
            .into_iter()
            .filter_map(|c| policy.cluster_mismatch(c)),
    );
    diagnostics
}

/// `no-manifests`: nothing that was read held a Kubernetes object (an empty standard input
/// from a failed `helm template … |`, an empty folder, a wrong path), so a green run would
/// say nothing. `inputs` are the display forms of the paths given; the warning says what
/// was looked at. It is located at the first input (standard input has no file).
///
/// Files named one by one (`explicit_files`, as pre-commit passes the changed files) are
/// exempt: a commit that only touches a workflow or a values file has nothing to check,
/// and a non-manifest YAML file passes silently as the contract says.
pub fn no_manifests_finding(report: &mut Report, inputs: &[String], explicit_files: bool) {
    if explicit_files || report.summary.files > report.summary.skipped_files {
        return;
    }
    let stdin = inputs
        .iter()
        .any(|i| i == crate::report::paths::STDIN_DISPLAY);
    let looked_at = inputs
        .iter()
        .map(|i| {
            if i == crate::report::paths::STDIN_DISPLAY {
                "standard input".to_string()
            } else {
                format!("`{i}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for skipped in &report.skipped {
        *reasons.entry(skipped.reason.as_str()).or_default() += 1;
    }
    let only_stdin = stdin && inputs.len() == 1;
    let what = if only_stdin && reasons.contains_key("empty") {
        "it is empty".to_string()
    } else if report.summary.files == 0 {
        "no candidate file (`.yaml`, `.yml` or `.json`, not hidden or git-ignored)".to_string()
    } else {
        let counts: Vec<String> = reasons
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        format!(
            "{} read, none holding a Kubernetes object ({})",
            if report.summary.files == 1 {
                "1 file".to_string()
            } else {
                format!("{} files", report.summary.files)
            },
            counts.join(", ")
        )
    };
    let hint = if stdin {
        "; if the manifests are piped in (`helm template … | binauthz-lint scan -`), a failing command upstream leaves the input empty: run the pipeline with `set -o pipefail`"
    } else {
        "; check the paths given"
    };
    let file = inputs.first().cloned().unwrap_or_else(|| ".".to_string());
    report.findings.push(Finding::new(
        "no-manifests",
        Level::Warning,
        format!(
            "no Kubernetes manifests found in {looked_at}: {what}, so nothing was checked{hint}"
        ),
        Location::file_start(&file),
    ));
    report.finish();
}

/// `attestor-missing`: a REQUIRE_ATTESTATION rule decided scanned images, but the definition
/// of one of its attestors was not supplied, so those images are denied. One warning per
/// attestor, at its name in the policy file.
pub fn attestor_missing_findings(
    report: &mut Report,
    policy_display: &str,
    policy_text: &str,
    uses_policy: impl Fn(&crate::report::WorkloadReport) -> bool,
) {
    use std::collections::BTreeMap;
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    for image in report
        .workloads
        .iter()
        .filter(|w| uses_policy(w))
        .flat_map(|w| &w.images)
    {
        for check in &image.verdict.attestors {
            if !check.verified && check.detail == crate::attest::ATTESTOR_NOT_SUPPLIED_DETAIL {
                *missing.entry(check.attestor.clone()).or_default() += 1;
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let source = scan::Source {
        display: policy_display,
        text: policy_text,
    };
    for (attestor, images) in missing {
        // The attestor's name as written in the policy (first occurrence).
        let (line, column) = policy_text
            .lines()
            .enumerate()
            .find_map(|(i, text)| {
                text.find(attestor.as_str())
                    .map(|byte| (i as u32 + 1, text[..byte].chars().count() as u32 + 1))
            })
            .unwrap_or((1, 1));
        let width = attestor.chars().count() as u32;
        let mut finding = Finding::new(
            "attestor-missing",
            Level::Warning,
            format!(
                "the policy requires attestor `{attestor}`, but its definition was not supplied, so {images} image check{} under it {} denied: pass `gcloud container binauthz attestors describe {attestor} --format=json` output with --attestors (and its occurrences with --attestations)",
                if images == 1 { "" } else { "s" },
                if images == 1 { "is" } else { "are" },
            ),
            Location {
                file: policy_display.to_string(),
                line,
                column,
                document: 0,
                end_line: line,
                end_column: column + width,
            },
        );
        finding.snippet = source.line_text(line);
        report.findings.push(finding);
    }
    report.finish();
}
