//! Settings resolution for one side of a scan: flags > context > config top level >
//! default, resolved into a [`Plan`] (the distinct policies, each loaded once, and one scope
//! per config context), for the work tree or the PR-mode base commit.

use super::cli::{Format, ScanArgs};
use super::output::{append_to, write_to};
use super::{Environment, Fatal};
use crate::compare::prmode::BaseTree;
use crate::evaluate::scan::ScanSettings;
use crate::inputs::discover;
use crate::policy::platform::PlatformPolicy;
use crate::policy::{self, Policy};
use crate::report;
use crate::report::paths::{self, RepoPaths};
use crate::settings::config::Config;
use crate::settings::descriptors::Descriptors;
use crate::settings::scope::{Derived, DescriptorScope, Scope, Scopes};
use crate::yaml::Limits;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Which tree settings files are read for: the work tree, or the PR-mode base commit.
#[derive(Clone, Copy)]
pub(super) enum Side<'a> {
    Head,
    Base(&'a BaseTree),
}

impl Side<'_> {
    /// The base commit's text of a file inside the repository. `None` means: read the work
    /// tree's file (the head side, a file outside the repository, or one the change adds —
    /// then the base is judged by the new file).
    pub fn base_text(self, path: &Path, cwd: &Path) -> Result<Option<String>, Fatal> {
        Ok(match self.lookup(path, cwd)? {
            BaseFile::Text(text) => Some(text),
            BaseFile::Outside | BaseFile::Absent => None,
        })
    }

    pub fn lookup(self, path: &Path, cwd: &Path) -> Result<BaseFile, Fatal> {
        let Side::Base(base) = self else {
            return Ok(BaseFile::Outside);
        };
        let Some(rel) = base.relative(path, cwd) else {
            return Ok(BaseFile::Outside);
        };
        match base.read(&rel).map_err(|e| Fatal::new(e.to_string()))? {
            Some(bytes) => String::from_utf8(bytes)
                .map(BaseFile::Text)
                .map_err(|_| Fatal::new(format!("{rel} at the base commit is not UTF-8 text"))),
            None => Ok(BaseFile::Absent),
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            Side::Head => "",
            Side::Base(_) => " (at the base commit)",
        }
    }
}

/// A settings file as the base commit has it.
pub(super) enum BaseFile {
    /// Outside the repository (or the head side): both sides share the work tree's file.
    Outside,
    /// Inside the repository, but the change adds it.
    Absent,
    Text(String),
}

/// A loaded policy with what its findings need (warnings are reported in the policy file).
pub(super) struct PolicyInput {
    pub policy: Policy,
    pub diagnostics: Vec<policy::PolicyDiagnostic>,
    pub display: String,
    pub text: String,
    /// A policy file was given (not the built-in default): its usage is linted.
    pub explicit: bool,
    /// Attestors the policy source defines (Terraform, Config Connector).
    pub attestors: crate::attest::AttestorDefinitions,
}

impl PolicyInput {
    /// A policy file that loaded.
    pub fn loaded(loaded: policy::LoadedPolicy, display: String) -> PolicyInput {
        PolicyInput {
            policy: loaded.policy,
            diagnostics: loaded.diagnostics,
            display,
            text: loaded.source_text,
            explicit: true,
            attestors: loaded.attestors,
        }
    }
}

/// What one side of a scan is evaluated with: the distinct policies (each loaded once) and
/// the scopes (top level first, then one per config context).
pub(super) struct Plan {
    pub policies: Vec<PolicyInput>,
    pub scopes: Vec<PlannedScope>,
    /// The distinct platform policies (contract §15), each loaded once.
    pub platform: Vec<PlatformInput>,
    /// Contexts derived from GitOps descriptors: the repository root their paths are
    /// relative to, the contexts, and the index of the first one's scope.
    pub derived: Option<(std::path::PathBuf, Arc<Descriptors>, usize)>,
}

pub(super) struct PlannedScope {
    pub settings: ScanSettings,
    pub policy_index: usize,
    pub context: Option<String>,
    /// Indices into `Plan::platform`.
    pub platform: Vec<usize>,
    pub descriptor: Option<DescriptorScope>,
}

/// A loaded platform policy and its warnings (printed like the project policy's).
pub(super) struct PlatformInput {
    pub policy: PlatformPolicy,
    pub diagnostics: Vec<policy::PolicyDiagnostic>,
    pub text: String,
    /// The normalised path, to load each file once.
    key: std::path::PathBuf,
}

impl Plan {
    pub fn scopes<'p, 'c>(&'p self, config: Option<&'c Config>, cwd: &Path) -> Scopes<'p, 'c> {
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
                        platform: s
                            .platform
                            .iter()
                            .filter_map(|&i| self.platform.get(i).map(|p| &p.policy))
                            .collect(),
                        descriptor: s.descriptor.clone(),
                    })
                })
                .collect(),
            config,
            cwd: cwd.to_path_buf(),
            derived: self
                .derived
                .as_ref()
                .map(|(root, descriptors, first)| Derived {
                    root: root.clone(),
                    descriptors: Arc::clone(descriptors),
                    first: *first,
                }),
        }
    }

    /// Whether any scope evaluates platform policies (the summary's `cv*` counts).
    pub fn has_platform(&self) -> bool {
        !self.platform.is_empty()
    }

    /// One scope per descriptor context, after the config's (contract §14): the top level's
    /// policy and settings, with the context's cluster key and namespace unless a flag gives
    /// them (flags beat every context).
    pub fn add_descriptors(
        &mut self,
        args: &ScanArgs,
        root: std::path::PathBuf,
        descriptors: Arc<Descriptors>,
    ) {
        let Some(top) = self.scopes.first() else {
            return;
        };
        let (base, policy_index) = (top.settings.clone(), top.policy_index);
        // The top level's platform policies (a descriptor names no platform policy).
        let platform = top.platform.clone();
        let first = self.scopes.len();
        for context in &descriptors.contexts {
            let mut settings = base.clone();
            let mut descriptor = DescriptorScope::of(context);
            if args.cluster.is_none() {
                settings.cluster.clone_from(&context.cluster.key);
            }
            if args.namespace.is_some() {
                descriptor.namespace_override = None;
            } else if let Some(ns) = &context.namespace {
                settings.namespace.clone_from(ns);
            }
            self.scopes.push(PlannedScope {
                settings,
                policy_index,
                context: Some(context.name.clone()),
                platform: platform.clone(),
                descriptor: Some(descriptor),
            });
        }
        self.derived = Some((root, descriptors, first));
    }

    pub fn top_policy_display(&self) -> String {
        self.policies
            .first()
            .filter(|p| p.explicit)
            .map(|p| p.display.clone())
            .unwrap_or_default()
    }

    /// Every explicit policy's display, text and rules in the export shape (to tell whether
    /// a change touched one: a Terraform folder's policy also changes with a variable's
    /// default in another file).
    pub fn policy_texts(&self) -> Vec<(&str, &str, String)> {
        self.policies
            .iter()
            .filter(|p| p.explicit)
            .map(|p| {
                (
                    p.display.as_str(),
                    p.text.as_str(),
                    policy::show::render_json(&p.policy),
                )
            })
            .collect()
    }
}

pub(super) fn load_one_policy(
    path: &Path,
    cwd: &Path,
    side: Side<'_>,
    color: bool,
    attestor_files: &[(String, String)],
) -> Result<PolicyInput, Fatal> {
    let display = discover::display_path(path, cwd);
    let mut spec = policy::SourceSpec::parse(path, &display, Path::exists);
    spec.attestor_files = attestor_files.to_vec();
    let loaded = match side {
        // A folder of `.tf` files at the base commit: read from git objects like every
        // other file of that side.
        Side::Base(base) if base_has_tf(base, &spec.path, cwd)? => {
            policy::sources::load(&spec, &BaseFiles { base, cwd })
        }
        _ => match side.base_text(&spec.path, cwd)? {
            Some(text) => policy::sources::load_text(&text, &spec),
            None => policy::sources::load(&spec, &policy::sources::WorkTree),
        },
    };
    let path = spec.path.as_path();
    match loaded {
        Ok(loaded) => Ok(PolicyInput::loaded(loaded, display)),
        Err(err) => {
            let rendered = err.render(color);
            let head = matches!(side, Side::Head);
            let fatal = if head && !path.exists() {
                Fatal::new(format!("{display}: policy file not found"))
            } else {
                let hint = policy::manifest_hint(&err.source_text)
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                Fatal::new(format!("{display}: invalid policy{}{hint}", side.suffix()))
            };
            // Not for the base commit's policy in PR mode: its lines are not the
            // checked-out file's.
            let fatal = if head {
                fatal.with_policy_error(err, display)
            } else {
                fatal
            };
            Err(fatal.after(rendered))
        }
    }
}

/// The base commit's tree as a policy source's files.
struct BaseFiles<'a> {
    base: &'a BaseTree,
    cwd: &'a Path,
}

impl policy::sources::SourceFiles for BaseFiles<'_> {
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        let Some(rel) = self.base.relative(path, self.cwd) else {
            return Ok(None);
        };
        match self.base.read(&rel).map_err(|e| e.to_string())? {
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("{rel} at the base commit is not UTF-8 text")),
            None => Ok(None),
        }
    }

    fn tf_files(&self, dir: &Path) -> Result<Option<Vec<std::path::PathBuf>>, String> {
        let Some(rel) = self.base.relative(dir, self.cwd) else {
            return Ok(None);
        };
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{}/", rel.trim_end_matches('/'))
        };
        let files = self
            .base
            .repo
            .tree_files(&self.base.commit)
            .map_err(|e| e.to_string())?;
        let mut tf: Vec<std::path::PathBuf> = files
            .iter()
            .filter_map(|f| f.path.strip_prefix(&prefix))
            .filter(|name| !name.contains('/') && name.ends_with(".tf"))
            .map(|name| dir.join(name))
            .collect();
        if tf.is_empty() {
            return Ok(None);
        }
        tf.sort();
        Ok(Some(tf))
    }
}

/// Whether the base commit has `.tf` files directly in this folder.
fn base_has_tf(base: &BaseTree, path: &Path, cwd: &Path) -> Result<bool, Fatal> {
    use policy::sources::SourceFiles as _;
    BaseFiles { base, cwd }
        .tf_files(path)
        .map(|f| f.is_some())
        .map_err(Fatal::new)
}

/// Resolve every setting of every scope (flag > context > config top level > default) and
/// load each distinct policy once.
pub(super) fn build_plan(
    args: &ScanArgs,
    env: &Environment,
    cwd: &Path,
    config: Option<&Config>,
    side: Side<'_>,
) -> Result<Plan, Fatal> {
    build_plan_with(args, env, cwd, config, side, None)
}

/// A policy that replaces the configured one (`policy diff` evaluates OLD and NEW): in every
/// scope (`only_for: None`), or only in the scopes whose configured policy is that file.
pub(super) struct FixedPolicy {
    pub input: PolicyInput,
    pub only_for: Option<std::path::PathBuf>,
}

/// `fixed`: see [`FixedPolicy`]; contexts still give their cluster and namespace.
pub(super) fn build_plan_with(
    args: &ScanArgs,
    env: &Environment,
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
    let color = env.stderr_color(args.color);
    let from_config = |pick: fn(&Config) -> Option<&crate::settings::config::PathSetting>| {
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
                    return Err(Fatal::new(format!("{display}: invalid system policy"))
                        .after(err.render(color)));
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
        Some(path) => Some(load_attestors(&path, cwd)?),
    };
    // A Config Connector attestor file also names the attestors KCC policies reference.
    let kcc_attestor_files: Vec<(String, String)> = args
        .attestors
        .clone()
        .or_else(|| from_config(|c| c.attestors.as_ref()))
        .filter(|p| p.is_file())
        .and_then(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let display = discover::display_path(&p, cwd);
            (policy::sources::detect(&text, &display) == policy::SourceKind::ConfigConnector)
                .then_some((display, text))
        })
        .into_iter()
        .collect();
    let attestations = match args
        .attestations
        .clone()
        .or_else(|| from_config(|c| c.attestations.as_ref()))
    {
        None => None,
        Some(path) => Some(
            crate::attest::AttestationStore::load(&path)
                .map_err(|e| Fatal::new(format!("invalid --attestations input: {e}")))?,
        ),
    };

    let top_policy = args
        .policy
        .clone()
        .or_else(|| from_config(|c| c.policy.as_ref()));
    let cluster_flag = match (&args.cluster, config) {
        (None, _) => None,
        (Some(value), Some(config)) => Some(config.resolve_cluster(value).map_err(Fatal::new)?),
        (Some(value), None) => Some(
            crate::settings::config::resolve_cluster(&Default::default(), value).map_err(|e| {
                Fatal::new(format!(
                    "--cluster: {e} (aliases come from a config file's `clusters:`)"
                ))
            })?,
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
        platform: config.and_then(|c| c.platform).unwrap_or_default(),
        terraform_plans: args
            .terraform_plan
            .iter()
            .map(|p| crate::inputs::discover::display_path(p, cwd))
            .collect(),
    };

    // Platform policies: the flag replaces the config's lists; a context without its own
    // list uses the top level's.
    let top_platform: Vec<std::path::PathBuf> = if args.platform_policy.is_empty() {
        config
            .map(|c| c.platform_policies.iter().map(|p| p.path.clone()).collect())
            .unwrap_or_default()
    } else {
        args.platform_policy.clone()
    };
    let mut platform: Vec<PlatformInput> = Vec::new();
    let mut platform_for = |paths: &[std::path::PathBuf]| -> Result<Vec<usize>, Fatal> {
        let mut indices = Vec::with_capacity(paths.len());
        for path in paths {
            let key = crate::report::paths::normalize(&cwd.join(path));
            let index = match platform.iter().position(|p| p.key == key) {
                Some(i) => i,
                None => {
                    platform.push(load_platform_policy(path, key, cwd, side, color)?);
                    platform.len() - 1
                }
            };
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        Ok(indices)
    };
    let top_platform_indices = platform_for(&top_platform)?;
    let mut platform_of_scope = vec![top_platform_indices.clone()];
    for context in config.map(|c| c.contexts.as_slice()).unwrap_or_default() {
        let indices = match (&context.platform_policies, args.platform_policy.is_empty()) {
            (Some(own), true) => {
                platform_for(&own.iter().map(|p| p.path.clone()).collect::<Vec<_>>())?
            }
            _ => top_platform_indices.clone(),
        };
        platform_of_scope.push(indices);
    }

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
        if let Some(platform) = context.platform {
            settings.platform = platform;
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
    for ((path, settings, context), platform_indices) in wanted.into_iter().zip(platform_of_scope) {
        let key = path
            .as_deref()
            .map(|p| crate::report::paths::normalize(&cwd.join(p)));
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
                        attestors: Default::default(),
                    },
                    (Some(path), None) => {
                        load_one_policy(path, cwd, side, color, &kcc_attestor_files)?
                    }
                };
                if let Some(sp) = &system_policy {
                    input.policy = input.policy.with_system_policy(sp.clone());
                }
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
            platform: platform_indices,
            descriptor: None,
        });
    }
    share_attestations(&mut policies, attestors, attestations)?;
    Ok(Plan {
        policies,
        scopes,
        platform,
        derived: None,
    })
}

/// Load one platform policy (from the base commit's tree in PR mode, like the policy).
pub(super) fn load_platform_policy(
    path: &Path,
    key: std::path::PathBuf,
    cwd: &Path,
    side: Side<'_>,
    color: bool,
) -> Result<PlatformInput, Fatal> {
    let display = discover::display_path(path, cwd);
    let loaded = match side.base_text(path, cwd)? {
        Some(text) => policy::platform::load_platform_policy_str(&text, &display),
        None => policy::platform::load_platform_policy_file(path, &display),
    };
    match loaded {
        Ok(loaded) => Ok(PlatformInput {
            policy: loaded.policy,
            diagnostics: loaded.diagnostics,
            text: loaded.source_text,
            key,
        }),
        Err(err) => {
            let head = matches!(side, Side::Head);
            let message = if head && !path.exists() {
                format!("{display}: platform policy file not found")
            } else {
                format!("{display}: invalid platform policy{}", side.suffix())
            };
            let rendered = err.render(color);
            // `--format github` annotates the errors of the work tree's file, like a policy's.
            let fatal = if head {
                Fatal::new(message).with_policy_error(err, display)
            } else {
                Fatal::new(message)
            };
            Err(fatal.after(rendered))
        }
    }
}

/// One set of attestors and occurrences for every policy of the run: `--attestors` (or
/// config `attestors:`) plus the attestors the policy sources define (contract §13).
fn share_attestations(
    policies: &mut [PolicyInput],
    mut attestors: Option<crate::attest::AttestorSet>,
    mut attestations: Option<crate::attest::AttestationStore>,
) -> Result<(), Fatal> {
    for input in policies.iter() {
        if !input.attestors.is_empty() {
            attestors
                .get_or_insert_with(Default::default)
                .add_definitions(&input.attestors)
                .map_err(|e| Fatal::new(format!("invalid attestor in {}: {e}", input.display)))?;
        }
    }
    if attestors.is_none() && attestations.is_none() {
        return Ok(());
    }
    let Some((first, rest)) = policies.split_first_mut() else {
        return Ok(());
    };
    first.policy = first
        .policy
        .clone()
        .with_attestations(attestors.take(), attestations.take());
    for input in rest {
        input.policy = input.policy.clone().with_attestations_of(&first.policy);
    }
    Ok(())
}

/// `--attestors` / config `attestors:`: gcloud `attestors describe` files, or the attestors
/// of a Terraform configuration, plan or Config Connector file (contract §13).
fn load_attestors(path: &Path, cwd: &Path) -> Result<crate::attest::AttestorSet, Fatal> {
    let display = discover::display_path(path, cwd);
    match policy::sources::attestor_definitions(path, &display, &policy::sources::WorkTree) {
        Ok(Some(defs)) => {
            let mut set = crate::attest::AttestorSet::default();
            set.add_definitions(&defs)
                .map_err(|e| Fatal::new(format!("invalid --attestors input: {e}")))?;
            Ok(set)
        }
        Ok(None) => crate::attest::AttestorSet::load(path)
            .map_err(|e| Fatal::new(format!("invalid --attestors input: {e}"))),
        Err(e) => Err(Fatal::new(format!(
            "invalid --attestors input: {display}: {e}"
        ))),
    }
}

/// `--config`, `--no-config`, or discovery (contract §5). An invalid file is fatal.
pub(super) fn load_config(
    args: &ScanArgs,
    env: &Environment,
    cwd: &Path,
) -> Result<Option<Config>, Fatal> {
    if args.no_config {
        return Ok(None);
    }
    let path = match &args.config {
        Some(path) => path.clone(),
        None => match crate::settings::config::discover(cwd) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let display = discover::display_path(&path, cwd);
    Config::load(&path, &display, cwd).map(Some).map_err(|err| {
        Fatal::new(format!("{display}: invalid config"))
            .after(err.render(env.stderr_color(args.color)))
    })
}

/// `--format github` and an invalid policy: annotations at its errors and a step summary
/// that says what to fix, so the check is not only a red cross with a log to dig through.
pub(super) fn github_policy_error(
    args: &ScanArgs,
    env: &Environment,
    cwd: &Path,
    fatal: &Fatal,
    stdout: &mut dyn Write,
) {
    let Some((err, display)) = fatal.policy_error.as_deref() else {
        return;
    };
    if args.format != Format::Github {
        return;
    }
    let paths = RepoPaths::new(cwd, &paths::scan_root(&args.paths, cwd));
    // Best effort: the run fails with exit code 2 whatever happens here.
    let _ = write_to(args.output.as_deref(), stdout, |out| {
        report::github::policy_error(&err.diagnostics, &paths, out)
    });
    if let Some(path) = &env.step_summary {
        let _ = append_to(path, |out| {
            report::github::policy_error_summary(&err.diagnostics, display, &paths, out)
        });
    }
}
