//! The strict loader of `.binauthz-lint.yaml`: every key, type, date, id and alias checked,
//! every problem a located diagnostic (with "did you mean" where one is close).

use super::*;

/// A cluster key `LOCATION.NAME` as written in `clusters:`; an error at `span` otherwise.
pub(super) fn resolve_cluster_key(
    loader: &mut Loader<'_>,
    key: &str,
    span: Span,
) -> Option<String> {
    match key.split_once('.') {
        Some((location, name)) if !location.is_empty() && !name.is_empty() => Some(key.to_string()),
        _ => {
            loader.error(
                span,
                format!("`{key}` is not a cluster key `LOCATION.NAME` (e.g. us-central1-a.prod)"),
                "not LOCATION.NAME",
            );
            None
        }
    }
}

#[derive(Default)]
pub(super) struct Parts {
    pub(super) policy: Option<PathSetting>,
    pub(super) system_policy: Option<PathSetting>,
    pub(super) attestors: Option<PathSetting>,
    pub(super) attestations: Option<PathSetting>,
    pub(super) platform_policies: Vec<PathSetting>,
    pub(super) namespace: Option<String>,
    pub(super) fail_on: Option<FailOn>,
    pub(super) exclude: Vec<String>,
    pub(super) exclude_matcher: Option<Gitignore>,
    pub(super) clusters: BTreeMap<String, String>,
    pub(super) contexts: Vec<Context>,
    pub(super) exceptions: Vec<Exception>,
    pub(super) render: RenderSettings,
    pub(super) platform: Option<PlatformSetting>,
    pub(super) gitops: GitopsSettings,
}

pub(super) struct Loader<'t> {
    pub(super) tree: &'t Tree<'t>,
    pub(super) file: &'t str,
    pub(super) dir: &'t Path,
    pub(super) diags: Vec<PolicyDiagnostic>,
}

const TOP_KEYS: &[&str] = &[
    "version",
    "policy",
    "systemPolicy",
    "attestors",
    "attestations",
    "platformPolicies",
    "namespace",
    "failOn",
    "exclude",
    "clusters",
    "contexts",
    "exceptions",
    "render",
    "platform",
    "discover",
    "repository",
];
const CONTEXT_KEYS: &[&str] = &[
    "name",
    "paths",
    "cluster",
    "namespace",
    "policy",
    "platformPolicies",
    "platform",
];
const PLATFORMS: &[&str] = &["auto", "gke", "cloudrun"];
const EXCEPTION_KEYS: &[&str] = &[
    "id", "rules", "match", "reason", "owner", "ticket", "expires",
];
const MATCH_KEYS: &[&str] = &[
    "kind",
    "name",
    "namespace",
    "context",
    "path",
    "container",
    "image",
];
const RENDER_KEYS: &[&str] = &["kustomize", "helm", "helmValues"];
const FAIL_ON: &[&str] = &["error", "warning", "note", "never"];

/// A context or exception before aliases and context names can be checked (they may be
/// defined after their use in the file).
pub(super) struct PendingCluster {
    context: usize,
    value: String,
    span: Span,
}

impl<'t> Loader<'t> {
    pub(super) fn error(
        &mut self,
        span: Span,
        message: String,
        label: &str,
    ) -> &mut PolicyDiagnostic {
        let d =
            PolicyDiagnostic::new(Severity::Error, INVALID, self.file, span, message).label(label);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    pub(super) fn key(&self, node: NodeId) -> &'t str {
        self.tree.scalar(node).unwrap_or("")
    }

    /// Check every key of a mapping against `known`; returns the known entries.
    pub(super) fn entries(
        &mut self,
        map: NodeId,
        known: &[&str],
        what: &str,
    ) -> Vec<(&'t str, Span, NodeId)> {
        let mut out = Vec::new();
        for (k, v) in self.tree.entries(map) {
            let key = self.key(k);
            let span = self.tree.span(k);
            if known.contains(&key) {
                out.push((key, span, v));
            } else {
                let help = crate::policy::suggest(key, known.iter().copied());
                let d = self.error(
                    span,
                    format!("unknown key `{key}` in {what}"),
                    "unknown key",
                );
                d.help = Some(match help {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known keys: {}", known.join(", ")),
                });
            }
        }
        out
    }

    pub(super) fn wrong_type(&mut self, node: NodeId, key: &str, expected: &str) {
        let found = crate::policy::describe(self.tree, node);
        let span = self.tree.span(node);
        self.error(
            span,
            format!("`{key}` must be {expected}, not {found}"),
            "wrong type",
        );
    }

    pub(super) fn string(&mut self, node: NodeId, key: &str) -> Option<String> {
        match self.tree.string(node) {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong_type(node, key, "a string");
                // YAML reads `N`, `yes`, `1.10` as a boolean or a number: quoting keeps text.
                if let Some(text) = self.tree.scalar(node) {
                    let help = format!("quote it: `\"{text}\"`");
                    if let Some(last) = self.diags.last_mut() {
                        last.help = Some(help);
                    }
                }
                None
            }
        }
    }

    pub(super) fn non_empty_string(&mut self, node: NodeId, key: &str) -> Option<String> {
        let s = self.string(node, key)?;
        if s.trim().is_empty() {
            let span = self.tree.span(node);
            self.error(span, format!("`{key}` must not be empty"), "empty");
            return None;
        }
        Some(s)
    }

    pub(super) fn path(&mut self, node: NodeId, key: &str) -> Option<PathSetting> {
        let s = self.non_empty_string(node, key)?;
        Some(PathSetting {
            path: crate::report::paths::normalize(&self.dir.join(s)),
            span: self.tree.span(node),
        })
    }

    /// A list of paths (a single path is accepted as a one-item list).
    pub(super) fn paths(&mut self, node: NodeId, key: &str) -> Vec<PathSetting> {
        if self.tree.seq(node).is_none() {
            return self.path(node, key).into_iter().collect();
        }
        self.strings(node, key)
            .into_iter()
            .map(|(s, span)| PathSetting {
                path: crate::report::paths::normalize(&self.dir.join(s)),
                span,
            })
            .collect()
    }

    pub(super) fn strings(&mut self, node: NodeId, key: &str) -> Vec<(String, Span)> {
        let Some(items) = self.tree.seq(node).map(<[NodeId]>::to_vec) else {
            self.wrong_type(node, key, "a list of strings");
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|item| {
                let s = self.non_empty_string(item, &format!("{key}[]"))?;
                Some((s, self.tree.span(item)))
            })
            .collect()
    }

    pub(super) fn bool(&mut self, node: NodeId, key: &str) -> Option<bool> {
        match self.tree.scalar_full(node) {
            Some(("true", yaml::Style::Plain, None)) => Some(true),
            Some(("false", yaml::Style::Plain, None)) => Some(false),
            _ => {
                self.wrong_type(node, key, "`true` or `false`");
                None
            }
        }
    }

    /// A `/`-aware glob: `*` stays within a folder, `**` crosses folders.
    pub(super) fn glob(&mut self, pattern: &str, span: Span, key: &str) -> Option<GlobMatcher> {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        match GlobBuilder::new(trimmed).literal_separator(true).build() {
            Ok(glob) => Some(glob.compile_matcher()),
            Err(e) => {
                self.error(
                    span,
                    format!("`{key}`: invalid glob `{pattern}`: {}", e.kind()),
                    "invalid glob",
                );
                None
            }
        }
    }

    pub(super) fn load(&mut self) -> Option<Parts> {
        let tree = self.tree;
        let root = tree.single_document_root("config", |span, message, label| {
            self.error(span, message, label);
        })?;
        let Some(root) = root.filter(|r| !self.tree.is_null(*r)) else {
            // An empty file is a valid config with every default.
            return Some(Parts::default());
        };
        if self.tree.map(root).is_none() {
            let found = crate::policy::describe(self.tree, root);
            let span = self.tree.span(root);
            self.error(
                span,
                format!("a config is a mapping of settings, not {found}"),
                "not a mapping",
            );
            return None;
        }
        let mut parts = Parts::default();
        let mut pending_clusters: Vec<PendingCluster> = Vec::new();
        let mut pending_contexts: Vec<(usize, String, Span)> = Vec::new();
        let mut exception_nodes: Vec<NodeId> = Vec::new();
        for (key, key_span, value) in self.entries(root, TOP_KEYS, "the config") {
            match key {
                "version" => match self.tree.scalar_full(value) {
                    Some(("1", yaml::Style::Plain, None)) => {}
                    _ => {
                        let span = self.tree.span(value);
                        let d = self.error(
                            span,
                            "unsupported config `version`: this binauthz-lint reads version 1"
                                .to_string(),
                            "unsupported version",
                        );
                        d.help = Some("write `version: 1`".to_string());
                    }
                },
                "policy" => parts.policy = self.path(value, key),
                "platformPolicies" => parts.platform_policies = self.paths(value, key),
                "systemPolicy" => parts.system_policy = self.path(value, key),
                "attestors" => parts.attestors = self.path(value, key),
                "attestations" => parts.attestations = self.path(value, key),
                "namespace" => parts.namespace = self.namespace(value),
                "failOn" => parts.fail_on = self.fail_on(value),
                "platform" => parts.platform = self.platform(value),
                "exclude" => {
                    let patterns = self.strings(value, key);
                    let mut builder = GitignoreBuilder::new(self.dir);
                    for (pattern, span) in &patterns {
                        if let Err(e) = builder.add_line(None, pattern) {
                            self.error(
                                *span,
                                format!("`exclude`: invalid pattern `{pattern}`: {e}"),
                                "invalid pattern",
                            );
                        }
                    }
                    parts.exclude = patterns.into_iter().map(|(p, _)| p).collect();
                    parts.exclude_matcher = builder.build().ok();
                }
                "clusters" => {
                    parts.clusters = self.clusters(value, &mut parts.gitops.clusters);
                }
                "discover" => parts.gitops.discover = self.discover(value),
                "repository" => parts.gitops.repository = self.repository(value),
                "contexts" => {
                    parts.contexts = self.contexts(value, &mut pending_clusters);
                }
                "exceptions" => match self.tree.seq(value) {
                    Some(items) => exception_nodes = items.to_vec(),
                    None => self.wrong_type(value, key, "a list of exception entries"),
                },
                "render" => parts.render = self.render(value),
                _ => {
                    // `entries` only returns known keys.
                    let _ = key_span;
                }
            }
        }
        for pending in pending_clusters {
            match resolve_cluster(&parts.clusters, &pending.value) {
                Ok(key) => {
                    if let Some(context) = parts.contexts.get_mut(pending.context) {
                        context.cluster = Some(key);
                    }
                }
                Err(message) => {
                    self.error(pending.span, message, "unknown cluster alias");
                }
            }
        }
        let context_names: BTreeSet<String> =
            parts.contexts.iter().map(|c| c.name.clone()).collect();
        let mut ids: BTreeMap<String, u32> = BTreeMap::new();
        for node in exception_nodes {
            if let Some(exception) = self.exception(node, &mut pending_contexts) {
                let line = exception.span.start.line;
                if let Some(first) = ids.get(&exception.id) {
                    let message = format!(
                        "exception id `{}` is used twice (first at line {first}); ids must be unique",
                        exception.id
                    );
                    let span = self.id_span(node).unwrap_or(exception.span);
                    self.error(span, message, "duplicate id");
                } else {
                    ids.insert(exception.id.clone(), line);
                }
                parts.exceptions.push(exception);
            }
        }
        for (_, name, span) in pending_contexts {
            // `Kind/namespace/name[@cluster]`: a context derived from a GitOps descriptor
            // (contract §14), known only once the tree is read.
            let descriptor_name = name.matches('/').count() >= 2;
            if !context_names.contains(&name) && !descriptor_name {
                let help = crate::policy::suggest(&name, context_names.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                let d = self.error(
                    span,
                    format!("`match.context`: no context is named `{name}`"),
                    "unknown context",
                );
                d.help = help;
            }
        }
        Some(parts)
    }

    pub(super) fn id_span(&self, entry: NodeId) -> Option<Span> {
        self.tree.get(entry, "id").map(|v| self.tree.span(v))
    }

    pub(super) fn namespace(&mut self, node: NodeId) -> Option<String> {
        let ns = self.non_empty_string(node, "namespace")?;
        let valid = ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid {
            let span = self.tree.span(node);
            self.error(
                span,
                format!("`{ns}` is not a Kubernetes namespace name (lowercase letters, digits and `-`, at most 63)"),
                "invalid namespace",
            );
            return None;
        }
        Some(ns)
    }

    pub(super) fn platform(&mut self, node: NodeId) -> Option<PlatformSetting> {
        let value = self.string(node, "platform")?;
        let parsed = PlatformSetting::parse(&value);
        if parsed.is_none() {
            let span = self.tree.span(node);
            let help = crate::policy::suggest(&value, PLATFORMS.iter().copied());
            let d = self.error(
                span,
                format!(
                    "`platform` must be one of {}, not `{value}`",
                    PLATFORMS.join(", ")
                ),
                "unknown platform",
            );
            d.help = help.map(|s| format!("did you mean `{s}`?"));
        }
        parsed
    }

    pub(super) fn fail_on(&mut self, node: NodeId) -> Option<FailOn> {
        let value = self.string(node, "failOn")?;
        let parsed = match value.as_str() {
            "error" => Some(FailOn::Error),
            "warning" => Some(FailOn::Warning),
            "note" => Some(FailOn::Note),
            "never" => Some(FailOn::Never),
            _ => None,
        };
        if parsed.is_none() {
            let span = self.tree.span(node);
            let help = FAIL_ON
                .iter()
                .copied()
                .find(|known| !value.is_empty() && known.starts_with(value.as_str()))
                .or_else(|| crate::policy::suggest(&value, FAIL_ON.iter().copied()));
            let d = self.error(
                span,
                format!(
                    "`failOn` must be one of {}, not `{value}`",
                    FAIL_ON.join(", ")
                ),
                "unknown level",
            );
            d.help = help.map(|s| format!("did you mean `{s}`?"));
        }
        parsed
    }

    /// `clusters:`: `alias: LOCATION.NAME` (v1.1), or `alias: {key, argocd, flux,
    /// configSync}` (contract §14), whose identities go to `identities`.
    pub(super) fn clusters(
        &mut self,
        node: NodeId,
        identities: &mut Vec<ClusterIdentities>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if self.tree.map(node).is_none() {
            self.wrong_type(node, "clusters", "a mapping of alias: LOCATION.NAME");
            return out;
        }
        for (k, v) in self.tree.entries(node) {
            let alias = self.key(k).to_string();
            let span = self.tree.span(k);
            if alias.is_empty() || alias.contains('.') {
                self.error(
                    span,
                    format!("cluster alias `{alias}` must be a name without `.` (a value with a `.` is a literal cluster key)"),
                    "invalid alias",
                );
                continue;
            }
            if self.tree.map(v).is_some() {
                if let Some(entry) = self.cluster_object(&alias, v, span) {
                    out.insert(alias, entry.key.clone());
                    identities.push(entry);
                }
                continue;
            }
            let Some(key) = self.non_empty_string(v, &format!("clusters.{alias}")) else {
                continue;
            };
            if let Some(key) = resolve_cluster_key(self, &key, self.tree.span(v)) {
                identities.push(ClusterIdentities {
                    alias: alias.clone(),
                    key: key.clone(),
                    argocd: Vec::new(),
                    flux: Vec::new(),
                    config_sync: Vec::new(),
                    span,
                });
                out.insert(alias, key);
            }
        }
        out
    }

    pub(super) fn contexts(
        &mut self,
        node: NodeId,
        pending: &mut Vec<PendingCluster>,
    ) -> Vec<Context> {
        let Some(items) = self.tree.seq(node).map(<[NodeId]>::to_vec) else {
            self.wrong_type(node, "contexts", "a list of contexts");
            return Vec::new();
        };
        let mut out: Vec<Context> = Vec::new();
        let mut names: BTreeMap<String, u32> = BTreeMap::new();
        for item in items {
            let span = self.tree.span(item);
            if self.tree.map(item).is_none() {
                self.wrong_type(item, "contexts[]", "a mapping with `name` and `paths`");
                continue;
            }
            let mut context = Context {
                name: String::new(),
                patterns: Vec::new(),
                matchers: Vec::new(),
                cluster: None,
                namespace: None,
                policy: None,
                platform_policies: None,
                platform: None,
                span,
            };
            let mut has_paths = false;
            let mut has_name = false;
            let mut name_span = span;
            for (key, _, value) in self.entries(item, CONTEXT_KEYS, "a context") {
                match key {
                    "name" => {
                        has_name = true;
                        name_span = self.tree.span(value);
                        context.name = self.non_empty_string(value, "name").unwrap_or_default();
                    }
                    "paths" => {
                        has_paths = true;
                        let globs = self.strings(value, "paths");
                        if globs.is_empty() && self.tree.seq(value).is_some() {
                            let vspan = self.tree.span(value);
                            self.error(
                                vspan,
                                "`paths` is empty: the context would match no file".to_string(),
                                "empty list",
                            );
                        }
                        for (pattern, pspan) in globs {
                            if let Some(m) = self.glob(&pattern, pspan, "paths") {
                                context.matchers.push(m);
                            }
                            context.patterns.push(pattern);
                        }
                    }
                    "cluster" => {
                        if let Some(value_text) = self.non_empty_string(value, "cluster") {
                            pending.push(PendingCluster {
                                context: out.len(),
                                value: value_text,
                                span: self.tree.span(value),
                            });
                        }
                    }
                    "namespace" => context.namespace = self.namespace(value),
                    "policy" => context.policy = self.path(value, "policy"),
                    "platformPolicies" => {
                        context.platform_policies = Some(self.paths(value, "platformPolicies"));
                    }
                    "platform" => context.platform = self.platform(value),
                    _ => {}
                }
            }
            if !has_name {
                self.error(span, "a context needs a `name`".to_string(), "no name");
            }
            if !has_paths {
                self.error(
                    span,
                    format!(
                        "context `{}` needs `paths` (globs relative to the config's folder)",
                        context.name
                    ),
                    "no paths",
                );
            }
            if !context.name.is_empty() {
                if let Some(first) = names.get(&context.name) {
                    let message = format!(
                        "context name `{}` is used twice (first at line {first}); names must be unique",
                        context.name
                    );
                    self.error(name_span, message, "duplicate name");
                } else {
                    names.insert(context.name.clone(), name_span.start.line);
                }
            }
            out.push(context);
        }
        out
    }

    pub(super) fn render(&mut self, node: NodeId) -> RenderSettings {
        let mut out = RenderSettings::default();
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "render",
                "a mapping (`kustomize`, `helm`, `helmValues`)",
            );
            return out;
        }
        for (key, _, value) in self.entries(node, RENDER_KEYS, "`render`") {
            match key {
                "kustomize" => out.kustomize = self.bool(value, key).unwrap_or(false),
                "helm" => out.helm = self.bool(value, key).unwrap_or(false),
                "helmValues" => out.helm_values = self.helm_values(value),
                _ => {}
            }
        }
        out
    }

    /// `render.helmValues: {CHART_DIR: [values files]}`. A chart folder must hold a
    /// `Chart.yaml` (an entry for another folder would silently do nothing), and a values
    /// file must be a local path: `helm template -f` also fetches URLs, and rendering never
    /// uses the network.
    pub(super) fn helm_values(&mut self, node: NodeId) -> Vec<HelmValues> {
        let key = "render.helmValues";
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                key,
                "a mapping of chart folders to lists of values files",
            );
            return Vec::new();
        }
        let mut out: Vec<HelmValues> = Vec::new();
        for (k, v) in self.tree.entries(node) {
            let Some(chart) = self.non_empty_string(k, "render.helmValues key") else {
                continue;
            };
            let chart_dir = crate::report::paths::normalize(&self.dir.join(&chart));
            if !chart_dir.join("Chart.yaml").is_file() {
                let span = self.tree.span(k);
                let d = self.error(
                    span,
                    format!("`{key}`: `{chart}` is not a Helm chart folder (no Chart.yaml in it)"),
                    "not a chart",
                );
                d.help = Some("chart folders are relative to the config file's folder".to_string());
                continue;
            }
            let mut files = Vec::new();
            for (file, span) in self.strings(v, &format!("{key}.{chart}")) {
                if file.contains("://") {
                    self.error(
                        span,
                        format!("`{key}.{chart}`: `{file}` is a URL; values files must be local files (rendering never uses the network)"),
                        "URL",
                    );
                    continue;
                }
                files.push(crate::report::paths::normalize(&self.dir.join(&file)));
            }
            out.push(HelmValues { chart_dir, files });
        }
        out
    }

    pub(super) fn exception(
        &mut self,
        node: NodeId,
        pending_contexts: &mut Vec<(usize, String, Span)>,
    ) -> Option<Exception> {
        let span = self.tree.span(node);
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "exceptions[]",
                "a mapping (`id`, `rules`, `match`, `reason`, `expires`)",
            );
            return None;
        }
        let errors_before = self.error_count();
        let mut id = None;
        let mut rules = None;
        let mut matcher = None;
        let mut reason = None;
        let mut owner = None;
        let mut ticket = None;
        let mut expires = None;
        for (key, _, value) in self.entries(node, EXCEPTION_KEYS, "an exception") {
            match key {
                "id" => id = self.non_empty_string(value, "id"),
                "rules" => rules = Some(self.rule_ids(value)),
                "match" => matcher = self.exception_match(value, pending_contexts),
                "reason" => reason = self.non_empty_string(value, "reason"),
                "owner" => owner = self.string(value, "owner"),
                "ticket" => ticket = self.string(value, "ticket"),
                "expires" => expires = self.date(value),
                _ => {}
            }
        }
        let present = |k: &str| self.tree.get(node, k).is_some();
        let missing: Vec<&str> = ["id", "rules", "match", "reason", "expires"]
            .into_iter()
            .filter(|k| !present(k))
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
            let message = format!(
                "this exception lacks {} (required: id, rules, match, reason, expires)",
                names.join(", ")
            );
            self.error(span, message, "incomplete exception");
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(Exception {
            id: id?,
            rules: rules?,
            matcher: matcher?,
            reason: reason?,
            owner,
            ticket,
            expires: expires?,
            span,
        })
    }

    pub(super) fn error_count(&self) -> usize {
        self.diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub(super) fn rule_ids(&mut self, node: NodeId) -> Vec<String> {
        let ids = self.strings(node, "rules");
        if ids.is_empty() && self.tree.seq(node).is_some() {
            let span = self.tree.span(node);
            self.error(
                span,
                "`rules` is empty: name the rule ids this exception covers".to_string(),
                "empty list",
            );
        }
        let known: Vec<&str> = crate::rules::RULES.iter().map(|r| r.id).collect();
        let mut out = Vec::new();
        for (id, span) in ids {
            if crate::rules::find(&id).is_none() {
                let help = crate::policy::suggest(&id, known.iter().copied());
                let d = self.error(span, format!("unknown rule id `{id}`"), "unknown rule");
                d.help = Some(match help {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`binauthz-lint rules` lists them".to_string(),
                });
            } else {
                out.push(id);
            }
        }
        out
    }

    pub(super) fn date(&mut self, node: NodeId) -> Option<Date> {
        let text = self.tree.scalar(node).map(str::to_string);
        match text.as_deref().and_then(Date::parse) {
            Some(date) if self.tree.map(node).is_none() && self.tree.seq(node).is_none() => {
                Some(date)
            }
            _ => {
                let span = self.tree.span(node);
                let shown =
                    text.unwrap_or_else(|| crate::policy::describe(self.tree, node).to_string());
                let d = self.error(
                    span,
                    format!("`expires` must be a date YYYY-MM-DD, not `{shown}`"),
                    "bad date",
                );
                d.help = Some(
                    "for example `expires: 2026-12-15` (valid through that day, UTC)".to_string(),
                );
                None
            }
        }
    }

    pub(super) fn exception_match(
        &mut self,
        node: NodeId,
        pending_contexts: &mut Vec<(usize, String, Span)>,
    ) -> Option<ExceptionMatch> {
        if self.tree.map(node).is_none() {
            self.wrong_type(
                node,
                "match",
                "a mapping (kind, name, namespace, context, path, container, image)",
            );
            return None;
        }
        let mut m = ExceptionMatch::default();
        let entries = self.entries(node, MATCH_KEYS, "`match`");
        if entries.is_empty() && self.tree.entries(node).is_empty() {
            let span = self.tree.span(node);
            self.error(
                span,
                "`match` is empty: an exception must name what it covers".to_string(),
                "empty match",
            );
            return None;
        }
        for (key, _, value) in entries {
            let label = format!("match.{key}");
            let Some(text) = self.non_empty_string(value, &label) else {
                continue;
            };
            let span = self.tree.span(value);
            match key {
                "kind" => m.kind = Some(text),
                "name" => m.name = self.glob(&text, span, &label),
                "namespace" => m.namespace = Some(text),
                "context" => {
                    pending_contexts.push((0, text.clone(), span));
                    m.context = Some(text);
                }
                "path" => m.path = self.glob(&text, span, &label),
                "container" => m.container = Some(text),
                "image" => m.image = Some(text),
                _ => {}
            }
        }
        Some(m)
    }
}
