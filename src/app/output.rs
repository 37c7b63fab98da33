//! Writing reports: to a file or to standard output, appending to the GitHub step summary,
//! and the renderer options resolved once per run.

use super::Fatal;
use super::cli::Format;
use crate::report::paths::RepoPaths;
use crate::report::{self, Report};
use std::io::{self, Write};
use std::path::Path;

/// Write one report to `path`, or to `stdout` (the binary's buffered standard output).
pub(super) fn write_to(
    path: Option<&Path>,
    stdout: &mut dyn Write,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Fatal> {
    let result = match path {
        Some(path) => std::fs::File::create(path).and_then(|file| {
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            body(&mut out)?;
            out.flush()
        }),
        None => body(stdout).and_then(|_| stdout.flush()),
    };
    match result {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth exit code 2.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && path.is_none() => Ok(()),
        Err(e) => Err(Fatal::new(format!(
            "cannot write {}: {e}",
            path.map(|p| p.display().to_string())
                .unwrap_or_else(|| "standard output".to_string())
        ))),
    }
}

/// Append to a file (the GitHub step summary).
pub(super) fn append_to(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Fatal> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|file| {
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            body(&mut out)?;
            out.flush()
        })
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))
}

/// What the renderers need besides the report, resolved once.
pub(super) struct RenderContext {
    pub color: bool,
    pub verbose: bool,
    pub paths: RepoPaths,
    pub sarif_include_suppressed: bool,
}

impl RenderContext {
    /// The same, without colour (for the extra `--json` / `--sarif` files).
    pub fn plain(&self) -> RenderContext {
        RenderContext {
            color: false,
            verbose: self.verbose,
            paths: self.paths.clone(),
            sarif_include_suppressed: self.sarif_include_suppressed,
        }
    }

    pub fn github(&self) -> report::github::GithubOptions {
        report::github::GithubOptions {
            paths: self.paths.clone(),
        }
    }
}

pub(super) fn write_report(
    report: &Report,
    format: Format,
    context: &RenderContext,
    path: Option<&Path>,
    stdout: &mut dyn Write,
) -> Result<(), Fatal> {
    match format {
        Format::Human => write_to(path, stdout, |out| {
            report::human::render(
                report,
                report::human::HumanOptions {
                    color: context.color,
                    verbose: context.verbose,
                },
                out,
            )
        }),
        Format::Concise => write_to(path, stdout, |out| {
            report::concise::render(
                report,
                report::concise::ConciseOptions {
                    verbose: context.verbose,
                },
                out,
            )
        }),
        Format::Json => write_to(path, stdout, |out| report::json::render(report, out)),
        Format::Sarif => {
            let options = report::sarif::SarifOptions {
                paths: context.paths.clone(),
                commit: Some(env!("BINAUTHZ_LINT_COMMIT").to_string()).filter(|c| c != "unknown"),
                include_suppressed: context.sarif_include_suppressed,
            };
            write_to(path, stdout, |out| {
                report::sarif::render(report, &options, out)
            })
        }
        Format::Github => write_to(path, stdout, |out| {
            report::github::render(report, &context.github(), out)
        }),
    }
}
