//! `scan`: discover, render, evaluate, compare (exceptions, fingerprints, PR mode or a
//! baseline), write every requested report, and say whether the run fails.

use super::cli::{FailOn, Format, RenderMode, SarifSuppressed, ScanArgs};
use super::output::{RenderContext, append_to, write_report, write_to};
use super::plan::{BaseFile, Plan, Side, build_plan, load_config};
use super::{Environment, Fatal};
use crate::compare::baseline::Baseline;
use crate::evaluate::run;
use crate::inputs::discover;
use crate::report::Report;
use crate::report::paths::{self, RepoPaths};
use crate::rules::Level;
use crate::settings::config::{Config, Date};
use crate::settings::scope::Scopes;
use std::io::{self, Read, Write};
use std::path::Path;

/// Two outputs to one file would leave only the last one written, silently.
fn check_distinct_outputs(args: &ScanArgs, cwd: &Path) -> Result<(), Fatal> {
    let outputs = [
        ("-o/--output", &args.output),
        ("--json", &args.json),
        ("--sarif", &args.sarif),
        ("--audit-log", &args.audit_log),
    ];
    let given: Vec<(&str, &Path, std::path::PathBuf)> = outputs
        .iter()
        .filter_map(|(option, path)| {
            path.as_deref()
                .map(|p| (*option, p, paths::normalize(&cwd.join(p))))
        })
        .collect();
    for (i, (first, path, normalized)) in given.iter().enumerate() {
        if let Some((second, _, _)) = given.iter().skip(i + 1).find(|(_, _, n)| n == normalized) {
            return Err(Fatal::new(format!(
                "{first} and {second} both name {}: give each report its own file",
                path.display()
            )));
        }
    }
    Ok(())
}

/// `-j` (default: the cores); the global pool (parallel JSON/SARIF rendering) honours it too.
pub(super) fn jobs(args: &ScanArgs) -> usize {
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global();
    jobs
}

/// The candidate files (the config's `exclude` applied) and standard input's text.
pub(super) fn inputs(
    args: &ScanArgs,
    stdin: &mut dyn Read,
    cwd: &Path,
    config: Option<&Config>,
    jobs: usize,
) -> Result<(discover::Candidates, Option<String>), Fatal> {
    let mut candidates =
        discover::discover(&args.paths, cwd, jobs).map_err(|e| Fatal::new(e.to_string()))?;
    if let Some(config) = config {
        exclude(&mut candidates, config, cwd);
    }
    // `--terraform-plan FILE`: read like an explicit file; `ScanSettings::terraform_plans`
    // tells the per-file work to read it as a plan (contract §12 item 6).
    for plan in &args.terraform_plan {
        let extra = discover::discover(std::slice::from_ref(plan), cwd, 1)
            .map_err(|e| Fatal::new(format!("--terraform-plan {e}")))?;
        candidates.extend(extra);
    }
    let stdin_text = if args.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        stdin
            .take(args.max_file_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Fatal::new(format!("cannot read standard input: {e}")))?;
        // Standard input is judged like a file with the same bytes: too large, binary, or
        // not UTF-8 (an error at the first bad byte), never a vague "unreadable".
        let not_utf8 = crate::inputs::read::find_not_utf8(&bytes);
        let too_large = bytes.len() as u64 > args.max_file_size;
        let refused = match crate::inputs::read::decode_text(bytes) {
            Ok(text) if !too_large => return Ok((candidates, Some(text))),
            Ok(_) => discover::Candidate::Skip {
                reason: "too-large",
            },
            Err("not-utf8") => match not_utf8 {
                Some(at) => discover::Candidate::StdinNotUtf8(Box::new(at)),
                None => discover::Candidate::Skip { reason: "not-utf8" },
            },
            Err(reason) => discover::Candidate::Skip { reason },
        };
        if let Some(candidate) = candidates.get_mut(crate::report::paths::STDIN_DISPLAY) {
            *candidate = refused;
        }
        None
    } else {
        None
    };
    Ok((candidates, stdin_text))
}

/// Everything a scan evaluates, before exceptions, fingerprints and PR-mode comparison: the
/// report and what it was evaluated with.
struct Evaluated {
    report: Report,
    plan: Plan,
    config: Option<Config>,
}

/// Whether `tool` (Kustomize or Helm) renders: `--render` decides, else the config's
/// `render:`.
fn render_wanted(args: &ScanArgs, config: Option<&Config>, tool: RenderMode) -> bool {
    args.render_flag(tool).unwrap_or_else(|| {
        config.is_some_and(|c| match tool {
            RenderMode::Kustomize => c.render.kustomize,
            RenderMode::Helm => c.render.helm,
            RenderMode::All => c.render.kustomize || c.render.helm,
            RenderMode::None => false,
        })
    })
}

/// Whether any renderer runs.
pub(super) fn renders(args: &ScanArgs, config: Option<&Config>) -> bool {
    render_wanted(args, config, RenderMode::Kustomize)
        || render_wanted(args, config, RenderMode::Helm)
}

/// What is evaluated, decided once for `scan` and `policy diff` alike (so both see the same
/// workloads): the charts `--render helm` renders (their files leave `candidates`), and what
/// the kustomizations contribute — patches that are never workloads, rendered roots, the
/// roots scanned raw.
pub(super) fn prepare_inputs(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    scopes: &Scopes<'_, '_>,
    candidates: &mut discover::Candidates,
    jobs: usize,
) -> Result<
    (
        Vec<crate::evaluate::scan::FileResult>,
        crate::inputs::render::Prepared,
    ),
    Fatal,
> {
    let render = render_options(args, config, jobs)?;
    let rendered = render_helm_roots(args, cwd, config, scopes, candidates, jobs)?;
    let prepared = crate::inputs::render::kustomize::prepare(candidates, cwd, scopes, &render);
    Ok((rendered, prepared))
}

/// What decided the verdicts, said where a user might not expect it (issue 27, points 6 and
/// 13): the built-in allow-all policy (no `--policy`, no config policy), and a `--policy`
/// that replaces the policies the config gives its contexts. Nothing when a policy was
/// given and nothing was overridden, so such output stays as it was.
fn policy_notices(
    report: &Report,
    plan: &Plan,
    args: &ScanArgs,
    config: Option<&Config>,
    cwd: &Path,
) -> Vec<String> {
    let mut notices = Vec::new();
    let builtin = report
        .workloads
        .iter()
        .filter(|w| {
            plan.scopes
                .get(w.scope_index)
                .and_then(|s| plan.policies.get(s.policy_index))
                .is_some_and(|p| !p.explicit)
        })
        .count();
    if builtin > 0 {
        notices.push(format!(
            "the built-in default policy (ALWAYS_ALLOW: every image is admitted) decided {} — no `--policy` or config `policy:` was given; pass your project's policy (`gcloud container binauthz policy export`) to check against it",
            if builtin == 1 {
                "1 workload".to_string()
            } else {
                format!("{builtin} workloads")
            }
        ));
    }
    if let (Some(policy), Some(config)) = (&args.policy, config) {
        let given = paths::normalize(&cwd.join(policy));
        let mut replaced: Vec<String> = config
            .contexts
            .iter()
            .filter(|c| c.policy.as_ref().is_some_and(|p| p.path != given))
            .map(|c| format!("`{}`", c.name))
            .collect();
        if config.policy.as_ref().is_some_and(|p| p.path != given) {
            replaced.insert(0, "the top level".to_string());
        }
        if !replaced.is_empty() {
            notices.push(format!(
                "--policy {} replaces the policy that {} ({}) names: every workload was evaluated under it",
                discover::display_path(policy, cwd),
                config.display,
                replaced.join(", ")
            ));
        }
    }
    notices
}

/// Render what `--render` / the config asks for (Helm charts, Kustomize roots), then scan
/// the rest: one report. The rendered charts' files leave `candidates`.
pub(super) fn render_and_run(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    scopes: &Scopes<'_, '_>,
    candidates: &mut discover::Candidates,
    stdin_text: Option<&str>,
    jobs: usize,
) -> Result<Report, Fatal> {
    let (rendered, prepared) = prepare_inputs(args, cwd, config, scopes, candidates, jobs)?;
    Ok(run::run_with_rendered(
        candidates, stdin_text, scopes, jobs, rendered, prepared,
    ))
}

/// Discover, render, evaluate: the scan of one tree (the work tree, or in PR mode with
/// rendering the base commit exported to a temporary folder), with `cwd` as given.
fn evaluate(
    args: &ScanArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    cwd: &Path,
    side: Side<'_>,
    jobs: usize,
) -> Result<Evaluated, Fatal> {
    let cwd = cwd.to_path_buf();
    let config = load_config(args, env, &cwd)?;
    let mut plan = build_plan(args, env, &cwd, config.as_ref(), side)?;
    let (mut candidates, stdin_text) = inputs(args, stdin, &cwd, config.as_ref(), jobs)?;
    let descriptors = super::discovery::attach(args, &cwd, config.as_ref(), &candidates, &mut plan);
    let scopes = plan.scopes(config.as_ref(), &cwd);
    let mut report = render_and_run(
        args,
        &cwd,
        config.as_ref(),
        &scopes,
        &mut candidates,
        stdin_text.as_deref(),
        jobs,
    )?;
    let inputs: Vec<String> = args
        .paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                paths::STDIN_DISPLAY.to_string()
            } else {
                discover::display_path(p, &cwd)
            }
        })
        .collect();
    let explicit_files = args
        .paths
        .iter()
        .any(|p| p.as_os_str() != "-" && !p.is_dir());
    run::no_manifests_finding(&mut report, &inputs, explicit_files);
    super::discovery::add_findings(&mut report, descriptors.as_deref());
    policy_passes(&mut report, &plan);
    report.summary.config = config.as_ref().map(|c| c.display.clone());
    report.policy_notices = policy_notices(&report, &plan, args, config.as_ref(), &cwd);
    drop(scopes);
    Ok(Evaluated {
        report,
        plan,
        config,
    })
}

/// `scan`: exit code 0 (nothing at or above `--fail-on`) or 1; `Err` is exit code 2.
/// `stdin` is read when a path is `-`; reports without a file go to `stdout`.
pub fn scan(
    args: &ScanArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<u8, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    scan_in(args, env, stdin, stdout, &cwd).inspect_err(|fatal| {
        super::plan::github_policy_error(args, env, &cwd, fatal, stdout);
    })
}

fn scan_in(
    args: &ScanArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    cwd: &Path,
) -> Result<u8, Fatal> {
    check_distinct_outputs(args, cwd)?;
    let jobs = jobs(args);
    let Evaluated {
        mut report,
        plan,
        config,
    } = evaluate(args, env, stdin, cwd, Side::Head, jobs)?;

    let stdout_is_terminal = env.stdout_is_terminal && args.output.is_none();
    let context = RenderContext {
        color: env.color(args.color, stdout_is_terminal),
        verbose: args.verbose,
        paths: RepoPaths::new(cwd, &paths::scan_root(&args.paths, cwd)),
        sarif_include_suppressed: args.sarif_suppressed == SarifSuppressed::Include,
    };
    if let Some(config) = &config {
        let today = args.today.unwrap_or_else(Date::today_utc);
        let whole_tree = covers_folder(&args.paths, cwd, &config.dir);
        crate::settings::exceptions::apply(&mut report, config, today, cwd, whole_tree);
    }
    report.assign_fingerprints(&context.paths);
    if let Some(rev) = args.since.as_deref().filter(|rev| *rev != "none") {
        let (mut base_report, policy_changed, config_changed) = if renders(args, config.as_ref()) {
            scan_base_rendered(args, env, cwd, rev, config.as_ref(), &plan, jobs)?
        } else {
            scan_base(args, env, cwd, rev, config.as_ref(), &plan)?
        };
        base_report.assign_fingerprints(&context.paths);
        Baseline::from_report(&base_report).apply(&mut report);
        let policy_display = plan.top_policy_display();
        crate::compare::baseline::explain_new(
            &mut report,
            &base_report,
            crate::compare::baseline::SideChanges {
                policy_changed,
                config_changed,
                policy_display: &policy_display,
                config_display: config.as_ref().map(|c| c.display.as_str()),
            },
        );
    } else if let Some(path) = &args.baseline {
        Baseline::load(path).map_err(Fatal::new)?.apply(&mut report);
    }
    write_report(
        &report,
        args.format,
        &context,
        args.output.as_deref(),
        stdout,
    )?;
    if let Some(path) = &args.json {
        write_report(&report, Format::Json, &context.plain(), Some(path), stdout)?;
    }
    if let Some(path) = &args.sarif {
        write_report(&report, Format::Sarif, &context.plain(), Some(path), stdout)?;
    }
    if args.format == Format::Github {
        // The job summary of a GitHub Actions step (appended, as the runner expects).
        if let Some(path) = &env.step_summary {
            append_to(path, |out| {
                crate::report::github::step_summary(&report, &context.github(), out)
            })?;
        }
    }
    if let Some(path) = &args.audit_log {
        write_to(Some(path), stdout, |out| {
            for event in &report.audit_events {
                serde_json::to_writer(&mut *out, event).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        })?;
    }
    let threshold = match args.fail_on {
        Some(FailOn::Error) => Some(Level::Error),
        Some(FailOn::Warning) => Some(Level::Warning),
        Some(FailOn::Note) => Some(Level::Note),
        Some(FailOn::Never) => None,
        None => config
            .as_ref()
            .and_then(|c| c.fail_on)
            .map_or(Some(Level::Warning), |f| f.threshold()),
    };
    let failed = matches!((threshold, report.max_level()), (Some(t), Some(max)) if max >= t);
    // The process exits next: freeing a report of tens of thousands of workloads one string
    // at a time would only delay the exit.
    std::mem::forget(report);
    Ok(u8::from(failed))
}

/// `--render helm` / config `render.helm` (contract §9): every application chart root
/// among the candidates rendered with `helm template`; the files a rendered root consumes
/// leave the raw scan.
fn render_helm_roots(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    scopes: &Scopes<'_, '_>,
    candidates: &mut discover::Candidates,
    jobs: usize,
) -> Result<Vec<crate::evaluate::scan::FileResult>, Fatal> {
    use crate::inputs::render::helm;
    if !render_wanted(args, config, RenderMode::Helm) {
        return Ok(Vec::new());
    }
    let roots = helm::chart_roots(candidates);
    let program = std::path::PathBuf::from("helm");
    let options = helm::HelmOptions {
        program: &program,
        timeout: std::time::Duration::from_secs(args.render_timeout.max(1)),
        max_output: args.max_file_size,
        cwd,
    };
    let rendered = helm::render_roots(
        &roots,
        |root| {
            let chart_dir = paths::normalize(&cwd.join(&root.dir));
            let values = config
                .map(|c| c.render.values_for(&chart_dir))
                .unwrap_or_default();
            // Once per scope the chart falls in: a chart two descriptors release is
            // rendered with each one's values (contract §14).
            let mut merged: Option<crate::evaluate::scan::FileResult> = None;
            for index in scopes.indices_for(Some(&root.chart_file)) {
                let scope = scopes.get(index);
                let release = super::discovery::release_settings(scopes, index, &chart_dir);
                let mut result = helm::render_release(
                    root,
                    values,
                    &release,
                    &scope.settings,
                    scope.policy,
                    &options,
                )?;
                scopes.stamp(index, &mut result.workloads, &mut result.findings);
                match &mut merged {
                    None => merged = Some(result),
                    Some(all) => {
                        all.workloads.extend(result.workloads);
                        all.findings
                            .extend(result.findings.into_iter().filter(|f| f.workload.is_some()));
                    }
                }
            }
            Ok(merged.unwrap_or_default())
        },
        jobs,
    )
    .map_err(|e| Fatal::new(e.to_string()))?;
    Ok(helm::take_rendered(candidates, rendered))
}

/// `--render` (or the config's `render:`), the kustomize command and the per-root timeout.
fn render_options(
    args: &ScanArgs,
    config: Option<&Config>,
    jobs: usize,
) -> Result<crate::inputs::render::RenderOptions, Fatal> {
    let mut options = crate::inputs::render::RenderOptions {
        kustomize: render_wanted(args, config, RenderMode::Kustomize),
        // The command line only: never the config (contract §9, issue 27).
        remote: args.render_remote,
        timeout: std::time::Duration::from_secs(args.render_timeout.max(1)),
        jobs,
        ..Default::default()
    };
    if let Some(command) = &args.kustomize_command {
        let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return Err(Fatal::new("--kustomize-command is empty".to_string()));
        }
        // Contract §9: exec and container plugins are never enabled.
        if let Some(flag) = words.iter().find(|w| {
            let name = w.split('=').next().unwrap_or("");
            matches!(
                name,
                "--enable-alpha-plugins"
                    | "--enable-exec"
                    | "--enable-star"
                    | "--network"
                    | "--mount"
            )
        }) {
            return Err(Fatal::new(format!(
                "--kustomize-command: `{flag}` would let kustomize run plugins; binauthz-lint never enables exec or container plugins"
            )));
        }
        options.kustomize_command = words;
    }
    Ok(options)
}

/// True when one of the scanned paths is `dir` or a folder above it.
fn covers_folder(scanned: &[std::path::PathBuf], cwd: &Path, dir: &Path) -> bool {
    scanned
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .any(|p| dir.starts_with(paths::normalize(&cwd.join(p))))
}

/// `exclude:` of the config: matching files are counted as skipped (`excluded`), not read.
fn exclude(candidates: &mut discover::Candidates, config: &Config, cwd: &Path) {
    for candidate in candidates.values_mut() {
        if let discover::Candidate::Read { path, .. } = candidate {
            let abs = paths::normalize(&cwd.join(&*path));
            if config.is_excluded(&abs) {
                *candidate = discover::Candidate::Skip { reason: "excluded" };
            }
        }
    }
}

/// Each policy's own findings: usage lint, validation warnings, attestors it lacks — over
/// the workloads that policy evaluated.
fn policy_passes(report: &mut Report, plan: &Plan) {
    for (index, input) in plan.policies.iter().enumerate() {
        let uses = |w: &crate::report::WorkloadReport| {
            plan.scopes
                .get(w.scope_index)
                .is_some_and(|s| s.policy_index == index)
        };
        let mut diagnostics = input.diagnostics.clone();
        if input.explicit {
            diagnostics.extend(run::lint_policy_usage(report, &input.policy, uses));
        }
        run::add_policy_findings(report, &diagnostics, &input.text);
        if input.explicit {
            run::attestor_missing_findings(report, &input.display, &input.text, uses);
        }
    }
    // Platform policies (contract §15): their warnings, and the summary's `cv*` counts,
    // present only when one is given.
    for input in &plan.platform {
        run::add_policy_findings(report, &input.diagnostics, &input.text);
    }
    if plan.has_platform() {
        report.summary.cv_non_conformant = Some(0);
        report.summary.cv_undecided = Some(0);
        report.finish();
    }
}

/// PR mode with rendering: the base commit's tree is exported (from git objects, no checkout)
/// into a temporary folder outside the repository, and scanned there exactly as the work
/// tree is — rendered with the same tools, its own config and policies where they live in
/// the repository. Report paths are the same as the head's, because the scan runs in the
/// export's copy of the current directory.
fn scan_base_rendered(
    args: &ScanArgs,
    env: &Environment,
    cwd: &Path,
    rev: &str,
    head_config: Option<&Config>,
    head_plan: &Plan,
    jobs: usize,
) -> Result<(Report, bool, bool), Fatal> {
    let base = crate::compare::prmode::BaseTree::open(rev, &args.paths, cwd)
        .map_err(|e| Fatal::new(e.to_string()))?;
    let export = base
        .export(args.max_file_size)
        .map_err(|e| Fatal::new(e.to_string()))?;
    let top = paths::normalize(&base.repo.toplevel);
    let inside = |path: &Path| -> std::path::PathBuf {
        let abs = paths::normalize(&cwd.join(path));
        match abs.strip_prefix(&top) {
            Ok(rel) => export.root().join(rel),
            Err(_) => abs,
        }
    };
    let base_cwd = inside(cwd);
    let mut base_args = args.clone();
    base_args.paths = args.paths.iter().map(|p| inside(p)).collect();
    for path in [
        &mut base_args.policy,
        &mut base_args.inputs.system_policy,
        &mut base_args.inputs.attestors,
        &mut base_args.inputs.attestations,
    ]
    .into_iter()
    .flatten()
    {
        *path = inside(path);
    }
    if let Some(config) = &args.config {
        let mapped = inside(config);
        // A config the change adds: the base had none.
        if mapped.starts_with(export.root()) && !mapped.exists() {
            base_args.no_config = true;
            base_args.config = None;
        } else {
            base_args.config = Some(mapped);
        }
    }
    // A policy the change adds judges the base too (as without rendering).
    if let (Some(head_policy), Some(mapped)) = (&args.policy, &base_args.policy)
        && !mapped.exists()
    {
        base_args.policy = Some(paths::normalize(&cwd.join(head_policy)));
    }
    // Standard input belongs to the head side (already read).
    let evaluated = evaluate(
        &base_args,
        env,
        &mut io::empty(),
        &base_cwd,
        Side::Head,
        jobs,
    )?;
    let policy_changed = evaluated.plan.policy_texts() != head_plan.policy_texts();
    let config_changed =
        evaluated.config.as_ref().map(|c| c.text.as_str()) != head_config.map(|c| c.text.as_str());
    Ok((evaluated.report, policy_changed, config_changed))
}

/// PR mode: the full report of the merge base of REV and HEAD, read from git objects. A
/// policy or config file inside the repository is read from the base commit too (so a PR
/// that tightens the policy shows what it newly denies); one outside is shared by both
/// sides. Also says whether a policy differs between the two sides.
fn scan_base(
    args: &ScanArgs,
    env: &Environment,
    cwd: &Path,
    rev: &str,
    head_config: Option<&Config>,
    head_plan: &Plan,
) -> Result<(Report, bool, bool), Fatal> {
    let base = crate::compare::prmode::BaseTree::open(rev, &args.paths, cwd)
        .map_err(|e| Fatal::new(e.to_string()))?;
    let side = Side::Base(&base);
    // A config inside the repository is read per side; one the change adds means the base
    // had none (its new contexts are part of what the change introduces); one outside the
    // repository is shared by both sides.
    let color = env.stderr_color(args.color);
    let (base_config, shared) = match head_config {
        None => (None, None),
        Some(config) => match side.lookup(&config.file, cwd)? {
            BaseFile::Outside => (None, Some(config)),
            BaseFile::Absent => (None, None),
            BaseFile::Text(text) => {
                let loaded =
                    Config::from_text(text, &config.file, &config.display, cwd).map_err(|err| {
                        Fatal::new(format!(
                            "{}: invalid config (at the base commit)",
                            config.display
                        ))
                        .after(err.render(color))
                    })?;
                (Some(loaded), None)
            }
        },
    };
    let config = base_config.as_ref().or(shared);
    let mut plan = build_plan(args, env, cwd, config, side)?;
    // The base's own descriptors, read from its tree: a change to a descriptor (another
    // cluster, another path) shows as what it changes.
    if let Some((root, _, _)) = &head_plan.derived {
        super::discovery::attach_base(args, cwd, config, &base, root, &mut plan)?;
    }
    let policy_changed = plan.policy_texts() != head_plan.policy_texts();
    let scopes = plan.scopes(config, cwd);
    let mut report = base
        .scan(cwd, &scopes)
        .map_err(|e| Fatal::new(e.to_string()))?;
    policy_passes(&mut report, &plan);
    let descriptors = plan.derived.as_ref().map(|(_, d, _)| d.as_ref());
    super::discovery::add_findings(&mut report, descriptors);
    let config_changed = config.map(|c| c.text.as_str()) != head_config.map(|c| c.text.as_str());
    Ok((report, policy_changed, config_changed))
}
