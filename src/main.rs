//! The thin binary: parse arguments, resolve settings, run, write outputs, exit 0/1/2.

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use binauthz_lint::compare::baseline::Baseline;
use binauthz_lint::evaluate::run;
use binauthz_lint::evaluate::scan::ScanSettings;
use binauthz_lint::inputs::discover;
use binauthz_lint::policy::{self, Policy};
use binauthz_lint::report::paths::{self, RepoPaths};
use binauthz_lint::report::{self, Report};
use binauthz_lint::rules::{self, Level};
use binauthz_lint::settings::config::{Config, Date};
use binauthz_lint::settings::scope::{Scope, Scopes};
use binauthz_lint::yaml::Limits;
use clap::Parser;
use cli::{
    Cli, ColorChoice, Command, ConfigCommand, FailOn, Format, PolicyCommand, PolicyDiffArgs,
    RenderMode, SarifSuppressed, ScanArgs,
};
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
        Command::Policy(PolicyCommand::Diff(args)) => match policy_diff(&args) {
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
        Command::Config(ConfigCommand::Validate { file, color }) => {
            let color = use_color(color, io::stdout().is_terminal());
            validate_config(file.as_deref(), color)
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

/// `config validate [FILE]`: exit 0 with a one-line summary, or 2 with every problem.
fn validate_config(file: Option<&Path>, color: bool) -> u8 {
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("binauthz-lint: error: cannot read the current directory");
        return 2;
    };
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => match binauthz_lint::settings::config::discover(&cwd) {
            Some(path) => path,
            None => {
                eprintln!(
                    "binauthz-lint: error: no .binauthz-lint.yaml in {} or at the root of its git work tree",
                    cwd.display()
                );
                return 2;
            }
        },
    };
    let display = discover::display_path(&path, &cwd);
    match Config::load(&path, &display, &cwd) {
        Ok(config) => {
            println!(
                "{display}: valid config ({} context{}, {} exception{})",
                config.contexts.len(),
                if config.contexts.len() == 1 { "" } else { "s" },
                config.exceptions.len(),
                if config.exceptions.len() == 1 {
                    ""
                } else {
                    "s"
                },
            );
            0
        }
        Err(err) => {
            print!("{}", err.render(color));
            let errors = err.diagnostics.len();
            println!(
                "{display}: invalid config ({errors} error{})",
                if errors == 1 { "" } else { "s" }
            );
            2
        }
    }
}

/// Which tree settings files are read for: the work tree, or the PR-mode base commit.
#[derive(Clone, Copy)]
enum Side<'a> {
    Head,
    Base(&'a binauthz_lint::compare::prmode::BaseTree),
}

impl Side<'_> {
    /// The base commit's text of a file inside the repository. `None` means: read the work
    /// tree's file (the head side, a file outside the repository, or one the change adds —
    /// then the base is judged by the new file).
    fn base_text(self, path: &Path, cwd: &Path) -> Result<Option<String>, Fatal> {
        Ok(match self.lookup(path, cwd)? {
            BaseFile::Text(text) => Some(text),
            BaseFile::Outside | BaseFile::Absent => None,
        })
    }

    fn lookup(self, path: &Path, cwd: &Path) -> Result<BaseFile, Fatal> {
        let Side::Base(base) = self else {
            return Ok(BaseFile::Outside);
        };
        let Some(rel) = base.relative(path, cwd) else {
            return Ok(BaseFile::Outside);
        };
        match base.read(&rel).map_err(|e| Fatal(e.to_string()))? {
            Some(bytes) => String::from_utf8(bytes)
                .map(BaseFile::Text)
                .map_err(|_| Fatal(format!("{rel} at the base commit is not UTF-8 text"))),
            None => Ok(BaseFile::Absent),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Side::Head => "",
            Side::Base(_) => " (at the base commit)",
        }
    }
}

/// A settings file as the base commit has it.
enum BaseFile {
    /// Outside the repository (or the head side): both sides share the work tree's file.
    Outside,
    /// Inside the repository, but the change adds it.
    Absent,
    Text(String),
}

/// A loaded policy with what its findings need (warnings are reported in the policy file).
struct PolicyInput {
    policy: Policy,
    diagnostics: Vec<policy::PolicyDiagnostic>,
    display: String,
    text: String,
    /// A policy file was given (not the built-in default): its usage is linted.
    explicit: bool,
}

impl PolicyInput {
    /// A policy file that loaded.
    fn loaded(loaded: policy::LoadedPolicy, display: String) -> PolicyInput {
        PolicyInput {
            policy: loaded.policy,
            diagnostics: loaded.diagnostics,
            display,
            text: loaded.source_text,
            explicit: true,
        }
    }
}

/// What one side of a scan is evaluated with: the distinct policies (each loaded once) and
/// the scopes (top level first, then one per config context).
struct Plan {
    policies: Vec<PolicyInput>,
    scopes: Vec<PlannedScope>,
}

struct PlannedScope {
    settings: ScanSettings,
    policy_index: usize,
    context: Option<String>,
}

impl Plan {
    fn scopes<'p, 'c>(&'p self, config: Option<&'c Config>, cwd: &Path) -> Scopes<'p, 'c> {
        Scopes {
            list: self
                .scopes
                .iter()
                .filter_map(|s| {
                    let input = self.policies.get(s.policy_index)?;
                    Some(Scope {
                        settings: s.settings.clone(),
                        policy: &input.policy,
                        policy_index: s.policy_index,
                        context: s.context.clone(),
                        policy_display: input.policy.source().to_string(),
                    })
                })
                .collect(),
            config,
            cwd: cwd.to_path_buf(),
        }
    }

    fn top_policy_display(&self) -> String {
        self.policies
            .first()
            .filter(|p| p.explicit)
            .map(|p| p.display.clone())
            .unwrap_or_default()
    }

    /// Every explicit policy's display and text (to tell whether a change touched one).
    fn policy_texts(&self) -> Vec<(&str, &str)> {
        self.policies
            .iter()
            .filter(|p| p.explicit)
            .map(|p| (p.display.as_str(), p.text.as_str()))
            .collect()
    }
}

fn load_one_policy(
    args: &ScanArgs,
    path: &Path,
    cwd: &Path,
    side: Side<'_>,
    color: bool,
) -> Result<PolicyInput, Fatal> {
    let display = discover::display_path(path, cwd);
    let loaded = match side.base_text(path, cwd)? {
        Some(text) => policy::load_policy_str(&text, &display),
        None => policy::load_policy_file(path, &display),
    };
    match loaded {
        Ok(loaded) => Ok(PolicyInput::loaded(loaded, display)),
        Err(err) => {
            eprint!("{}", err.render(color));
            let head = matches!(side, Side::Head);
            // Not for the base commit's policy in PR mode: its lines are not the
            // checked-out file's.
            if args.format == Format::Github && head {
                github_policy_error(args, cwd, &err, &display);
            }
            if head && !path.exists() {
                return Err(Fatal(format!("{display}: policy file not found")));
            }
            let hint = policy::manifest_hint(&err.source_text)
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            Err(Fatal(format!(
                "{display}: invalid policy{}{hint}",
                side.suffix()
            )))
        }
    }
}

/// Resolve every setting of every scope (flag > context > config top level > default) and
/// load each distinct policy once.
fn build_plan(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    side: Side<'_>,
) -> Result<Plan, Fatal> {
    build_plan_with(args, cwd, config, side, None)
}

/// A policy that replaces the configured one (`policy diff` evaluates OLD and NEW): in every
/// scope (`only_for: None`), or only in the scopes whose configured policy is that file.
struct FixedPolicy {
    input: PolicyInput,
    only_for: Option<std::path::PathBuf>,
}

/// `fixed`: see [`FixedPolicy`]; contexts still give their cluster and namespace.
fn build_plan_with(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    side: Side<'_>,
    fixed: Option<FixedPolicy>,
) -> Result<Plan, Fatal> {
    let (mut fixed_input, fixed_for, fixed_mode) = match fixed {
        Some(f) => (Some(f.input), f.only_for, true),
        None => (None, None, false),
    };
    let mut fixed_index: Option<usize> = None;
    let color = use_color(args.color, io::stderr().is_terminal());
    let from_config =
        |pick: fn(&Config) -> Option<&binauthz_lint::settings::config::PathSetting>| {
            config.and_then(|c| pick(c).map(|p| p.path.clone()))
        };
    let system_policy = match args
        .system_policy
        .clone()
        .or_else(|| from_config(|c| c.system_policy.as_ref()))
    {
        None => None,
        Some(path) => {
            let display = discover::display_path(&path, cwd);
            match policy::load_system_policy_file(&path, &display) {
                Ok(sp) => Some(sp),
                Err(err) => {
                    eprint!("{}", err.render(color));
                    return Err(Fatal(format!("{display}: invalid system policy")));
                }
            }
        }
    };
    // Attestors and occurrences: unreadable or malformed input is fatal, with its location.
    let attestors = match args
        .attestors
        .clone()
        .or_else(|| from_config(|c| c.attestors.as_ref()))
    {
        None => None,
        Some(path) => Some(
            binauthz_lint::attest::AttestorSet::load(&path)
                .map_err(|e| Fatal(format!("invalid --attestors input: {e}")))?,
        ),
    };
    let attestations = match args
        .attestations
        .clone()
        .or_else(|| from_config(|c| c.attestations.as_ref()))
    {
        None => None,
        Some(path) => Some(
            binauthz_lint::attest::AttestationStore::load(&path)
                .map_err(|e| Fatal(format!("invalid --attestations input: {e}")))?,
        ),
    };
    let mut attestation_inputs = Some((attestors, attestations));
    let mut shared_from: Option<usize> = None;

    let top_policy = args
        .policy
        .clone()
        .or_else(|| from_config(|c| c.policy.as_ref()));
    let cluster_flag = match (&args.cluster, config) {
        (None, _) => None,
        (Some(value), Some(config)) => Some(config.resolve_cluster(value).map_err(Fatal)?),
        (Some(value), None) => Some(
            binauthz_lint::settings::config::resolve_cluster(&Default::default(), value).map_err(
                |e| {
                    Fatal(format!(
                        "--cluster: {e} (aliases come from a config file's `clusters:`)"
                    ))
                },
            )?,
        ),
    };
    let base_namespace = args
        .namespace
        .clone()
        .or_else(|| config.and_then(|c| c.namespace.clone()))
        .unwrap_or_else(|| "default".to_string());
    let base_settings = ScanSettings {
        namespace: base_namespace.clone(),
        cluster: cluster_flag.clone(),
        limits: Limits {
            max_depth: args.max_depth,
            alias_budget: args.alias_budget,
            max_documents: args.max_documents,
        },
        max_file_size: args.max_file_size,
        lenient_breakglass: args.lenient_breakglass,
    };

    // (policy path or None for the built-in default, settings, context name)
    let mut wanted: Vec<(Option<std::path::PathBuf>, ScanSettings, Option<String>)> =
        vec![(top_policy.clone(), base_settings.clone(), None)];
    for context in config.map(|c| c.contexts.as_slice()).unwrap_or_default() {
        let mut settings = base_settings.clone();
        if let (None, Some(ns)) = (&args.namespace, &context.namespace) {
            settings.namespace = ns.clone();
        }
        if cluster_flag.is_none() {
            settings.cluster.clone_from(&context.cluster);
        }
        let policy = args
            .policy
            .clone()
            .or_else(|| context.policy.as_ref().map(|p| p.path.clone()))
            .or_else(|| top_policy.clone());
        wanted.push((policy, settings, Some(context.name.clone())));
    }

    let mut policies: Vec<PolicyInput> = Vec::new();
    let mut index_of: Vec<(Option<std::path::PathBuf>, usize)> = Vec::new();
    let mut scopes = Vec::new();
    for (path, settings, context) in wanted {
        let key = path
            .as_deref()
            .map(|p| binauthz_lint::report::paths::normalize(&cwd.join(p)));
        let uses_fixed = fixed_mode && (fixed_for.is_none() || fixed_for == key);
        let known = if uses_fixed {
            fixed_index
        } else {
            index_of.iter().find(|(k, _)| *k == key).map(|(_, i)| *i)
        };
        let policy_index = match known {
            Some(i) => i,
            None => {
                let taken = if uses_fixed { fixed_input.take() } else { None };
                let mut input = match (&path, taken) {
                    (_, Some(input)) => input,
                    (None, None) => PolicyInput {
                        policy: Policy::builtin_default(),
                        diagnostics: Vec::new(),
                        display: String::new(),
                        text: String::new(),
                        explicit: false,
                    },
                    (Some(path), None) => load_one_policy(args, path, cwd, side, color)?,
                };
                if let Some(sp) = &system_policy {
                    input.policy = input.policy.with_system_policy(sp.clone());
                }
                input.policy = match (shared_from, attestation_inputs.take()) {
                    (Some(first), _) => match policies.get(first) {
                        Some(first) => input.policy.with_attestations_of(&first.policy),
                        None => input.policy,
                    },
                    (None, Some((None, None))) | (None, None) => input.policy,
                    (None, Some((attestors, store))) => {
                        shared_from = Some(policies.len());
                        input.policy.with_attestations(attestors, store)
                    }
                };
                policies.push(input);
                if uses_fixed {
                    fixed_index = Some(policies.len() - 1);
                } else {
                    index_of.push((key, policies.len() - 1));
                }
                policies.len() - 1
            }
        };
        scopes.push(PlannedScope {
            settings,
            policy_index,
            context,
        });
    }
    Ok(Plan { policies, scopes })
}

/// `--config`, `--no-config`, or discovery (contract §5). An invalid file is fatal.
fn load_config(args: &ScanArgs, cwd: &Path) -> Result<Option<Config>, Fatal> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(path) => path.clone(),
        None => match binauthz_lint::settings::config::discover(cwd) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let display = discover::display_path(&path, cwd);
    Config::load(&path, &display, cwd).map(Some).map_err(|err| {
        eprint!(
            "{}",
            err.render(use_color(args.color, io::stderr().is_terminal()))
        );
        Fatal(format!("{display}: invalid config"))
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

/// `-j` (default: the cores); the global pool (parallel JSON/SARIF rendering) honours it too.
fn jobs(args: &ScanArgs) -> usize {
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
fn inputs(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    jobs: usize,
) -> Result<(discover::Candidates, Option<String>), Fatal> {
    let mut candidates =
        discover::discover(&args.paths, cwd, jobs).map_err(|e| Fatal(e.to_string()))?;
    if let Some(config) = config {
        exclude(&mut candidates, config, cwd);
    }
    let stdin_text = if args.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        io::stdin()
            .lock()
            .take(args.max_file_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Fatal(format!("cannot read standard input: {e}")))?;
        binauthz_lint::inputs::read::decode_text(bytes).ok()
    } else {
        None
    };
    Ok((candidates, stdin_text))
}

/// `policy OLD NEW` input: a file, else `REV:path` read from git objects.
fn load_diff_policy(spec: &str, cwd: &Path, color: bool) -> Result<PolicyInput, Fatal> {
    let file = Path::new(spec);
    let (display, loaded) = if file.is_file() {
        let display = discover::display_path(file, cwd);
        let loaded = policy::load_policy_file(file, &display);
        (display, loaded)
    } else if let Some((rev, path)) = spec.split_once(':').filter(|(rev, _)| !rev.is_empty()) {
        let repo =
            binauthz_lint::inputs::git::Repo::discover(cwd).map_err(|e| Fatal(e.to_string()))?;
        let commit = repo.commit(rev).map_err(|e| Fatal(e.to_string()))?;
        let rel = path.trim_start_matches("./");
        let bytes = repo
            .read_path(&commit, rel)
            .map_err(|e| Fatal(e.to_string()))?
            .ok_or_else(|| {
                Fatal(format!(
                    "{spec}: `{rel}` is not in commit {rev} (the path is relative to the repository root)"
                ))
            })?;
        let text =
            String::from_utf8(bytes).map_err(|_| Fatal(format!("{spec}: not UTF-8 text")))?;
        (spec.to_string(), policy::load_policy_str(&text, spec))
    } else {
        return Err(Fatal(format!(
            "{spec}: policy file not found (a file, or REV:path to read one from git)"
        )));
    };
    match loaded {
        Ok(loaded) => Ok(PolicyInput::loaded(loaded, display)),
        Err(err) => {
            eprint!("{}", err.render(color));
            Err(Fatal(format!("{display}: invalid policy")))
        }
    }
}

/// `policy diff OLD NEW [PATH]...`: the manifests parsed once, evaluated under both.
fn policy_diff(diff_args: &PolicyDiffArgs) -> Result<u8, Fatal> {
    let args = &diff_args.scan;
    for (given, flag) in [
        (args.policy.is_some(), "--policy"),
        (args.since.is_some(), "--since"),
        (args.baseline.is_some(), "--baseline"),
        (args.sarif.is_some(), "--sarif"),
        (args.json.is_some(), "--json"),
    ] {
        if given {
            return Err(Fatal(format!(
                "policy diff: {flag} does not apply (OLD and NEW are the policies; --format json writes the JSON)"
            )));
        }
    }
    if !matches!(args.format, Format::Human | Format::Json | Format::Github) {
        return Err(Fatal(
            "policy diff writes `human`, `json` or `github` (annotations) output".to_string(),
        ));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let color = use_color(args.color, io::stderr().is_terminal());
    let jobs = jobs(args);
    let config = load_config(args, &cwd)?;
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
    let old_plan = build_plan_with(
        args,
        &cwd,
        config.as_ref(),
        Side::Head,
        Some(fixed(old_input)),
    )?;
    let new_plan = build_plan_with(
        args,
        &cwd,
        config.as_ref(),
        Side::Head,
        Some(fixed(new_input)),
    )?;
    let (candidates, stdin_text) = inputs(args, &cwd, config.as_ref(), jobs)?;
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
        run::run_pair(
            &candidates,
            stdin_text.as_deref(),
            &old_scopes,
            &new_scopes,
            jobs,
        )
    };
    let changed_scope = old_scopes
        .list
        .iter()
        .position(|s| s.policy.source() == old_source)
        .unwrap_or(0);
    let diff = binauthz_lint::compare::policydiff::compare(
        old_scopes.get(changed_scope).policy,
        new_scopes.get(changed_scope).policy,
        &old_report,
        &new_report,
    );
    let paths = RepoPaths::new(&cwd, &paths::scan_root(&args.paths, &cwd));
    write_to(args.output.as_deref(), |out| match args.format {
        Format::Json => {
            let document =
                binauthz_lint::compare::policydiff::document(&diff, &old_source, &new_source);
            serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        Format::Github => binauthz_lint::compare::policydiff::render_github(&diff, &paths, out),
        _ => binauthz_lint::compare::policydiff::render_human(&diff, out),
    })?;
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty());
    if let (Format::Github, Some(path)) = (args.format, summary) {
        append_to(Path::new(&path), |out| {
            binauthz_lint::compare::policydiff::render_step_summary(&diff, out)
        })?;
    }
    let failed = diff.fails();
    // The process exits next: freeing two reports one string at a time only delays it.
    std::mem::forget(diff);
    std::mem::forget((old_report, new_report));
    Ok(u8::from(failed))
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
fn renders(args: &ScanArgs, config: Option<&Config>) -> bool {
    render_wanted(args, config, RenderMode::Kustomize)
        || render_wanted(args, config, RenderMode::Helm)
}

/// Render what `--render` / the config asks for (Helm charts, Kustomize roots), then scan
/// the rest: one report. The rendered charts' files leave `candidates`.
fn render_and_run(
    args: &ScanArgs,
    cwd: &Path,
    config: Option<&Config>,
    scopes: &Scopes<'_, '_>,
    candidates: &mut discover::Candidates,
    stdin_text: Option<&str>,
    jobs: usize,
) -> Result<Report, Fatal> {
    let render = render_options(args, config, jobs)?;
    let rendered = render_helm_roots(args, cwd, config, scopes, candidates, jobs)?;
    let prepared =
        binauthz_lint::inputs::render::kustomize::prepare(candidates, cwd, scopes, &render);
    Ok(run::run_with_rendered(
        candidates, stdin_text, scopes, jobs, rendered, prepared,
    ))
}

/// Discover, render, evaluate: the scan of one tree (the work tree, or in PR mode with
/// rendering the base commit exported to a temporary folder), with `cwd` as given.
fn evaluate(args: &ScanArgs, cwd: &Path, side: Side<'_>, jobs: usize) -> Result<Evaluated, Fatal> {
    let cwd = cwd.to_path_buf();
    let config = load_config(args, &cwd)?;
    let plan = build_plan(args, &cwd, config.as_ref(), side)?;
    let (mut candidates, stdin_text) = inputs(args, &cwd, config.as_ref(), jobs)?;
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
    policy_passes(&mut report, &plan);
    report.summary.config = config.as_ref().map(|c| c.display.clone());
    drop(scopes);
    Ok(Evaluated {
        report,
        plan,
        config,
    })
}

fn scan(args: &ScanArgs) -> Result<u8, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    check_distinct_outputs(args, &cwd)?;
    let jobs = jobs(args);
    let Evaluated {
        mut report,
        plan,
        config,
    } = evaluate(args, &cwd, Side::Head, jobs)?;

    let stdout_is_terminal = io::stdout().is_terminal() && args.output.is_none();
    let context = RenderContext {
        color: use_color(args.color, stdout_is_terminal),
        verbose: args.verbose,
        paths: RepoPaths::new(&cwd, &paths::scan_root(&args.paths, &cwd)),
        sarif_include_suppressed: args.sarif_suppressed == SarifSuppressed::Include,
    };
    if let Some(config) = &config {
        let today = args.today.unwrap_or_else(Date::today_utc);
        let whole_tree = covers_folder(&args.paths, &cwd, &config.dir);
        binauthz_lint::settings::exceptions::apply(&mut report, config, today, &cwd, whole_tree);
    }
    report.assign_fingerprints(&context.paths);
    if let Some(rev) = args.since.as_deref().filter(|rev| *rev != "none") {
        let (mut base_report, policy_changed, config_changed) = if renders(args, config.as_ref()) {
            scan_base_rendered(args, &cwd, rev, config.as_ref(), &plan, jobs)?
        } else {
            scan_base(args, &cwd, rev, config.as_ref(), &plan)?
        };
        base_report.assign_fingerprints(&context.paths);
        Baseline::from_report(&base_report).apply(&mut report);
        let policy_display = plan.top_policy_display();
        binauthz_lint::compare::baseline::explain_new(
            &mut report,
            &base_report,
            binauthz_lint::compare::baseline::SideChanges {
                policy_changed,
                config_changed,
                policy_display: &policy_display,
                config_display: config.as_ref().map(|c| c.display.as_str()),
            },
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
) -> Result<Vec<binauthz_lint::evaluate::scan::FileResult>, Fatal> {
    use binauthz_lint::inputs::render::helm;
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
            let index = scopes.index_for(Some(&root.chart_file));
            let scope = scopes.get(index);
            let chart_dir = paths::normalize(&cwd.join(&root.dir));
            let values = config
                .map(|c| c.render.values_for(&chart_dir))
                .unwrap_or_default();
            let mut result =
                helm::render_root(root, values, &scope.settings, scope.policy, &options)?;
            scopes.stamp(index, &mut result);
            Ok(result)
        },
        jobs,
    )
    .map_err(|e| Fatal(e.to_string()))?;
    Ok(helm::take_rendered(candidates, rendered))
}

/// `--render` (or the config's `render:`), the kustomize command and the per-root timeout.
fn render_options(
    args: &ScanArgs,
    config: Option<&Config>,
    jobs: usize,
) -> Result<binauthz_lint::inputs::render::RenderOptions, Fatal> {
    let mut options = binauthz_lint::inputs::render::RenderOptions {
        kustomize: render_wanted(args, config, RenderMode::Kustomize),
        timeout: std::time::Duration::from_secs(args.render_timeout.max(1)),
        jobs,
        ..Default::default()
    };
    if let Some(command) = &args.kustomize_command {
        let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return Err(Fatal("--kustomize-command is empty".to_string()));
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
            return Err(Fatal(format!(
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
        let uses = |w: &binauthz_lint::report::WorkloadReport| {
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
}

/// PR mode with rendering: the base commit's tree is exported (from git objects, no checkout)
/// into a temporary folder outside the repository, and scanned there exactly as the work
/// tree is — rendered with the same tools, its own config and policies where they live in
/// the repository. Report paths are the same as the head's, because the scan runs in the
/// export's copy of the current directory.
fn scan_base_rendered(
    args: &ScanArgs,
    cwd: &Path,
    rev: &str,
    head_config: Option<&Config>,
    head_plan: &Plan,
    jobs: usize,
) -> Result<(Report, bool, bool), Fatal> {
    let base = binauthz_lint::compare::prmode::BaseTree::open(rev, &args.paths, cwd)
        .map_err(|e| Fatal(e.to_string()))?;
    let export = base
        .export(args.max_file_size)
        .map_err(|e| Fatal(e.to_string()))?;
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
        &mut base_args.system_policy,
        &mut base_args.attestors,
        &mut base_args.attestations,
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
    let evaluated = evaluate(&base_args, &base_cwd, Side::Head, jobs)?;
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
    cwd: &Path,
    rev: &str,
    head_config: Option<&Config>,
    head_plan: &Plan,
) -> Result<(Report, bool, bool), Fatal> {
    let base = binauthz_lint::compare::prmode::BaseTree::open(rev, &args.paths, cwd)
        .map_err(|e| Fatal(e.to_string()))?;
    let side = Side::Base(&base);
    // A config inside the repository is read per side; one the change adds means the base
    // had none (its new contexts are part of what the change introduces); one outside the
    // repository is shared by both sides.
    let color = use_color(args.color, io::stderr().is_terminal());
    let (base_config, shared) = match head_config {
        None => (None, None),
        Some(config) => match side.lookup(&config.file, cwd)? {
            BaseFile::Outside => (None, Some(config)),
            BaseFile::Absent => (None, None),
            BaseFile::Text(text) => {
                let loaded =
                    Config::from_text(text, &config.file, &config.display, cwd).map_err(|err| {
                        eprint!("{}", err.render(color));
                        Fatal(format!(
                            "{}: invalid config (at the base commit)",
                            config.display
                        ))
                    })?;
                (Some(loaded), None)
            }
        },
    };
    let config = base_config.as_ref().or(shared);
    let plan = build_plan(args, cwd, config, side)?;
    let policy_changed = plan.policy_texts() != head_plan.policy_texts();
    let scopes = plan.scopes(config, cwd);
    let mut report = base.scan(cwd, &scopes).map_err(|e| Fatal(e.to_string()))?;
    policy_passes(&mut report, &plan);
    let config_changed = config.map(|c| c.text.as_str()) != head_config.map(|c| c.text.as_str());
    Ok((report, policy_changed, config_changed))
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
    sarif_include_suppressed: bool,
}

impl RenderContext {
    /// The same, without colour (for the extra `--json` / `--sarif` files).
    fn plain(&self) -> RenderContext {
        RenderContext {
            color: false,
            verbose: self.verbose,
            paths: self.paths.clone(),
            sarif_include_suppressed: self.sarif_include_suppressed,
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
                include_suppressed: context.sarif_include_suppressed,
            };
            write_to(path, |out| report::sarif::render(report, &options, out))
        }
        Format::Github => write_to(path, |out| {
            report::github::render(report, &context.github(), out)
        }),
    }
}
