//! The thin binary: parse arguments, describe the process, call one library entry point per
//! command, print what it returns and map the result to an exit code (0, 1 or 2).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use binauthz_lint::app::cli::{Cli, Command, ConfigCommand, PolicyCommand};
use binauthz_lint::app::{self, Environment, Fatal};
use clap::Parser;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = environment();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        Command::Scan(args) => app::scan(&args, &env, &mut io::stdin().lock(), &mut out),
        Command::Policy(PolicyCommand::Diff(args)) => {
            app::policy_diff(&args, &env, &mut io::stdin().lock(), &mut out)
        }
        Command::Policy(PolicyCommand::Validate { file, color }) => {
            let verdict = app::validate_policy(&file, env.color(color, env.stdout_is_terminal));
            print_text(&mut out, &verdict.stdout).map(|()| verdict.code)
        }
        Command::Policy(PolicyCommand::Show {
            source,
            format,
            color,
        }) => app::show_policy(&source, format, env.stderr_color(color))
            .and_then(|verdict| print_text(&mut out, &verdict.stdout).map(|()| verdict.code)),
        Command::Config(ConfigCommand::Validate { file, color }) => {
            let color = env.color(color, env.stdout_is_terminal);
            app::validate_config(file.as_deref(), color)
                .and_then(|verdict| print_text(&mut out, &verdict.stdout).map(|()| verdict.code))
        }
        Command::Evaluate(args) => app::evaluate(&args, &env, &mut io::stdin().lock(), &mut out)
            .map(|evaluation| {
                eprint!("{}", evaluation.diagnostics);
                evaluation.code
            }),
        Command::Test(args) => app::test(&args, &env, &mut out),
        Command::Contexts(args) => app::contexts(&args, &env, &mut out),
        Command::Rules => print_text(&mut out, &app::rules_table()).map(|()| 0),
        Command::Explain { rule_id } => {
            app::explain(&rule_id).and_then(|doc| print_text(&mut out, doc).map(|()| 0))
        }
    };
    // A closed pipe (`| head`) is not an error worth exit code 2.
    let _ = out.flush();
    let code = match result {
        Ok(code) => code,
        Err(Fatal {
            diagnostics,
            message,
            ..
        }) => {
            eprint!("{diagnostics}");
            eprintln!("binauthz-lint: error: {message}");
            2
        }
    };
    ExitCode::from(code)
}

/// What the library needs to know about this process, read once.
fn environment() -> Environment {
    Environment {
        stdout_is_terminal: io::stdout().is_terminal(),
        stderr_is_terminal: io::stderr().is_terminal(),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(Into::into),
    }
}

fn print_text(out: &mut dyn Write, text: &str) -> Result<(), Fatal> {
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Fatal::new(format!("cannot write standard output: {e}")))
        }
        _ => Ok(()),
    }
}
