//! `policy validate`, `config validate`, `rules` and `explain`: what to print on standard
//! output, and the exit code.

use super::Fatal;
use crate::inputs::discover;
use crate::policy;
use crate::rules;
use crate::settings::config::Config;
use std::path::Path;

/// What a command prints on standard output and its exit code (0 valid, 2 invalid).
pub struct Verdict {
    pub stdout: String,
    pub code: u8,
}

/// `policy validate FILE`.
pub fn validate_policy(file: &Path, color: bool) -> Verdict {
    let (code, text) = policy::validate_file(file, &file.display().to_string(), color);
    Verdict {
        stdout: text,
        code: u8::try_from(code).unwrap_or(2),
    }
}

/// `policy show SOURCE`: the export shape on standard output (exit 0), or the source's
/// diagnostics (exit 2).
pub fn show_policy(
    source: &Path,
    format: super::cli::ShowFormat,
    color: bool,
) -> Result<Verdict, Fatal> {
    let cwd =
        std::env::current_dir().map_err(|_| Fatal::new("cannot read the current directory"))?;
    let display = discover::display_path(source, &cwd);
    match policy::load_policy_file(source, &display) {
        Ok(loaded) => Ok(Verdict {
            stdout: match format {
                super::cli::ShowFormat::Yaml => policy::show::render_yaml(&loaded.policy),
                super::cli::ShowFormat::Json => policy::show::render_json(&loaded.policy),
            },
            code: 0,
        }),
        Err(err) => Err(Fatal::new(format!("{display}: invalid policy")).after(err.render(color))),
    }
}

/// `config validate [FILE]`: exit 0 with a one-line summary, or 2 with every problem.
pub fn validate_config(file: Option<&Path>, color: bool) -> Result<Verdict, Fatal> {
    let cwd =
        std::env::current_dir().map_err(|_| Fatal::new("cannot read the current directory"))?;
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => crate::settings::config::discover(&cwd).ok_or_else(|| {
            Fatal::new(format!(
                "no .binauthz-lint.yaml in {} or at the root of its git work tree",
                cwd.display()
            ))
        })?,
    };
    let display = discover::display_path(&path, &cwd);
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    Ok(match Config::load(&path, &display, &cwd) {
        Ok(config) => Verdict {
            stdout: format!(
                "{display}: valid config ({} context{}, {} exception{})\n",
                config.contexts.len(),
                plural(config.contexts.len()),
                config.exceptions.len(),
                plural(config.exceptions.len()),
            ),
            code: 0,
        },
        Err(err) => {
            let errors = err.diagnostics.len();
            Verdict {
                stdout: format!(
                    "{}{display}: invalid config ({errors} error{})\n",
                    err.render(color),
                    plural(errors)
                ),
                code: 2,
            }
        }
    })
}

/// `rules`: one line per rule (id, level, summary).
pub fn rules_table() -> String {
    let mut out = String::new();
    for rule in rules::RULES {
        out.push_str(&format!(
            "{:<34} {:<8} {}\n",
            rule.id,
            rule.level.as_str(),
            rule.summary
        ));
    }
    out
}

/// `explain RULE_ID` (case-insensitive): the rule's page, or an error with the nearest ids.
pub fn explain(rule_id: &str) -> Result<&'static str, Fatal> {
    if let Some(rule) = rules::find_ignoring_case(rule_id) {
        return Ok(rule.doc);
    }
    let near = rules::near(rule_id);
    let suggestion = if near.is_empty() {
        String::new()
    } else {
        format!(
            " (did you mean {}?)",
            near.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Err(Fatal::new(format!(
        "unknown rule `{rule_id}`{suggestion}; `binauthz-lint rules` lists them"
    )))
}
