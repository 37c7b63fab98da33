//! `contexts` (contract §14, §17): every context derived from the GitOps descriptors of the
//! scanned paths, and the contexts each file falls in — the command a user runs first, to
//! see where each path deploys.

use super::cli::{Format, ScanArgs};
use super::discovery::{derive, families, repository_root};
use super::output::write_to;
use super::{Environment, Fatal};
use crate::inputs::discover::Candidate;
use crate::report::paths::{self, RepoPaths};
use crate::settings::descriptors::{self, Descriptors, Family};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct FileEntry {
    file: String,
    contexts: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: u32,
    contexts: &'a [descriptors::DerivedContext],
    files: Vec<FileEntry>,
    findings: Vec<crate::report::Finding>,
}

/// `contexts [PATH…] [--format json]`: every derived context, and the contexts each
/// scanned file falls in (a config context that matches first wins, as in a scan). Exit 0.
pub fn contexts(args: &ScanArgs, env: &Environment, stdout: &mut dyn Write) -> Result<u8, Fatal> {
    if !matches!(args.format, Format::Human | Format::Json) {
        return Err(Fatal::new(
            "contexts writes `human` or `json` output".to_string(),
        ));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    let config = super::plan::load_config(args, env, &cwd)?;
    let jobs = super::scan::jobs(args);
    let (candidates, _) = super::scan::inputs(args, &mut io::empty(), &cwd, config.as_ref(), jobs)?;
    let mut families = families(&args.discover, config.as_ref());
    if families.is_empty() && args.discover.is_empty() {
        // The command exists to show descriptors: without `discover`, read every family.
        families = vec![Family::Argocd, Family::ConfigSync, Family::Flux];
    }
    let root = repository_root(&args.paths, &cwd, config.as_ref());
    let derived = derive(
        &candidates,
        &cwd,
        &root,
        &families,
        config.as_ref(),
        args.max_file_size,
    );
    let files: Vec<FileEntry> = candidates
        .iter()
        .filter_map(|(display, c)| match c {
            Candidate::Read { path, .. } => Some((display, path)),
            _ => None,
        })
        .map(|(display, path)| {
            let abs = paths::normalize(&cwd.join(path));
            let explicit = config
                .as_ref()
                .and_then(|c| c.context_of(&abs).and_then(|i| c.contexts.get(i)));
            let contexts = match explicit {
                Some(context) => vec![context.name.clone()],
                None => crate::settings::config::relative_path(&abs, &root)
                    .map(|rel| {
                        derived
                            .covering(&rel)
                            .into_iter()
                            .filter_map(|i| derived.contexts.get(i).map(|c| c.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            FileEntry {
                file: display.clone(),
                contexts,
            }
        })
        .collect();
    let mut report = crate::report::Report::new("");
    report.findings = derived.findings.clone();
    report.finish();
    report.assign_fingerprints(&RepoPaths::new(&cwd, &paths::scan_root(&args.paths, &cwd)));
    write_to(args.output.as_deref(), stdout, |out| match args.format {
        Format::Json => {
            let document = Document {
                schema_version: 1,
                contexts: &derived.contexts,
                files,
                findings: report.findings,
            };
            serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        _ => human(&derived, &files, &report.findings, out),
    })?;
    Ok(0)
}

fn human(
    derived: &Descriptors,
    files: &[FileEntry],
    findings: &[crate::report::Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    if derived.contexts.is_empty() {
        writeln!(out, "No contexts derived from GitOps descriptors.")?;
    }
    for c in &derived.contexts {
        writeln!(out, "{}", c.name)?;
        writeln!(out, "  source:    {}", c.source_text())?;
        let identity = c.cluster.identity.as_deref().unwrap_or("(none)");
        let key = c.cluster.key.as_deref().unwrap_or("unmapped");
        writeln!(out, "  cluster:   {identity} -> {key}")?;
        writeln!(
            out,
            "  namespace: {}",
            c.namespace.as_deref().unwrap_or("(as written)")
        )?;
        let shown: Vec<&str> = c
            .paths
            .iter()
            .map(|p| if p.is_empty() { "." } else { p.as_str() })
            .collect();
        writeln!(out, "  paths:     {}", shown.join(", "))?;
        if let Some(render) = &c.render {
            writeln!(out, "  render:    {render}")?;
        }
    }
    let covered: Vec<&FileEntry> = files.iter().filter(|f| !f.contexts.is_empty()).collect();
    if !covered.is_empty() {
        writeln!(out, "\nFiles:")?;
        for f in covered {
            writeln!(out, "  {}: {}", f.file, f.contexts.join(", "))?;
        }
    }
    if !findings.is_empty() {
        writeln!(out)?;
        for f in findings {
            writeln!(
                out,
                "{}:{}:{}: {}[{}] {}",
                f.location.file,
                f.location.line,
                f.location.column,
                f.level.as_str(),
                f.rule_id,
                f.message
            )?;
        }
    }
    writeln!(
        out,
        "\n{} context{}, {} file{} in a context",
        derived.contexts.len(),
        if derived.contexts.len() == 1 { "" } else { "s" },
        files.iter().filter(|f| !f.contexts.is_empty()).count(),
        if files.iter().filter(|f| !f.contexts.is_empty()).count() == 1 {
            ""
        } else {
            "s"
        }
    )
}
