//! The thin binary: parse arguments, resolve settings, run, write outputs, exit 0/1/2.

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use binauthz_lint::baseline::Baseline;
use binauthz_lint::discover;
use binauthz_lint::policy::{self, Policy};
use binauthz_lint::report::paths::{self, RepoPaths};
use binauthz_lint::report::{self, Report};
use binauthz_lint::rules::{self, Level};
use binauthz_lint::run;
use binauthz_lint::scan::ScanSettings;
use binauthz_lint::yaml::Limits;
use clap::Parser;
use cli::{Cli, ColorChoice, Command, FailOn, Format, PolicyCommand, ScanArgs};
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// A failure to do the job at all: exit code 2.
struct Fatal(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Scan(args) => match scan(&args) {
            Ok(code) => code,
            Err(Fatal(message)) => {
                eprintln!("binauthz-lint: error: {message}");
                2
            }
        },
        Command::Policy(PolicyCommand::Validate { file, color }) => {
            let color = use_color(color, io::stdout().is_terminal());
            validate_policy(&file, color)
        }
        Command::Rules => {
            let mut out = String::new();
            for rule in rules::RULES {
                out.push_str(&format!(
                    "{:<34} {:<8} {}\n",
                    rule.id,
                    rule.level.as_str(),
                    rule.summary
                ));
            }
            print!("{out}");
            0
        }
        Command::Explain { rule_id } => match rules::find_ignoring_case(&rule_id) {
            Some(rule) => {
                print!("{}", rule.doc);
                0
            }
            None => {
                let near = rules::near(&rule_id);
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
                eprintln!(
                    "binauthz-lint: error: unknown rule `{rule_id}`{suggestion}; `binauthz-lint rules` lists them"
                );
                2
            }
        },
    };
    ExitCode::from(code)
}

fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn validate_policy(file: &Path, color: bool) -> u8 {
    let (code, text) = policy::validate_file(file, &file.display().to_string(), color);
    print!("{text}");
    u8::try_from(code).unwrap_or(2)
}

/// Load `--policy` (and `--system-policy`); an invalid file is fatal (exit 2) and its
/// A loaded policy with its warnings (reported as findings in the policy file).
struct PolicyInput {
    policy: Policy,
    diagnostics: Vec<policy::PolicyDiagnostic>,
    display: String,
    text: String,
}

/// `base_text`: in PR mode, the base commit's version of the policy file (read from git).
fn load_policy(args: &ScanArgs, cwd: &Path, base_text: Option<&str>) -> Result<PolicyInput, Fatal> {
    let color = use_color(args.color, io::stderr().is_terminal());
    let mut diagnostics = Vec::new();
    let mut text = String::new();
    let mut policy_display = String::new();
    let mut policy = match &args.policy {
        None => Policy::builtin_default(),
        Some(path) => {
            let display = discover::display_path(path, cwd);
            policy_display = display.clone();
            let loaded = match base_text {
                Some(text) => policy::load_policy_str(text, &display),
                None => policy::load_policy_file(path, &display),
            };
            match loaded {
                Ok(loaded) => {
                    diagnostics = loaded.diagnostics;
                    text = loaded.source_text;
                    loaded.policy
                }
                Err(err) => {
                    eprint!("{}", err.render(color));
                    let side = if base_text.is_some() {
                        " (at the base commit)"
                    } else {
                        ""
                    };
                    // Not for the base commit's policy in PR mode: its lines are not the
                    // checked-out file's.
                    if args.format == Format::Github && base_text.is_none() {
                        github_policy_error(args, cwd, &err, &display);
                    }
                    if base_text.is_none() && !path.exists() {
                        return Err(Fatal(format!("{display}: policy file not found")));
                    }
                    let hint = policy::manifest_hint(&err.source_text)
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                    return Err(Fatal(format!("{display}: invalid policy{side}{hint}")));
                }
            }
        }
    };
    if let Some(path) = &args.system_policy {
        let display = discover::display_path(path, cwd);
        match policy::load_system_policy_file(path, &display) {
            Ok(sp) => policy = policy.with_system_policy(sp),
            Err(err) => {
                eprint!("{}", err.render(color));
                return Err(Fatal(format!("{display}: invalid system policy")));
            }
        }
    }
    // Attestors and occurrences: unreadable or malformed input is fatal, with its location.
    let attestors = match &args.attestors {
        None => None,
        Some(path) => Some(
            binauthz_lint::attest::AttestorSet::load(path)
                .map_err(|e| Fatal(format!("invalid --attestors input: {e}")))?,
        ),
    };
    let attestations = match &args.attestations {
        None => None,
        Some(path) => Some(
            binauthz_lint::attest::AttestationStore::load(path)
                .map_err(|e| Fatal(format!("invalid --attestations input: {e}")))?,
        ),
    };
    if attestors.is_some() || attestations.is_some() {
        policy = policy.with_attestations(attestors, attestations);
    }
    Ok(PolicyInput {
        policy,
        diagnostics,
        display: policy_display,
        text,
    })
}

/// `--format github` and an invalid policy: annotations at its errors and a step summary
/// that says what to fix, so the check is not only a red cross with a log to dig through.
fn github_policy_error(args: &ScanArgs, cwd: &Path, err: &policy::PolicyError, display: &str) {
    let paths = RepoPaths::new(cwd, &paths::scan_root(&args.paths, cwd));
    // Best effort: the run fails with exit code 2 whatever happens here.
    let _ = write_to(args.output.as_deref(), |out| {
        report::github::policy_error(&err.diagnostics, &paths, out)
    });
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let _ = append_to(Path::new(&path), |out| {
            report::github::policy_error_summary(&err.diagnostics, display, &paths, out)
        });
    }
}

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
            return Err(Fatal(format!(
                "{first} and {second} both name {}: give each report its own file",
                path.display()
            )));
        }
    }
    Ok(())
}

fn scan(args: &ScanArgs) -> Result<u8, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    check_distinct_outputs(args, &cwd)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    // Rendering (parallel JSON/SARIF serialisation) runs on the global pool: honour -j there too.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global();
    let settings = ScanSettings {
        namespace: args.namespace.clone(),
        cluster: args.cluster.clone(),
        limits: Limits {
            max_depth: args.max_depth,
            alias_budget: args.alias_budget,
            max_documents: args.max_documents,
        },
        max_file_size: args.max_file_size,
        lenient_breakglass: args.lenient_breakglass,
    };
    let policy_input = load_policy(args, &cwd, None)?;
    let candidates =
        discover::discover(&args.paths, &cwd, jobs).map_err(|e| Fatal(e.to_string()))?;
    let stdin_text = if args.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        io::stdin()
            .lock()
            .take(args.max_file_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Fatal(format!("cannot read standard input: {e}")))?;
        run::decode_text(bytes).ok()
    } else {
        None
    };
    let mut report = run::run(
        &candidates,
        stdin_text.as_deref(),
        &settings,
        &policy_input.policy,
        jobs,
    );
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
    policy_passes(&mut report, args, policy_input, &settings);

    let stdout_is_terminal = io::stdout().is_terminal() && args.output.is_none();
    let context = RenderContext {
        color: use_color(args.color, stdout_is_terminal),
        verbose: args.verbose,
        paths: RepoPaths::new(&cwd, &paths::scan_root(&args.paths, &cwd)),
    };
    report.assign_fingerprints(&context.paths);
    if let Some(rev) = args.since.as_deref().filter(|rev| *rev != "none") {
        let (mut base_report, policy_changed) = scan_base(args, &cwd, rev, &settings)?;
        base_report.assign_fingerprints(&context.paths);
        Baseline::from_report(&base_report).apply(&mut report);
        let policy_display = args
            .policy
            .as_deref()
            .map(|p| discover::display_path(p, &cwd))
            .unwrap_or_default();
        binauthz_lint::baseline::explain_new(
            &mut report,
            &base_report,
            policy_changed,
            &policy_display,
        );
    } else if let Some(path) = &args.baseline {
        Baseline::load(path).map_err(Fatal)?.apply(&mut report);
    }
    write_report(&report, args.format, &context, args.output.as_deref())?;
    if let Some(path) = &args.json {
        write_report(&report, Format::Json, &context.plain(), Some(path))?;
    }
    if let Some(path) = &args.sarif {
        write_report(&report, Format::Sarif, &context.plain(), Some(path))?;
    }
    if args.format == Format::Github {
        // The job summary of a GitHub Actions step (appended, as the runner expects).
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            append_to(Path::new(&path), |out| {
                report::github::step_summary(&report, &context.github(), out)
            })?;
        }
    }
    if let Some(path) = &args.audit_log {
        write_to(Some(path), |out| {
            for event in &report.audit_events {
                serde_json::to_writer(&mut *out, event).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        })?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Level::Error),
        FailOn::Warning => Some(Level::Warning),
        FailOn::Note => Some(Level::Note),
        FailOn::Never => None,
    };
    let failed = matches!((threshold, report.max_level()), (Some(t), Some(max)) if max >= t);
    // The process exits next: freeing a report of tens of thousands of workloads one string
    // at a time would only delay the exit.
    std::mem::forget(report);
    Ok(u8::from(failed))
}

/// The policy's own findings: usage lint, validation warnings, attestors it lacks.
fn policy_passes(
    report: &mut Report,
    args: &ScanArgs,
    input: PolicyInput,
    settings: &ScanSettings,
) {
    let PolicyInput {
        policy,
        mut diagnostics,
        display,
        text,
    } = input;
    if args.policy.is_some() {
        diagnostics.extend(run::lint_policy_usage(
            report,
            &policy,
            settings.cluster.as_deref(),
        ));
    }
    run::add_policy_findings(report, &diagnostics, &text);
    if args.policy.is_some() {
        run::attestor_missing_findings(report, &display, &text);
    }
}

/// PR mode: the full report of the merge base of REV and HEAD, read from git objects. A
/// policy file inside the repository is read from the base commit too (so a PR that
/// tightens the policy shows what it newly denies); one outside is shared by both sides.
/// Also says whether the policy differs between the two sides.
fn scan_base(
    args: &ScanArgs,
    cwd: &Path,
    rev: &str,
    settings: &ScanSettings,
) -> Result<(Report, bool), Fatal> {
    let base = binauthz_lint::prmode::BaseTree::open(rev, &args.paths, cwd)
        .map_err(|e| Fatal(e.to_string()))?;
    let base_policy_text = match args.policy.as_deref().and_then(|p| base.relative(p, cwd)) {
        Some(rel) => match base.read(&rel).map_err(|e| Fatal(e.to_string()))? {
            Some(bytes) => Some(
                String::from_utf8(bytes)
                    .map_err(|_| Fatal(format!("{rel} at the base commit is not UTF-8 text")))?,
            ),
            // Added by the change: the base is judged by the new policy.
            None => None,
        },
        None => None,
    };
    let policy_changed = match (&base_policy_text, args.policy.as_deref()) {
        (Some(base_text), Some(path)) => {
            std::fs::read_to_string(path).ok().as_ref() != Some(base_text)
        }
        _ => false,
    };
    let input = load_policy(args, cwd, base_policy_text.as_deref())?;
    let mut report = base
        .scan(cwd, settings, &input.policy)
        .map_err(|e| Fatal(e.to_string()))?;
    policy_passes(&mut report, args, input, settings);
    Ok((report, policy_changed))
}

fn write_to(
    path: Option<&Path>,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Fatal> {
    let result = match path {
        Some(path) => std::fs::File::create(path).and_then(|file| {
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            body(&mut out)?;
            out.flush()
        }),
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            body(&mut out).and_then(|_| out.flush())
        }
    };
    match result {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is not an error worth exit code 2.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && path.is_none() => Ok(()),
        Err(e) => Err(Fatal(format!(
            "cannot write {}: {e}",
            path.map(|p| p.display().to_string())
                .unwrap_or_else(|| "standard output".to_string())
        ))),
    }
}

fn append_to(
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
        .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))
}

/// What the renderers need besides the report, resolved once.
struct RenderContext {
    color: bool,
    verbose: bool,
    paths: RepoPaths,
}

impl RenderContext {
    /// The same, without colour (for the extra `--json` / `--sarif` files).
    fn plain(&self) -> RenderContext {
        RenderContext {
            color: false,
            verbose: self.verbose,
            paths: self.paths.clone(),
        }
    }

    fn github(&self) -> report::github::GithubOptions {
        report::github::GithubOptions {
            paths: self.paths.clone(),
        }
    }
}

fn write_report(
    report: &Report,
    format: Format,
    context: &RenderContext,
    path: Option<&Path>,
) -> Result<(), Fatal> {
    match format {
        Format::Human => write_to(path, |out| {
            report::human::render(
                report,
                report::human::HumanOptions {
                    color: context.color,
                    verbose: context.verbose,
                },
                out,
            )
        }),
        Format::Concise => write_to(path, |out| {
            report::concise::render(
                report,
                report::concise::ConciseOptions {
                    verbose: context.verbose,
                },
                out,
            )
        }),
        Format::Json => write_to(path, |out| report::json::render(report, out)),
        Format::Sarif => {
            let options = report::sarif::SarifOptions {
                paths: context.paths.clone(),
                commit: Some(env!("BINAUTHZ_LINT_COMMIT").to_string()).filter(|c| c != "unknown"),
            };
            write_to(path, |out| report::sarif::render(report, &options, out))
        }
        Format::Github => write_to(path, |out| {
            report::github::render(report, &context.github(), out)
        }),
    }
}
