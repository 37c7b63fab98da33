//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, VS Code viewers).
//!
//! Hand-written serde structs (serde-sarif does not build, see DEPENDENCIES.md) for the subset
//! we emit: one run, every rule with its help page, results at the exact field with
//! repository-relative URIs, related locations, logical locations (the Kubernetes object),
//! line-free `partialFingerprints` and the decision details as properties.

use super::fingerprint::Fnv128;
use super::paths::{RepoPaths, Resolved, encode_relative};
use super::{BreakglassSource, Finding, ImageReport, Location, Report, WorkloadReport};
use crate::rules::{self, Level, RULES};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// The schema URI GitHub's documentation puts in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The tool's home page (`tool.driver.informationUri`).
pub const INFORMATION_URI: &str = "https://github.com/binauthz-lint/binauthz-lint";
/// The `uriBaseId` of every repository-relative URI.
pub const SRCROOT: &str = "%SRCROOT%";
/// The `partialFingerprints` key (bump the version when the inputs change).
pub const FINGERPRINT_KEY: &str = "binauthzLint/v1";

/// Options for the SARIF renderer.
#[derive(Clone, Debug)]
pub struct SarifOptions {
    /// Where report paths are resolved from, and the repository root URIs are relative to.
    pub paths: RepoPaths,
    /// The commit the tool was built from (`tool.driver.properties.commit`), when known.
    pub commit: Option<String>,
    /// Write findings approved by an exception, with `suppressions` (contract §7); by
    /// default they are left out, so code scanning shows no alert for an approved use.
    pub include_suppressed: bool,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: Vec<Invocation>,
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    results: Results<'a>,
    column_kind: &'static str,
    properties: Map<String, Value>,
}

#[derive(Serialize)]
struct Tool {
    driver: ToolComponent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolComponent {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    properties: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: MultiformatMessage,
    full_description: MultiformatMessage,
    help: MultiformatMessage,
    help_uri: String,
    default_configuration: ReportingConfiguration,
    properties: Map<String, Value>,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

#[derive(Serialize)]
struct ReportingConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    /// Findings that have no place in the repository (see [`placed_in_repository`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

/// A finding that code scanning could not place: a file outside the repository root or
/// standard input. No physical location (an absolute `file://` URI makes GitHub reject the
/// whole upload, multitool GH1006; a `stdin` URI with a line names no file); the message
/// starts with `path:line:col` instead.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<LogicalOnlyLocation>,
    message: Message,
    level: &'static str,
    associated_rule: RuleReference,
    properties: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalOnlyLocation {
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
struct RuleReference {
    id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// `new` / `unchanged` in baseline mode (SARIF §3.27.24).
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    /// An approved exception (SARIF §3.27.23, §3.35).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    properties: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<ArtifactContent>,
}

#[derive(Serialize)]
struct ArtifactContent {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
    properties: Map<String, Value>,
}

/// Render the report as one SARIF log, pretty-printed, with a final newline.
pub fn render(report: &Report, options: &SarifOptions, out: &mut dyn Write) -> io::Result<()> {
    let log = build(report, options);
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The results, built one at a time while they are written (a large scan's SARIF is tens
/// of megabytes; there is no need to hold it all in memory).
struct Results<'a> {
    report: &'a Report,
    paths: &'a RepoPaths,
    index: Index<'a>,
    fingerprints: Vec<String>,
    include_suppressed: bool,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.report
                .findings
                .iter()
                .zip(&self.fingerprints)
                .filter(|(finding, _)| self.include_suppressed || finding.suppression.is_none())
                .filter(|(finding, _)| placed_in_repository(&finding.location.file, self.paths))
                .map(|(finding, fingerprint)| {
                    result(finding, fingerprint.clone(), self.paths, &self.index)
                }),
        )
    }
}

fn build<'a>(report: &'a Report, options: &'a SarifOptions) -> Log<'a> {
    let paths = &options.paths;
    let results = Results {
        report,
        paths,
        include_suppressed: options.include_suppressed,
        index: Index::new(report),
        fingerprints: fingerprints(report, paths),
    };
    let tool_execution_notifications = report
        .findings
        .iter()
        .zip(&results.fingerprints)
        .filter(|(finding, _)| !placed_in_repository(&finding.location.file, paths))
        .filter(|(finding, _)| options.include_suppressed || finding.suppression.is_none())
        .map(|(finding, fingerprint)| notification(finding, fingerprint, paths, &results.index))
        .collect();
    let mut driver_properties = Map::new();
    if let Some(commit) = &options.commit {
        driver_properties.insert("commit".to_string(), Value::from(commit.as_str()));
    }
    let mut original_uri_base_ids = BTreeMap::new();
    original_uri_base_ids.insert(
        SRCROOT,
        ArtifactLocation {
            uri: Some(paths.root_uri()),
            uri_base_id: None,
            description: Some(Message {
                text: "The repository root: the git work tree that contains the scanned path, else the directory the scan ran in.".to_string(),
            }),
        },
    );
    let mut run_properties = Map::new();
    run_properties.insert(
        "policy".to_string(),
        json!({ "source": report.policy.display }),
    );
    run_properties.insert(
        "summary".to_string(),
        serde_json::to_value(&report.summary).unwrap_or(Value::Null),
    );
    Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: ToolComponent {
                    name: report.tool.name,
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: RULES.iter().map(descriptor).collect(),
                    properties: driver_properties,
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications,
            }],
            original_uri_base_ids,
            results,
            column_kind: "unicodeCodePoints",
            properties: run_properties,
        }],
    }
}

fn descriptor(rule: &rules::RuleMeta) -> ReportingDescriptor {
    let mut properties = Map::new();
    properties.insert(
        "tags".to_string(),
        json!(["kubernetes", "binary-authorization"]),
    );
    ReportingDescriptor {
        id: rule.id,
        name: rule.name(),
        short_description: MultiformatMessage {
            text: sentence(rule.summary),
            markdown: None,
        },
        full_description: MultiformatMessage {
            text: sentence(&rule.full_description()),
            markdown: None,
        },
        help: MultiformatMessage {
            text: rule.doc.to_string(),
            markdown: Some(rule.doc.to_string()),
        },
        help_uri: rule.help_uri(),
        default_configuration: ReportingConfiguration {
            level: rule.level.as_str(),
        },
        properties,
    }
}

/// SARIF messages are sentences: end them with a period (multitool rule SARIF2001).
fn sentence(text: &str) -> String {
    let trimmed = text.trim_end();
    if trimmed.ends_with(['.', '!', '?']) {
        trimmed.to_string()
    } else {
        format!("{trimmed}.")
    }
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// Lookups from a finding's location to what it is about.
/// Places are keyed with the descriptor context too: a file several descriptor contexts
/// deploy (contract §14) has one workload per context at the same place.
type Place<'a> = (&'a str, u32, u32, Option<&'a str>);
/// A workload by file, document, kind, namespace, name and descriptor context.
type WorkloadKey<'a> = (&'a str, u32, &'a str, &'a str, &'a str, Option<&'a str>);

struct Index<'a> {
    images: HashMap<Place<'a>, (&'a WorkloadReport, &'a ImageReport)>,
    markers: HashMap<Place<'a>, (&'a WorkloadReport, &'a BreakglassSource)>,
    workloads: HashMap<WorkloadKey<'a>, &'a WorkloadReport>,
}

/// The descriptor context a workload was evaluated in (`None` outside descriptor contexts).
fn descriptor_context(w: &WorkloadReport) -> Option<&str> {
    w.scope
        .as_ref()
        .filter(|s| s.context_source.is_some())
        .and_then(|s| s.context.as_deref())
}

fn finding_context(f: &Finding) -> Option<&str> {
    f.workload
        .as_ref()
        .and_then(|w| w.descriptor_context.as_deref())
}

impl<'a> Index<'a> {
    fn new(report: &'a Report) -> Index<'a> {
        let mut index = Index {
            images: HashMap::new(),
            markers: HashMap::new(),
            workloads: HashMap::new(),
        };
        for workload in &report.workloads {
            let loc = &workload.location;
            let context = descriptor_context(workload);
            index
                .workloads
                .entry((
                    &loc.file,
                    loc.document,
                    &workload.kind,
                    &workload.namespace,
                    &workload.name,
                    context,
                ))
                .or_insert(workload);
            for image in &workload.images {
                let l = &image.location;
                index
                    .images
                    .entry((&l.file, l.line, l.column, context))
                    .or_insert((workload, image));
            }
            for source in workload.breakglass.iter().flat_map(|b| &b.sources) {
                let l = &source.location;
                index
                    .markers
                    .entry((&l.file, l.line, l.column, context))
                    .or_insert((workload, source));
            }
        }
        index
    }

    fn workload(&self, finding: &Finding) -> Option<&'a WorkloadReport> {
        let w = finding.workload.as_ref()?;
        let loc = &finding.location;
        self.workloads
            .get(&(
                loc.file.as_str(),
                loc.document,
                w.kind.as_str(),
                w.namespace.as_str(),
                w.name.as_str(),
                w.descriptor_context.as_deref(),
            ))
            .copied()
    }
}

/// Whether code scanning can show a location: only files under the repository root can be
/// named by a repository-relative URI. Standard input and files outside the root (a
/// `--policy ../policy.yaml`, a policy exported to a temporary file) cannot.
fn placed_in_repository(file: &str, paths: &RepoPaths) -> bool {
    matches!(paths.resolve(file), Resolved::InRoot(_))
}

/// The artifact of a location in the repository (callers check [`placed_in_repository`]).
fn artifact_location(relative: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: Some(encode_relative(relative)),
        uri_base_id: Some(SRCROOT),
        description: None,
    }
}

/// `path:line:col` of a location, as the human report writes it (repository-relative in the
/// root, absolute outside, `<stdin>`): for messages about locations SARIF cannot point at.
fn location_text(loc: &Location, paths: &RepoPaths) -> String {
    format!(
        "{}:{}:{}",
        paths.repo_relative(&loc.file),
        loc.line.max(1),
        loc.column.max(1)
    )
}

/// The region of a location. An empty span (a point, e.g. a whole-file finding or a parse
/// error) becomes the whole line; `snippet` is the finding's source line, when known.
fn region(loc: &Location, line_text: Option<&str>) -> (Region, Option<Region>) {
    let line = loc.line.max(1);
    let column = loc.column.max(1);
    let end_line = loc.end_line.max(line);
    let point = end_line == line && loc.end_column <= column;
    if point {
        let region = Region {
            start_line: line,
            start_column: None,
            end_line: None,
            end_column: None,
            snippet: line_text.map(|t| ArtifactContent {
                text: t.to_string(),
            }),
        };
        return (region, None);
    }
    let end_column = if end_line == line {
        loc.end_column.max(column + 1)
    } else {
        loc.end_column.max(1)
    };
    let mut region = Region {
        start_line: line,
        start_column: Some(column),
        end_line: Some(end_line),
        end_column: Some(end_column),
        snippet: None,
    };
    let mut context = None;
    if let (Some(text), true) = (line_text, end_line == line) {
        let len = text.chars().count() as u32;
        // Only when the line is complete (not capped) and holds the whole span.
        if end_column <= len + 1 {
            let start = (column - 1) as usize;
            let width = (end_column - column) as usize;
            region.snippet = Some(ArtifactContent {
                text: text.chars().skip(start).take(width).collect(),
            });
            if column > 1 || end_column < len + 1 {
                context = Some(Region {
                    start_line: line,
                    start_column: Some(1),
                    end_line: Some(line),
                    end_column: Some(len + 1),
                    snippet: Some(ArtifactContent {
                        text: text.to_string(),
                    }),
                });
            }
        }
    }
    (region, context)
}

/// The physical location of a location in the repository; `None` for one outside it.
fn physical_location(
    loc: &Location,
    line_text: Option<&str>,
    paths: &RepoPaths,
) -> Option<PhysicalLocation> {
    let Resolved::InRoot(relative) = paths.resolve(&loc.file) else {
        return None;
    };
    let (region, context_region) = region(loc, line_text);
    Some(PhysicalLocation {
        artifact_location: artifact_location(&relative),
        region,
        context_region,
    })
}

/// The finding's message as a SARIF sentence, plus one sentence naming `path:line:col` per
/// related location that is not a `relatedLocations` entry: those SARIF cannot point at
/// (outside the repository, standard input), or all of them (`all_related`, for a
/// notification, which has no related locations).
fn message_with_notes(finding: &Finding, paths: &RepoPaths, all_related: bool) -> String {
    let mut text = sentence(&finding.message);
    for related in &finding.related {
        if !all_related && placed_in_repository(&related.location.file, paths) {
            continue;
        }
        let note = related.message.trim_end().trim_end_matches('.');
        text.push(' ');
        text.push_str(&sentence(&format!(
            "{note} ({})",
            location_text(&related.location, paths)
        )));
    }
    text
}

fn logical_locations(finding: &Finding) -> Vec<LogicalLocation> {
    finding
        .workload
        .iter()
        .map(|w| {
            let mut properties = Map::new();
            properties.insert("kubernetesKind".to_string(), Value::from(w.kind.as_str()));
            properties.insert("namespace".to_string(), Value::from(w.namespace.as_str()));
            LogicalLocation {
                name: w.name.clone(),
                fully_qualified_name: format!("{}/{}/{}", w.namespace, w.kind, w.name),
                kind: "resource",
                properties,
            }
        })
        .collect()
}

/// A finding outside the repository as a tool execution notification: same rule, level and
/// properties as a result would have, the place in the message and in `properties.location`.
fn notification(
    finding: &Finding,
    fingerprint: &str,
    paths: &RepoPaths,
    index: &Index<'_>,
) -> Notification {
    let loc = &finding.location;
    let logical = logical_locations(finding);
    let locations = if logical.is_empty() {
        Vec::new()
    } else {
        vec![LogicalOnlyLocation {
            logical_locations: logical,
        }]
    };
    let mut properties = properties(finding, index);
    properties.insert(
        "location".to_string(),
        json!({
            "file": paths.repo_relative(&loc.file),
            "line": loc.line.max(1),
            "column": loc.column.max(1),
            "endLine": loc.end_line.max(loc.line.max(1)),
            "endColumn": loc.end_column.max(1),
        }),
    );
    let mut prints = Map::new();
    prints.insert(FINGERPRINT_KEY.to_string(), Value::from(fingerprint));
    if !finding.fingerprint.is_empty() {
        prints.insert(
            super::fingerprint::SARIF_KEY.to_string(),
            Value::from(finding.fingerprint.as_str()),
        );
    }
    properties.insert("partialFingerprints".to_string(), Value::Object(prints));
    if let Some(state) = finding.baseline_state {
        properties.insert("baselineState".to_string(), Value::from(state));
    }
    Notification {
        locations,
        message: Message {
            text: format!(
                "{}: {}",
                location_text(loc, paths),
                message_with_notes(finding, paths, true)
            ),
        },
        level: level(finding.level),
        associated_rule: RuleReference {
            id: finding.rule_id,
            index: rules::index(finding.rule_id),
        },
        properties,
    }
}

/// The result of a finding placed in the repository (callers check [`placed_in_repository`]).
fn result(
    finding: &Finding,
    fingerprint: String,
    paths: &RepoPaths,
    index: &Index<'_>,
) -> SarifResult {
    // Related locations outside the repository go into the message instead.
    let related_locations = finding
        .related
        .iter()
        .filter_map(|related| {
            physical_location(&related.location, None, paths)
                .map(|physical| (physical, &related.message))
        })
        .enumerate()
        .map(|(i, (physical_location, message))| SarifLocation {
            id: Some(i + 1),
            physical_location,
            logical_locations: Vec::new(),
            message: Some(Message {
                text: sentence(message),
            }),
        })
        .collect();
    let mut partial_fingerprints = BTreeMap::new();
    partial_fingerprints.insert(FINGERPRINT_KEY, fingerprint);
    if !finding.fingerprint.is_empty() {
        partial_fingerprints.insert(super::fingerprint::SARIF_KEY, finding.fingerprint.clone());
    }
    SarifResult {
        rule_id: finding.rule_id,
        rule_index: rules::index(finding.rule_id),
        level: level(finding.level),
        message: Message {
            text: message_with_notes(finding, paths, false),
        },
        locations: physical_location(&finding.location, finding.snippet.as_deref(), paths)
            .map(|physical_location| SarifLocation {
                id: None,
                physical_location,
                logical_locations: logical_locations(finding),
                message: None,
            })
            .into_iter()
            .collect(),
        related_locations,
        partial_fingerprints,
        baseline_state: finding.baseline_state,
        suppressions: finding
            .suppression
            .iter()
            .map(|s| {
                json!({
                    "kind": "external",
                    "status": "accepted",
                    "justification": s.reason,
                    "properties": {"exceptionId": s.exception_id, "owner": s.owner, "ticket": s.ticket, "expires": s.expires},
                })
            })
            .collect(),
        properties: properties(finding, index),
    }
}

/// The decision details of a result: the workload, the image's verdict, the marker.
fn properties(finding: &Finding, index: &Index<'_>) -> Map<String, Value> {
    let mut props = Map::new();
    let loc = &finding.location;
    let key = (
        loc.file.as_str(),
        loc.line,
        loc.column,
        finding_context(finding),
    );
    let image = index.images.get(&key).filter(|_| finding.image.is_some());
    let marker = index
        .markers
        .get(&key)
        .filter(|_| finding.workload.is_some());
    let workload = image
        .map(|(w, _)| *w)
        .or_else(|| marker.map(|(w, _)| *w))
        .or_else(|| index.workload(finding));
    props.insert("document".to_string(), Value::from(loc.document));
    // Config mode (contract §5): the context and cluster the workload was evaluated for.
    if let Some(scope) = workload.and_then(|w| w.scope.as_ref()) {
        props.insert("context".to_string(), json!(scope.context));
        props.insert("cluster".to_string(), json!(scope.cluster));
    }
    if let Some(w) = workload {
        // Contract §12: the platform the workload's images are checked on.
        props.insert("platform".to_string(), json!(w.platform));
        if let Some(binauthz) = w.binauthz {
            props.insert("binauthz".to_string(), json!(binauthz));
        }
        props.insert(
            "workload".to_string(),
            json!({
                "apiVersion": w.api_version,
                "kind": w.kind,
                "name": w.name,
                "namespace": w.namespace,
                "serviceAccount": w.service_account,
                "policyDecision": w.policy_decision,
                "admitted": w.admitted,
                "breakglass": w.breakglass.as_ref().map(|b| b.effective).unwrap_or(false),
            }),
        );
    }
    if let Some((_, image)) = image {
        props.insert(
            "image".to_string(),
            json!({
                "container": image.container,
                "containerType": image.container_type,
                "image": image.image,
                "decision": image.verdict.decision,
                "reason": image.verdict.reason,
                "rule": image.verdict.rule,
                "enforcement": image.verdict.enforcement,
                "pattern": image.verdict.pattern,
                "attestors": image.verdict.attestors,
            }),
        );
    } else if let (Some(container), Some(image)) = (&finding.container, &finding.image) {
        props.insert(
            "image".to_string(),
            json!({ "container": container, "image": image }),
        );
    }
    if let Some((workload, source)) = marker {
        props.insert(
            "breakglass".to_string(),
            json!({
                "kind": source.kind,
                "key": source.key,
                "value": source.value,
                "effective": source.effective,
                "problem": source.problem,
            }),
        );
        if source.effective {
            let overridden: Vec<Value> = workload
                .images
                .iter()
                .filter(|i| i.verdict.decision == crate::policy::decision::Decision::Deny)
                .map(|i| {
                    json!({
                        "container": i.container,
                        "image": i.image,
                        "reason": i.verdict.reason,
                        "rule": i.verdict.rule,
                        "enforcement": i.verdict.enforcement,
                    })
                })
                .collect();
            props.insert("overrides".to_string(), Value::Array(overridden));
        }
    }
    props
}

/// One `partialFingerprints` value per finding, in report order, all distinct.
///
/// The inputs are what identifies a finding independently of where it sits in the file: rule
/// id, repository-relative path, the object (kind, namespace, name), container and image;
/// findings without an image add the text of their source line (trimmed), which tells two
/// break-glass markers or two parse errors of one file apart. No line or column numbers, so
/// an alert follows its code when lines move. Findings that are still identical get an
/// occurrence number (`:2`, `:3`, ...) in report order.
pub fn fingerprints(report: &Report, paths: &RepoPaths) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|finding| {
            let base = base_fingerprint(finding, paths);
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base}:{count}")
            }
        })
        .collect()
}

fn base_fingerprint(finding: &Finding, paths: &RepoPaths) -> String {
    let mut hash = Fnv128::new();
    hash.field(Some(finding.rule_id));
    hash.field(Some(&paths.repo_relative(&finding.location.file)));
    let workload = finding.workload.as_ref();
    hash.field(workload.map(|w| w.kind.as_str()));
    hash.field(workload.map(|w| w.namespace.as_str()));
    hash.field(workload.map(|w| w.name.as_str()));
    hash.field(finding.container.as_deref());
    hash.field(finding.image.as_deref());
    if finding.image.is_none() {
        hash.field(finding.snippet.as_deref().map(str::trim));
    }
    format!("{:032x}", hash.0)
}

#[cfg(test)]
#[path = "sarif_tests.rs"]
mod tests;
