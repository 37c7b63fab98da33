//! Command-line arguments (clap derive), resolved once into settings.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BINAUTHZ_LINT_COMMIT"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "binauthz-lint",
    version = VERSION,
    about = "Offline linter for Google Cloud Binary Authorization: which Kubernetes workloads the cluster will refuse, and which pass only through break-glass",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan manifests (files, folders, or `-` for standard input).
    Scan(Box<ScanArgs>),
    /// Work with Binary Authorization policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Work with the configuration file (`.binauthz-lint.yaml`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run policy test suites (`*.binauthz-test.yaml`): what the policy must decide.
    ///
    /// Each case says what the policy must admit, deny, dry-run or let through break-glass,
    /// and is checked against what `scan` decides for the same pod. Exit 0 when every case
    /// passes, 1 when one fails, 2 when no suite or no case is found or a suite is invalid.
    Test(Box<TestArgs>),
    /// List the contexts derived from GitOps descriptors (Argo CD, Flux, Config Sync) in
    /// the scanned paths: where each path deploys, and the contexts each file falls in
    /// (`--format human` or `json`; every family is read unless --discover or the config's
    /// `discover:` names some).
    Contexts(Box<ScanArgs>),
    /// List the finding rules (id, level, summary).
    Rules,
    /// Show the long help of one rule.
    Explain {
        /// A rule id, as `binauthz-lint rules` lists them.
        rule_id: String,
    },
    /// Evaluate Kubernetes resources against check-based platform policies, offline: the
    /// JSON `gcloud beta container binauthz policy evaluate` prints (exit 1 unless every
    /// pod is CONFORMANT).
    Evaluate(Box<EvaluateArgs>),
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Kubernetes resources (files; `-` reads standard input): a Pod or any workload kind,
    /// whose pods are named like the workload.
    #[arg(required_unless_present = "image", conflicts_with = "image")]
    pub resources: Vec<PathBuf>,
    /// Evaluate these images as one unnamed pod instead of resources (repeatable); as with
    /// gcloud's `--image`, the unscoped (catch-all) check set applies.
    #[arg(long, value_name = "IMAGE")]
    pub image: Vec<String>,
    /// Check-based platform policy (`gkePolicy`, the file of `gcloud beta container binauthz
    /// policy create --platform=gke --policy-file`). Repeat it to evaluate several.
    #[arg(long, value_name = "FILE", required = true)]
    pub platform_policy: Vec<PathBuf>,
    /// Attestation occurrences (decide `simpleSigningAttestationCheck`s).
    #[arg(long, value_name = "PATH")]
    pub attestations: Option<PathBuf>,
    /// Namespace of objects that name none.
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// Output format (`json`, the one gcloud prints with `--format json`).
    #[arg(long, value_enum, default_value_t = EvaluateFormat::Json)]
    pub format: EvaluateFormat,
    /// When to use colour in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvaluateFormat {
    Json,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy file (exit 0 valid, 2 invalid).
    Validate {
        file: PathBuf,
        /// When to use colour.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Print a policy from any source (gcloud export, Terraform configuration or plan
    /// JSON, Config Connector) as `gcloud container binauthz policy export` prints it.
    Show {
        /// The policy source: a file, a folder of `.tf` files, optionally `#ADDRESS`.
        source: PathBuf,
        #[arg(long, value_enum, default_value_t = ShowFormat::Yaml)]
        format: ShowFormat,
        /// When to use colour (diagnostics).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Impact preview: evaluate the manifests under OLD and NEW and list every workload
    /// whose decision changes (exit 1 when one becomes denied by an enforced rule).
    Diff(Box<PolicyDiffArgs>),
}

/// `policy show --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Yaml,
    Json,
}

/// `policy diff`: only the options it honours (what is evaluated, and where the diff goes);
/// the scan's own reporting options (`--policy`, `--since`, `--baseline`, `--sarif`,
/// `--fail-on`, `--audit-log`, ...) do not apply to a comparison of two policies.
#[derive(Args, Debug)]
pub struct PolicyDiffArgs {
    /// The current policy: a file, or `REV:path` (path from the repository root, read from
    /// git objects).
    pub old: String,
    /// The proposed policy: a file, or `REV:path`.
    pub new: String,
    /// Output format: the changes as text, the JSON document, or GitHub annotations at the
    /// affected images (with a job summary).
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    #[command(flatten)]
    pub inputs: InputArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    Github,
}

impl PolicyDiffArgs {
    /// The settings of the scan each side runs (no policy: OLD and NEW are the policies).
    pub fn scan_args(&self) -> ScanArgs {
        ScanArgs {
            inputs: self.inputs.clone(),
            policy: None,
            format: match self.format {
                DiffFormat::Human => Format::Human,
                DiffFormat::Json => Format::Json,
                DiffFormat::Github => Format::Github,
            },
            sarif: None,
            json: None,
            audit_log: None,
            baseline: None,
            since: None,
            today: None,
            sarif_suppressed: SarifSuppressed::Omit,
            fail_on: None,
            verbose: false,
        }
    }
}

/// `binauthz-lint test` (contract §16).
#[derive(Args, Clone, Debug)]
pub struct TestArgs {
    /// Suite files, or folders searched for `*.binauthz-test.yaml` (`.gitignore` honoured,
    /// hidden folders skipped).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Write the `--format` report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE (for the CI's test view).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run only the cases whose name (or `FILE::NAME`) matches this regular expression.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub run: Option<regex::Regex>,
    /// Evaluate every suite under this policy instead of the suites' own `policy:` (the
    /// same suite guards the exported policy and its Terraform or Config Connector source).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// When to use colour in the human table (`auto`: on a terminal, never with NO_COLOR).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A table per suite: each case, pass/FAIL, expected and actual decision and rule.
    Human,
    /// Contract §16: `{schemaVersion, suites[].cases[], summary}`.
    Json,
    /// JUnit XML: one testsuite per file, one testcase `FILE::NAME` per case.
    Junit,
}

fn parse_regex(value: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(value).map_err(|e| format!("not a regular expression: {e}"))
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate a config file (exit 0 valid, 2 invalid); without FILE, the one a scan in
    /// the current directory would use.
    Validate {
        file: Option<PathBuf>,
        /// When to use colour.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    /// One line per finding (`file:line:col: level[rule] message`), then the summary.
    Concise,
    Json,
    Sarif,
    Github,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SarifSuppressed {
    Omit,
    Include,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

/// `--render`: what to build with the user's own tools before evaluating.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RenderMode {
    /// Scan the files as written (also overrides the config's `render:`).
    None,
    /// Build every Kustomization root with `kubectl kustomize` (or --kustomize-command).
    Kustomize,
    /// Helm chart roots, with `helm template`.
    Helm,
    /// Both Kustomize roots and Helm charts.
    All,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What is evaluated, and how: shared by `scan` and `policy diff` (both see the same
/// workloads).
#[derive(Args, Clone, Debug)]
pub struct InputArgs {
    /// Files or folders to scan; `-` reads manifests from standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Exported Google system policy, used when the policy enables global evaluation.
    #[arg(long, value_name = "FILE")]
    pub system_policy: Option<PathBuf>,
    /// Cluster the manifests deploy to (`LOCATION.NAME`, or an alias from the config's
    /// `clusters:`); selects clusterAdmissionRules. Beats every config context.
    #[arg(long, value_name = "LOCATION.NAME", value_parser = parse_cluster)]
    pub cluster: Option<String>,
    /// Namespace for objects that name none [default: the config's, else `default`].
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Configuration file (default: `.binauthz-lint.yaml` in the current directory, else at
    /// the root of its git work tree).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any configuration file.
    #[arg(long)]
    pub no_config: bool,
    /// Attestor descriptions (file or folder, as `gcloud container binauthz attestors describe` prints them).
    #[arg(long, value_name = "PATH")]
    pub attestors: Option<PathBuf>,
    /// Attestation occurrences (file or folder, as `gcloud container binauthz attestations list` prints them).
    #[arg(long, value_name = "PATH")]
    pub attestations: Option<PathBuf>,
    /// Check-based platform policy bound to the cluster (continuous validation; the file of
    /// `gcloud beta container binauthz policy create --platform=gke --policy-file`).
    /// Repeatable; replaces the config's `platformPolicies`.
    #[arg(long, value_name = "FILE")]
    pub platform_policy: Vec<PathBuf>,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: number of cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// When to use colour in human output (`auto`: on a terminal, never with NO_COLOR).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_file_size: u64,
    /// Maximum YAML nesting depth.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_depth: usize,
    /// Maximum number of nodes that YAML aliases may expand to, per file.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub alias_budget: u64,
    /// Maximum number of YAML documents per file.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub max_documents: usize,
    /// Evaluate what the cluster will receive (comma-separated): `kustomize`
    /// renders every Kustomization root (the user's `kubectl kustomize`; exec and container
    /// plugins are never enabled) and evaluates the rendered objects instead of the files
    /// they consume; `helm` renders every Helm chart root with `helm template` (offline, no
    /// plugins), located at the template files; `all` both [default: the config's
    /// `render:`, else `none`: nothing is executed].
    #[arg(long, value_enum, value_name = "MODE", value_delimiter = ',')]
    pub render: Vec<RenderMode>,
    /// The command that builds one kustomization folder (its path is appended), e.g.
    /// `kustomize build` [default: `kubectl kustomize`].
    #[arg(long, value_name = "COMMAND")]
    pub kustomize_command: Option<String>,
    /// Seconds one root may take to render before it is `render-failed`.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub render_timeout: u64,
    /// Let the kustomize command fetch remote resources (URLs, `github.com/…`, `git@…`) of
    /// the roots it renders. Command line only: a config file (which a pull request can
    /// change) never switches it on. Without it, a root with a remote resource is
    /// `render-failed` and its files are scanned raw.
    #[arg(long)]
    pub render_remote: bool,
    /// Read GitOps descriptors in the scanned paths (comma-separated: `argocd`, `flux`,
    /// `configsync`; `none` turns it off) and evaluate each path in the clusters and
    /// namespaces they deploy it to (contract §14) [default: the config's `discover:`].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_family)]
    pub discover: Vec<String>,
    /// Count the legacy break-glass annotation by presence alone, whatever its value.
    #[arg(long)]
    pub lenient_breakglass: bool,
    /// A Terraform plan JSON (`terraform show -json PLAN`) whose Cloud Run services and jobs
    /// are evaluated too (repeatable).
    #[arg(long, value_name = "FILE")]
    pub terraform_plan: Vec<PathBuf>,
}

#[derive(Args, Clone, Debug)]
pub struct ScanArgs {
    /// Binary Authorization policy (YAML or JSON, as `gcloud container binauthz policy export` prints it).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Report format (`BINAUTHZ_LINT_FORMAT` sets it too, e.g. `concise` for CI logs; the
    /// option wins).
    #[arg(long, value_enum, env = "BINAUTHZ_LINT_FORMAT", default_value_t = Format::Human, help_heading = "Reports and exit code")]
    pub format: Format,
    /// Also write a SARIF report to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Reports and exit code")]
    pub sarif: Option<PathBuf>,
    /// Also write a JSON report to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Reports and exit code")]
    pub json: Option<PathBuf>,
    /// Write the audit events (break-glass / dry-run) as JSON Lines to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Reports and exit code")]
    pub audit_log: Option<PathBuf>,
    /// Compare with a JSON report written earlier (e.g. on the default branch): findings
    /// whose fingerprint is in FILE are `unchanged` and do not fail the run; the report
    /// gains `baselineState`, `absent[]` and `summary.new/unchanged/absent`.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "since",
        help_heading = "Reports and exit code"
    )]
    pub baseline: Option<PathBuf>,
    /// PR mode: also evaluate the tree at `git merge-base REV HEAD` (read from git objects,
    /// nothing checked out) and compare by fingerprint: only findings the change introduces
    /// (`new`) fail the run; `absent[]` lists those it resolves. `none` turns it off.
    #[arg(long, value_name = "REV", help_heading = "Reports and exit code")]
    pub since: Option<String>,
    /// The date exceptions are judged on (`YYYY-MM-DD`, for reproducible runs) [default:
    /// today in UTC].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date, help_heading = "Reports and exit code")]
    pub today: Option<crate::settings::config::Date>,
    /// SARIF: `omit` findings approved by an exception (default), or `include` them with
    /// `suppressions` (kind external, status accepted).
    #[arg(long, value_enum, default_value_t = SarifSuppressed::Omit, help_heading = "Reports and exit code")]
    pub sarif_suppressed: SarifSuppressed,
    /// Lowest finding level that makes the exit code 1 [default: the config's `failOn`, else
    /// `warning`].
    #[arg(long, value_enum, help_heading = "Reports and exit code")]
    pub fail_on: Option<FailOn>,
    /// Human and concise output: also list the skipped files with their reasons.
    #[arg(short = 'v', long, help_heading = "Reports and exit code")]
    pub verbose: bool,
}

/// `args.paths`, `args.render`, ...: the shared options read as the scan's own.
impl std::ops::Deref for ScanArgs {
    type Target = InputArgs;
    fn deref(&self) -> &InputArgs {
        &self.inputs
    }
}

impl std::ops::DerefMut for ScanArgs {
    fn deref_mut(&mut self) -> &mut InputArgs {
        &mut self.inputs
    }
}

/// `--cluster` must look like a clusterAdmissionRules key: `LOCATION.NAME`, e.g.
/// `us-central1-a.prod` (zone or region, then the cluster name), or be an alias (no `.`),
/// which the config's `clusters:` resolves.
fn parse_cluster(value: &str) -> Result<String, String> {
    if value.contains(char::is_whitespace) || value.is_empty() {
        return Err(format!(
            "`{value}` is not LOCATION.NAME (e.g. us-central1-a.prod) nor a cluster alias"
        ));
    }
    match value.split_once('.') {
        None => Ok(value.to_string()),
        Some((location, name)) if !location.is_empty() && !name.is_empty() => Ok(value.to_string()),
        _ => Err(format!(
            "`{value}` is not LOCATION.NAME (e.g. us-central1-a.prod): the cluster's zone or region, a dot, and its name"
        )),
    }
}

/// `--discover` values: the families, or `none`.
fn parse_family(value: &str) -> Result<String, String> {
    if value == "none" || crate::settings::config::Family::parse(value).is_some() {
        return Ok(value.to_string());
    }
    let hint = crate::policy::suggest(
        value,
        crate::settings::config::Family::NAMES.iter().copied(),
    )
    .map(|s| format!("; did you mean `{s}`?"))
    .unwrap_or_default();
    Err(format!(
        "`{value}` is not a descriptor family (argocd, flux, configsync, or none){hint}"
    ))
}

fn parse_date(value: &str) -> Result<crate::settings::config::Date, String> {
    crate::settings::config::Date::parse(value)
        .ok_or_else(|| format!("`{value}` is not a date YYYY-MM-DD"))
}

impl InputArgs {
    /// `--render` for one tool: `Some(true/false)` when the flag decides, `None` when the
    /// config's `render:` does.
    pub fn render_flag(&self, tool: RenderMode) -> Option<bool> {
        if self.render.is_empty() {
            return None;
        }
        Some(
            !self.render.contains(&RenderMode::None)
                && (self.render.contains(&tool) || self.render.contains(&RenderMode::All)),
        )
    }
}
