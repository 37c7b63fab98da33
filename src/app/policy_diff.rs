//! `policy diff OLD NEW [PATH]...`: the manifests evaluated under both policies, and every
//! workload whose decision changes.

use super::cli::{Format, PolicyDiffArgs, ScanArgs};
use super::output::{append_to, write_to};
use super::plan::{FixedPolicy, PolicyInput, Side, build_plan_with, load_config};
use super::scan::{inputs, jobs, prepare_inputs, render_and_run, renders};
use super::{Environment, Fatal};
use crate::evaluate::run;
use crate::inputs::discover;
use crate::policy;
use crate::report::paths::{self, RepoPaths};
use std::io::{self, Read, Write};
use std::path::Path;

/// `policy OLD NEW` input: a file, else `REV:path` read from git objects.
fn load_diff_policy(spec: &str, cwd: &Path, color: bool) -> Result<PolicyInput, Fatal> {
    let file = Path::new(spec);
    // A file or folder of any policy source, optionally `#ADDRESS` (contract §13).
    let source = policy::SourceSpec::parse(file, spec, Path::exists);
    let (display, loaded) = if source.path.exists() {
        let display = discover::display_path(file, cwd);
        let loaded = policy::load_policy_file(file, &display);
        (display, loaded)
    } else if let Some((rev, path)) = spec.split_once(':').filter(|(rev, _)| !rev.is_empty()) {
        let repo =
            crate::inputs::git::Repo::discover(cwd).map_err(|e| Fatal::new(e.to_string()))?;
        let commit = repo.commit(rev).map_err(|e| Fatal::new(e.to_string()))?;
        let rel = path.trim_start_matches("./");
        let source = policy::SourceSpec::parse(Path::new(rel), rel, |_| false);
        let files = RevFiles {
            repo: &repo,
            commit: &commit,
        };
        let found = policy::sources::SourceFiles::tf_files(&files, &source.path)
            .map_err(Fatal::new)?
            .is_some()
            || policy::sources::SourceFiles::read(&files, &source.path)
                .map_err(Fatal::new)?
                .is_some();
        if !found {
            return Err(Fatal::new(format!(
                "{spec}: `{}` is not in commit {rev} (the path is relative to the repository root)",
                source.path.display()
            )));
        }
        // Read from git objects, named `REV:path` in diagnostics and reports.
        let mut source = source;
        source.display = format!("{rev}:{}", source.display);
        let loaded = policy::sources::load(&source, &files);
        (spec.to_string(), loaded)
    } else {
        return Err(Fatal::new(format!(
            "{spec}: policy file not found (a file, or REV:path to read one from git)"
        )));
    };
    match loaded {
        Ok(loaded) => Ok(PolicyInput::loaded(loaded, display)),
        Err(err) => Err(Fatal::new(format!("{display}: invalid policy")).after(err.render(color))),
    }
}

/// A commit's tree as a policy source's files (paths relative to the repository root).
struct RevFiles<'a> {
    repo: &'a crate::inputs::git::Repo,
    commit: &'a str,
}

impl policy::sources::SourceFiles for RevFiles<'_> {
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        let rel = path.to_string_lossy();
        match self
            .repo
            .read_path(self.commit, rel.trim_end_matches('/'))
            .map_err(|e| e.to_string())?
        {
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("{rel}: not UTF-8 text")),
            None => Ok(None),
        }
    }

    fn tf_files(&self, dir: &Path) -> Result<Option<Vec<std::path::PathBuf>>, String> {
        let rel = dir.to_string_lossy();
        let rel = rel.trim_end_matches('/');
        let prefix = if rel.is_empty() || rel == "." {
            String::new()
        } else {
            format!("{rel}/")
        };
        let files = self
            .repo
            .tree_files(self.commit)
            .map_err(|e| e.to_string())?;
        let mut tf: Vec<std::path::PathBuf> = files
            .iter()
            .filter_map(|f| f.path.strip_prefix(&prefix))
            .filter(|name| !name.contains('/') && name.ends_with(".tf"))
            .map(|name| std::path::PathBuf::from(format!("{prefix}{name}")))
            .collect();
        if tf.is_empty() {
            return Ok(None);
        }
        tf.sort();
        Ok(Some(tf))
    }
}

/// `policy diff OLD NEW [PATH]...`: the manifests parsed once, evaluated under both.
/// `policy diff`: exit code 1 when a workload becomes denied by an enforced rule, else 0;
/// `Err` is exit code 2.
pub fn policy_diff(
    diff_args: &PolicyDiffArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<u8, Fatal> {
    let scan_args = diff_args.scan_args();
    let args = &scan_args;
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    diff_in(diff_args, args, env, stdin, stdout, &cwd).inspect_err(|fatal| {
        super::plan::github_policy_error(args, env, &cwd, fatal, stdout);
    })
}

fn diff_in(
    diff_args: &PolicyDiffArgs,
    args: &ScanArgs,
    env: &Environment,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    cwd: &Path,
) -> Result<u8, Fatal> {
    let cwd = cwd.to_path_buf();
    let color = env.stderr_color(args.color);
    let jobs = jobs(args);
    let config = load_config(args, env, &cwd)?;
    let old_input = load_diff_policy(&diff_args.old, &cwd, color)?;
    let new_input = load_diff_policy(&diff_args.new, &cwd, color)?;
    let (old_source, new_source) = (old_input.display.clone(), new_input.display.clone());
    // A NEW file that the config names (top level or a context) replaces only that policy:
    // folders deployed under another project's policy are not affected by the change.
    let new_file = Path::new(&diff_args.new);
    let only_for = config.as_ref().and_then(|c| {
        let target = paths::normalize(&cwd.join(new_file));
        let named = c
            .policy
            .iter()
            .chain(c.contexts.iter().filter_map(|ctx| ctx.policy.as_ref()))
            .any(|p| p.path == target);
        (new_file.is_file() && named).then_some(target)
    });
    let fixed = |input| FixedPolicy {
        input,
        only_for: only_for.clone(),
    };
    let mut old_plan = build_plan_with(
        args,
        env,
        &cwd,
        config.as_ref(),
        Side::Head,
        Some(fixed(old_input)),
    )?;
    let mut new_plan = build_plan_with(
        args,
        env,
        &cwd,
        config.as_ref(),
        Side::Head,
        Some(fixed(new_input)),
    )?;
    let (candidates, stdin_text) = inputs(args, stdin, &cwd, config.as_ref(), jobs)?;
    // Descriptor contexts (contract §14): both sides fan out the same way.
    if let Some(descriptors) =
        super::discovery::attach(args, &cwd, config.as_ref(), &candidates, &mut old_plan)
        && let Some((root, _, _)) = &old_plan.derived
    {
        new_plan.add_descriptors(args, root.clone(), descriptors);
    }
    let old_scopes = old_plan.scopes(config.as_ref(), &cwd);
    let new_scopes = new_plan.scopes(config.as_ref(), &cwd);
    let (old_report, new_report) = if renders(args, config.as_ref()) {
        // Rendered objects exist only after rendering, which is done for each side (the
        // renderers run twice; the raw files are still read once per side).
        let mut old_candidates = candidates.clone();
        let mut new_candidates = candidates;
        let stdin = stdin_text.as_deref();
        let old = render_and_run(
            args,
            &cwd,
            config.as_ref(),
            &old_scopes,
            &mut old_candidates,
            stdin,
            jobs,
        )?;
        let new = render_and_run(
            args,
            &cwd,
            config.as_ref(),
            &new_scopes,
            &mut new_candidates,
            stdin,
            jobs,
        )?;
        (old, new)
    } else {
        // Without rendering, what is evaluated does not depend on the policy: decided once,
        // exactly as `scan` decides it (kustomize patches are never workloads), then every
        // file is read and parsed once and evaluated under both.
        let mut candidates = candidates;
        let (rendered, prepared) = prepare_inputs(
            args,
            &cwd,
            config.as_ref(),
            &old_scopes,
            &mut candidates,
            jobs,
        )?;
        run::run_pair(
            &candidates,
            stdin_text.as_deref(),
            &old_scopes,
            &new_scopes,
            jobs,
            (rendered, prepared),
        )
    };
    let changed_scope = old_scopes
        .list
        .iter()
        .position(|s| s.policy.source() == old_source)
        .unwrap_or(0);
    let diff = crate::compare::policydiff::compare(
        old_scopes.get(changed_scope).policy,
        new_scopes.get(changed_scope).policy,
        &old_report,
        &new_report,
    );
    let paths = RepoPaths::new(&cwd, &paths::scan_root(&args.paths, &cwd));
    write_to(args.output.as_deref(), stdout, |out| match args.format {
        Format::Json => {
            let document = crate::compare::policydiff::document(&diff, &old_source, &new_source);
            serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        Format::Github => crate::compare::policydiff::render_github(&diff, &paths, out),
        _ => crate::compare::policydiff::render_human(&diff, out),
    })?;
    if let (Format::Github, Some(path)) = (args.format, &env.step_summary) {
        append_to(path, |out| {
            crate::compare::policydiff::render_step_summary(&diff, out)
        })?;
    }
    let failed = diff.fails();
    // The process exits next: freeing two reports one string at a time only delays it.
    std::mem::forget(diff);
    std::mem::forget((old_report, new_report));
    Ok(u8::from(failed))
}
