//! GitOps descriptor discovery for the commands (contract §14): which families to read
//! (`--discover`, config `discover:`), the repository root descriptor paths are relative
//! to, the derivation over the scanned files, and the contexts added to a scan's plan.

use super::cli::ScanArgs;
use crate::inputs::discover::{Candidate, Candidates};
use crate::report::paths;
use crate::settings::config::Config;
use crate::settings::descriptors::{self, Descriptors, Family, RepoFile};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The families to read: `--discover` (where `none` turns discovery off) beats the config.
pub(super) fn families(flag: &[String], config: Option<&Config>) -> Vec<Family> {
    if flag.is_empty() {
        return config
            .map(|c| c.gitops.discover.clone())
            .unwrap_or_default();
    }
    let mut out: Vec<Family> = flag.iter().filter_map(|f| Family::parse(f)).collect();
    out.sort();
    out.dedup();
    out
}

/// The folder descriptor paths are relative to: the config's folder (the repository root
/// the config describes), else the git work tree of the scanned paths, else the current
/// directory.
pub(super) fn repository_root(scanned: &[PathBuf], cwd: &Path, config: Option<&Config>) -> PathBuf {
    match config {
        Some(config) => config.dir.clone(),
        None => paths::scan_root(scanned, cwd),
    }
}

/// Read the candidates (in parallel) and derive the contexts of their descriptors.
pub(super) fn derive(
    candidates: &Candidates,
    cwd: &Path,
    root: &Path,
    families: &[Family],
    config: Option<&Config>,
    max_file_size: u64,
) -> Descriptors {
    let list: Vec<(&String, &PathBuf)> = candidates
        .iter()
        .filter_map(|(display, c)| match c {
            Candidate::Read { path, .. } => Some((display, path)),
            _ => None,
        })
        .collect();
    let files: Vec<RepoFile> = list
        .par_iter()
        .filter_map(|(display, path)| {
            let abs = paths::normalize(&cwd.join(path));
            let rel = crate::settings::config::relative_path(&abs, root)?;
            // Only descriptors and kustomizations are read further: other texts are dropped
            // now, so that discovery does not hold the whole tree in memory.
            let text = crate::inputs::read::read_file(path, max_file_size)
                .ok()
                .filter(|t| descriptors::worth_reading(&rel, t));
            Some(RepoFile {
                rel,
                display: (*display).clone(),
                text,
            })
        })
        .collect();
    let (repository, clusters) = match config {
        Some(c) => (c.gitops.repository.as_slice(), c.gitops.clusters.as_slice()),
        None => (&[][..], &[][..]),
    };
    descriptors::derive(
        &files,
        &descriptors::Settings {
            families,
            repository,
            clusters,
        },
    )
}

/// Discovery for a scan: the contexts added to the plan (after the config's), and the
/// descriptors for their findings. `None` without `discover`.
pub(super) fn attach(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    candidates: &Candidates,
    plan: &mut super::plan::Plan,
) -> Option<Arc<Descriptors>> {
    let families = families(&args.discover, config);
    if families.is_empty() {
        return None;
    }
    let root = repository_root(&args.paths, cwd, config);
    let derived = Arc::new(derive(
        candidates,
        cwd,
        &root,
        &families,
        config,
        args.max_file_size,
    ));
    plan.add_descriptors(args, root, Arc::clone(&derived));
    Some(derived)
}

/// The descriptors' own findings in a report (fingerprinted with the report's).
pub(super) fn add_findings(report: &mut crate::report::Report, descriptors: Option<&Descriptors>) {
    if let Some(d) = descriptors.filter(|d| !d.findings.is_empty()) {
        report.findings.extend(d.findings.iter().cloned());
        report.finish();
    }
}

/// What the descriptor context of scope `index` (if it is one) adds to rendering the chart
/// in `chart_dir` (contract §14): Argo CD `helm.valueFiles` (relative to the chart's
/// folder; `$ref/…` and URLs are left out: nothing is fetched), `values` / `valuesObject`
/// and `releaseName`; Flux HelmRelease `valuesFiles` (relative to the repository root),
/// `values` and `releaseName`.
pub(super) fn release_settings(
    scopes: &crate::settings::scope::Scopes<'_, '_>,
    index: usize,
    chart_dir: &Path,
) -> crate::inputs::render::helm::ReleaseSettings {
    use serde_json::Value;
    let mut out = crate::inputs::render::helm::ReleaseSettings::default();
    let Some(derived) = &scopes.derived else {
        return out;
    };
    let Some(context) = index
        .checked_sub(derived.first)
        .and_then(|i| derived.descriptors.contexts.get(i))
    else {
        return out;
    };
    let Some(helm) = context.render.as_ref().and_then(|r| r.get("helm")) else {
        return out;
    };
    let (files_key, base) = if context.kind == "HelmRelease" {
        ("valuesFiles", derived.root.as_path())
    } else {
        ("valueFiles", chart_dir)
    };
    for file in helm
        .get(files_key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if file.starts_with('$') || file.contains("://") {
            continue;
        }
        out.values_files.push(paths::normalize(&base.join(file)));
    }
    let inline = match (helm.get("values"), helm.get("valuesObject")) {
        (_, Some(object)) if object.is_object() => Some(object.to_string()),
        (Some(Value::String(text)), _) => Some(text.clone()),
        (Some(object), _) if object.is_object() => Some(object.to_string()),
        _ => None,
    };
    out.inline_values = inline;
    out.release_name = helm
        .get("releaseName")
        .and_then(Value::as_str)
        .map(str::to_string);
    out
}

/// PR mode: the base commit's own descriptor contexts (contract §14), read from git objects
/// with the head's families, repository root and config, so that a change to a descriptor
/// shows what it changes.
pub(super) fn attach_base(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    base: &crate::compare::prmode::BaseTree,
    root: &Path,
    plan: &mut super::plan::Plan,
) -> Result<Arc<Descriptors>, super::Fatal> {
    let families = families(&args.discover, config);
    let top = paths::normalize(&base.repo.toplevel);
    let texts = base
        .texts(args.max_file_size, |path, text| {
            descriptors::worth_reading(path, text)
        })
        .map_err(|e| super::Fatal::new(e.to_string()))?;
    let files: Vec<RepoFile> = texts
        .into_iter()
        .filter_map(|(path, text)| {
            let abs = top.join(&path);
            Some(RepoFile {
                rel: crate::settings::config::relative_path(&abs, root)?,
                display: crate::inputs::discover::display_path(&abs, cwd),
                text: Some(text),
            })
        })
        .collect();
    let (repository, clusters) = match config {
        Some(c) => (c.gitops.repository.as_slice(), c.gitops.clusters.as_slice()),
        None => (&[][..], &[][..]),
    };
    let derived = Arc::new(descriptors::derive(
        &files,
        &descriptors::Settings {
            families: &families,
            repository,
            clusters,
        },
    ));
    plan.add_descriptors(args, root.to_path_buf(), Arc::clone(&derived));
    Ok(derived)
}
