//! Commands: one library entry point per command of the binary. Each resolves its settings
//! (flags + config + contexts), runs the pipeline and writes the reports it was asked for;
//! the binary only parses arguments, describes the process ([`Environment`]), prints a
//! [`Fatal`] error and maps the result to an exit code.

pub mod cli;
mod contexts;
mod discovery;
mod evaluate;
mod output;
mod plan;
mod policy_diff;
mod scan;
mod test;
mod validate;

pub use contexts::contexts;
pub use evaluate::{Evaluation, evaluate};
pub use policy_diff::policy_diff;
pub use scan::scan;
pub use test::test;
pub use validate::{explain, rules_table, show_policy, validate_config, validate_policy};

use cli::ColorChoice;
use std::path::PathBuf;

/// What a command needs to know about the process it runs in, read once by the binary (the
/// library reads no environment variables itself).
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// Standard output is a terminal (colour in `auto` mode).
    pub stdout_is_terminal: bool,
    /// Standard error is a terminal (colour of diagnostics in `auto` mode).
    pub stderr_is_terminal: bool,
    /// `NO_COLOR` is set to a non-empty value.
    pub no_color: bool,
    /// `GITHUB_STEP_SUMMARY`: the file a GitHub Actions step appends its job summary to.
    pub step_summary: Option<PathBuf>,
}

impl Environment {
    /// `--color` for output written to standard output (when `to_terminal`).
    pub fn color(&self, choice: ColorChoice, to_terminal: bool) -> bool {
        match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => to_terminal && !self.no_color,
        }
    }

    /// `--color` for diagnostics written to standard error.
    pub fn stderr_color(&self, choice: ColorChoice) -> bool {
        self.color(choice, self.stderr_is_terminal)
    }
}

/// A failure to do the job at all: exit code 2. `diagnostics` (rendered, e.g. the located
/// errors of an invalid policy) are printed before `message`.
#[derive(Debug)]
pub struct Fatal {
    pub diagnostics: String,
    pub message: String,
    /// An invalid policy of the work tree, which `--format github` also annotates.
    policy_error: Option<Box<(crate::policy::PolicyError, String)>>,
}

impl Fatal {
    pub fn new(message: impl Into<String>) -> Fatal {
        Fatal {
            diagnostics: String::new(),
            message: message.into(),
            policy_error: None,
        }
    }

    fn with_policy_error(mut self, err: crate::policy::PolicyError, display: String) -> Fatal {
        self.policy_error = Some(Box::new((err, display)));
        self
    }

    /// The same failure, preceded by rendered diagnostics.
    pub fn after(mut self, diagnostics: String) -> Fatal {
        self.diagnostics = diagnostics;
        self
    }
}
