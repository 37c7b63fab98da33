//! `binauthz-lint test [PATH…]` (contract §16): find the suites, validate every one before
//! running any, load each suite's policy with the loader `scan` uses (so every policy source
//! it accepts works here), run the selected cases and write the reports.
//! Exit code 0 when every case passes, 1 when one fails; `Err` (exit 2) when no suite or no
//! case is found, or an input is invalid — a run that tested nothing is never green.

use super::cli::{TestArgs, TestFormat};
use super::output::write_to;
use super::plan::{Side, load_one_policy, load_platform_policy};
use super::{Environment, Fatal};
use crate::attest::{AttestationStore, AttestorSet};
use crate::inputs::discover::display_path;
use crate::policy::platform::PlatformPolicy;
use crate::policy::{self, Policy};
use crate::suites::render::{self, HumanOptions};
use crate::suites::{self, Suite, SuitePath, SuiteResult};
use std::io::Write;
use std::path::Path;

/// `test`: exit code 0 (all cases pass) or 1 (one fails); `Err` is exit code 2.
pub fn test(args: &TestArgs, env: &Environment, stdout: &mut dyn Write) -> Result<u8, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal::new(format!("cannot read the current directory: {e}")))?;
    test_in(args, env, stdout, &cwd)
}

fn test_in(
    args: &TestArgs,
    env: &Environment,
    stdout: &mut dyn Write,
    cwd: &Path,
) -> Result<u8, Fatal> {
    let color = env.stderr_color(args.color);
    distinct_outputs(args, cwd)?;
    let files = suites::discover(&args.paths).map_err(Fatal::new)?;
    if files.is_empty() {
        let searched: Vec<String> = args.paths.iter().map(|p| display_path(p, cwd)).collect();
        return Err(Fatal::new(format!(
            "no test suite (`*.binauthz-test.yaml`) found under {}: nothing was tested",
            searched.join(", ")
        )));
    }
    // Every suite is validated before any case runs: an invalid one fails the run whole.
    let mut loaded: Vec<Suite> = Vec::new();
    let mut diagnostics = String::new();
    let mut invalid: Vec<String> = Vec::new();
    for file in &files {
        let display = display_path(file, cwd);
        match suites::load_suite(file, &display, cwd) {
            Ok(suite) => loaded.push(suite),
            Err(err) => {
                diagnostics.push_str(&err.render(color));
                invalid.push(display);
            }
        }
    }
    if !invalid.is_empty() {
        return Err(Fatal::new(format!(
            "invalid test suite{}: {}",
            if invalid.len() == 1 { "" } else { "s" },
            invalid.join(", ")
        ))
        .after(diagnostics));
    }
    let selected = |suite: &Suite, case: &suites::Case| {
        args.run
            .as_ref()
            .is_none_or(|re| re.is_match(&case.name) || re.is_match(&case.id(&suite.display)))
    };
    let total: usize = loaded
        .iter()
        .map(|s| s.cases.iter().filter(|c| selected(s, c)).count())
        .sum();
    if total == 0 {
        let run = args
            .run
            .as_ref()
            .map(|re| format!(" matches --run `{re}`"))
            .unwrap_or_default();
        return Err(Fatal::new(format!(
            "no test case{run} in {} suite{}: nothing was tested",
            loaded.len(),
            if loaded.len() == 1 { "" } else { "s" }
        )));
    }

    let inputs = Inputs;
    let mut results: Vec<SuiteResult> = Vec::new();
    for suite in &loaded {
        if !suite.cases.iter().any(|c| selected(suite, c)) {
            continue;
        }
        let (base, policy_display) = inputs.suite_policy(args, suite, cwd, color)?;
        let platform = match &suite.platform_policy {
            None => None,
            Some(p) => {
                let key = crate::report::paths::normalize(&cwd.join(&p.path));
                Some(
                    load_platform_policy(&p.path, key, cwd, Side::Head, color)
                        .map_err(|f| in_suite(f, suite))?
                        .policy,
                )
            }
        };
        let platform: Vec<&PlatformPolicy> = platform.iter().collect();
        let mut cases = Vec::new();
        for case in suite.cases.iter().filter(|c| selected(suite, c)) {
            let policy = inputs.case_policy(suite, case, &base)?;
            cases.push(suites::run_case(suite, case, &policy, &platform, cwd));
        }
        results.push(SuiteResult {
            file: suite.display.clone(),
            policy: policy_display,
            cases,
        });
    }

    let to_terminal = env.stdout_is_terminal && args.output.is_none();
    let human = HumanOptions {
        color: env.color(args.color, to_terminal),
    };
    let write = |format: TestFormat, path: Option<&Path>, stdout: &mut dyn Write| {
        write_to(path, stdout, |out| match format {
            TestFormat::Human => render::human(&results, human, out),
            TestFormat::Json => render::json(&results, out),
            TestFormat::Junit => render::junit(&results, out),
        })
    };
    write(args.format, args.output.as_deref(), stdout)?;
    if let Some(path) = &args.junit {
        write(TestFormat::Junit, Some(path), stdout)?;
    }
    if let Some(path) = &args.json {
        write(TestFormat::Json, Some(path), stdout)?;
    }
    let failed = results.iter().map(SuiteResult::failed).sum::<usize>();
    Ok(u8::from(failed > 0))
}

/// `-o`, `--junit` and `--json` naming one file would overwrite each other's report.
fn distinct_outputs(args: &TestArgs, cwd: &Path) -> Result<(), Fatal> {
    let mut seen: Vec<(std::path::PathBuf, &str)> = Vec::new();
    for (path, option) in [
        (&args.output, "--output"),
        (&args.junit, "--junit"),
        (&args.json, "--json"),
    ] {
        let Some(path) = path else { continue };
        let key = crate::report::paths::normalize(&cwd.join(path));
        if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(Fatal::new(format!(
                "{option} and {other} name the same file {}: give each report its own file",
                path.display()
            )));
        }
        seen.push((key, option));
    }
    Ok(())
}

/// Loads what a suite's cases are evaluated with (attestation files are small: each suite,
/// and each case that names its own, reads them again).
#[derive(Default)]
struct Inputs;

impl Inputs {
    /// The suite's policy (or `--policy`), with its system policy, attestors and attestations.
    fn suite_policy(
        &self,
        args: &TestArgs,
        suite: &Suite,
        cwd: &Path,
        color: bool,
    ) -> Result<(Policy, String), Fatal> {
        let path = args
            .policy
            .clone()
            .or_else(|| suite.policy.as_ref().map(|p| p.path.clone()));
        let (mut policy, display) = match path {
            // The loader `scan --policy` uses: every policy source it accepts works here.
            Some(path) => {
                let input = load_one_policy(&path, cwd, Side::Head, color, &[])
                    .map_err(|f| in_suite(f, suite))?;
                (input.policy, input.display)
            }
            None => (Policy::builtin_default(), "<built-in default>".to_string()),
        };
        if let Some(sp) = &suite.system_policy {
            let shown = display_path(&sp.path, cwd);
            let system = policy::load_system_policy_file(&sp.path, &shown).map_err(|err| {
                in_suite(
                    Fatal::new(format!("{shown}: invalid system policy")).after(err.render(color)),
                    suite,
                )
            })?;
            policy = policy.with_system_policy(system);
        }
        let policy = self.with_attestations(
            policy,
            suite.attestors.as_ref(),
            suite.attestations.as_ref(),
            suite,
        )?;
        Ok((policy, display))
    }

    /// The suite's policy, with the case's own attestors / attestations when it names any.
    fn case_policy(
        &self,
        suite: &Suite,
        case: &suites::Case,
        base: &Policy,
    ) -> Result<Policy, Fatal> {
        if case.attestors.is_none() && case.attestations.is_none() {
            return Ok(base.clone());
        }
        self.with_attestations(
            base.clone(),
            case.attestors.as_ref().or(suite.attestors.as_ref()),
            case.attestations.as_ref().or(suite.attestations.as_ref()),
            suite,
        )
    }

    fn with_attestations(
        &self,
        policy: Policy,
        attestors: Option<&SuitePath>,
        attestations: Option<&SuitePath>,
        suite: &Suite,
    ) -> Result<Policy, Fatal> {
        if attestors.is_none() && attestations.is_none() {
            return Ok(policy);
        }
        let attestors = attestors
            .map(|p| AttestorSet::load(&p.path))
            .transpose()
            .map_err(|e| in_suite(Fatal::new(format!("invalid attestors input: {e}")), suite))?;
        let store = attestations
            .map(|p| AttestationStore::load(&p.path))
            .transpose()
            .map_err(|e| {
                in_suite(
                    Fatal::new(format!("invalid attestations input: {e}")),
                    suite,
                )
            })?;
        Ok(policy.with_attestations(attestors, store))
    }
}

/// Name the suite whose input failed, so the user knows which file to fix.
fn in_suite(mut fatal: Fatal, suite: &Suite) -> Fatal {
    fatal.message = format!("{} (in test suite {})", fatal.message, suite.display);
    fatal
}
