//! Helm: chart roots rendered with the user's `helm template`, and the `# Source:` comments
//! of rendered output (from a chart root, or piped in on standard input) mapped back to the
//! chart's template files (contract §9).
//!
//! `helm template` prints every document after a `# Source: CHART/templates/x.yaml`
//! comment, where `CHART` is the chart's *name* (from `Chart.yaml`), not its folder. A
//! finding is located at that template file, at the template line that produced the
//! rendered line (found by matching the line's literal text around `{{ … }}` actions),
//! because that is the file a reviewer can change; the rendered values (an image from
//! `values.yaml`) stay in the messages.

use crate::evaluate::scan::{self, FileResult, ScanSettings};
use crate::inputs::discover::{Candidate, Candidates, display_path};
use crate::policy::Policy;
use crate::report::{Finding, Location};
use crate::rules::Level;
use crate::yaml::{self, Limits};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The comment `helm template` writes at the head of every document.
pub const SOURCE_PREFIX: &str = "# Source: ";

/// Longest tool message kept in a `render-failed` finding.
const MAX_MESSAGE: usize = 2000;

/// True when a stream carries `# Source:` comments (rendered Helm output).
pub fn has_source_comments(text: &str) -> bool {
    text.lines().any(|line| source_of(line).is_some())
}

fn source_of(line: &str) -> Option<&str> {
    let rest = line.trim_end_matches('\r').strip_prefix(SOURCE_PREFIX)?;
    let rest = rest.trim();
    (!rest.is_empty()).then_some(rest)
}

/// Where one template (a `# Source:` value) lives on disk, and its report path.
#[derive(Clone, Debug)]
pub struct TemplateFile {
    pub display: String,
    pub text: String,
}

/// What a finding whose template cannot be found is located at.
pub enum Fallback<'a> {
    /// Keep the stream's own location (standard input: `<stdin>` and the stream's lines)
    /// and name the template in the message.
    Stream,
    /// A file of the repository, line 1 (a rendered chart root: its `Chart.yaml`), with the
    /// template named in the message (a packaged subchart's templates are not on disk).
    File(&'a str),
}

/// For every line of a rendered stream: the `# Source:` it belongs to and the ordinal of
/// its document among that source's documents.
struct StreamLine {
    source: Option<usize>,
    document: u32,
}

/// The place in a template that one rendered line maps to.
#[derive(Clone, Copy)]
struct Mapped {
    line: u32,
    /// The template line is the rendered line itself (no `{{ … }}` on it): columns carry
    /// over, shifted by the difference in indentation.
    exact: bool,
    indent_shift: i64,
}

/// A rendered stream split by `# Source:` with its line map.
struct StreamMap {
    sources: Vec<String>,
    lines: Vec<StreamLine>,
    /// Per source: the template file, if found.
    templates: Vec<Option<TemplateFile>>,
    /// Per stream line (0-based): the template place.
    mapped: Vec<Option<Mapped>>,
}

impl StreamMap {
    fn build(text: &str, resolve: &dyn Fn(&str) -> Option<TemplateFile>) -> StreamMap {
        let mut sources: Vec<String> = Vec::new();
        let mut source_index: BTreeMap<String, usize> = BTreeMap::new();
        let mut per_source_documents: Vec<u32> = Vec::new();
        let mut lines = Vec::new();
        let mut current: Option<usize> = None;
        for raw in text.split('\n') {
            if raw.trim_end_matches('\r') == "---" || raw.starts_with("--- ") {
                // A new document: its `# Source:` comes next.
                current = None;
            } else if let Some(source) = source_of(raw) {
                let index = match source_index.get(source) {
                    Some(&i) => {
                        if let Some(count) = per_source_documents.get_mut(i) {
                            *count += 1;
                        }
                        i
                    }
                    None => {
                        sources.push(source.to_string());
                        source_index.insert(source.to_string(), sources.len() - 1);
                        per_source_documents.push(0);
                        sources.len() - 1
                    }
                };
                current = Some(index);
            }
            let document = current
                .and_then(|i| per_source_documents.get(i).copied())
                .unwrap_or(0);
            lines.push(StreamLine {
                source: current,
                document,
            });
        }
        let templates: Vec<Option<TemplateFile>> = sources.iter().map(|s| resolve(s)).collect();
        let stream_lines: Vec<&str> = text.split('\n').collect();
        let mut mapped: Vec<Option<Mapped>> = vec![None; stream_lines.len()];
        // Map each document (a run of lines of one source) against its template.
        let key = |i: usize| lines.get(i).map(|l| (l.source, l.document));
        let mut start = 0;
        while start < lines.len() {
            let source = lines.get(start).and_then(|l| l.source);
            let mut end = start;
            while end < lines.len() && key(end) == key(start) {
                end += 1;
            }
            if let Some(template) = source
                .and_then(|s| templates.get(s))
                .and_then(Option::as_ref)
            {
                let template_lines: Vec<&str> = template.text.split('\n').collect();
                let rendered = stream_lines.get(start..end).unwrap_or_default();
                for (offset, place) in map_document(rendered, &template_lines)
                    .into_iter()
                    .enumerate()
                {
                    if let Some(slot) = mapped.get_mut(start + offset) {
                        *slot = place;
                    }
                }
            }
            start = end.max(start + 1);
        }
        StreamMap {
            sources,
            lines,
            templates,
            mapped,
        }
    }
}

/// The literal pieces of a template line around its `{{ … }}` actions (trimmed line).
fn literal_pieces(line: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = line.trim();
    while let Some(open) = rest.find("{{") {
        pieces.push(rest.get(..open).unwrap_or_default());
        match rest.get(open..).and_then(|r| r.find("}}")) {
            Some(close) => rest = rest.get(open + close + 2..).unwrap_or_default(),
            None => {
                rest = "";
                break;
            }
        }
    }
    pieces.push(rest);
    pieces
}

/// A template line without literal text (`{{- if … }}`, `{{ toYaml … | nindent 8 }}`).
fn is_pure_action(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.contains("{{") && literal_pieces(trimmed).iter().all(|p| p.trim().is_empty())
}

/// A pure-action line that prints something (`include`, `toYaml`, a value), not control
/// flow: the likely origin of rendered lines that match no literal template line.
fn prints_output(line: &str) -> bool {
    let inner = line
        .trim()
        .trim_start_matches("{{")
        .trim_start_matches('-')
        .trim_start();
    is_pure_action(line)
        && ![
            "if ", "else", "end", "range ", "with ", "define ", "/*", "block ",
        ]
        .iter()
        .any(|keyword| inner.starts_with(keyword))
}

/// Does a rendered line (trimmed) fit a template line's literal pieces, in order?
fn fits(rendered: &str, template: &str) -> bool {
    let template = template.trim();
    if template.is_empty() || is_pure_action(template) {
        return false;
    }
    if !template.contains("{{") {
        return rendered == template;
    }
    let pieces = literal_pieces(template);
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        return false;
    };
    let first = first.trim_start();
    let last = last.trim_end();
    if !rendered.starts_with(first) || !rendered.ends_with(last) {
        return false;
    }
    let Some(mut rest) = rendered.get(first.len()..) else {
        return false;
    };
    for piece in pieces.iter().skip(1).take(pieces.len().saturating_sub(2)) {
        match rest.find(piece) {
            Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.len() >= last.len()
}

fn indent(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

/// Map the lines of one rendered document to template lines. Each line goes to the next
/// template line (from the last match on) whose literal text it fits; else to the next
/// printing action line (the output of `toYaml`/`include`); else to an earlier line it
/// fits (a second pass of a `range` loop); else to the last match.
fn map_document(rendered: &[&str], template: &[&str]) -> Vec<Option<Mapped>> {
    // The search is linear per line: past this many comparisons (a huge document against a
    // huge template) every line goes to the template's first line instead.
    const BUDGET: usize = 20_000_000;
    if rendered.len().saturating_mul(template.len()) > BUDGET {
        let first = Mapped {
            line: 1,
            exact: false,
            indent_shift: 0,
        };
        return rendered.iter().map(|_| Some(first)).collect();
    }
    let mut out = Vec::with_capacity(rendered.len());
    let mut cursor = 0usize;
    let mut last: Option<Mapped> = None;
    let literal = |i: usize, line: &str| -> Mapped {
        let t = template.get(i).copied().unwrap_or_default();
        Mapped {
            line: i as u32 + 1,
            exact: !t.contains("{{"),
            indent_shift: indent(t) as i64 - indent(line) as i64,
        }
    };
    for line in rendered {
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "---" || source_of(line).is_some() {
            out.push(None);
            continue;
        }
        let fits_at = |i: &usize| template.get(*i).is_some_and(|t| fits(trimmed, t));
        let place = if let Some(i) = (cursor..template.len()).find(fits_at) {
            cursor = i + 1;
            Some(literal(i, line))
        } else if let Some(i) =
            (cursor..template.len()).find(|&i| template.get(i).is_some_and(|t| prints_output(t)))
        {
            // The action may print more lines: the cursor stays on it.
            cursor = i;
            Some(Mapped {
                line: i as u32 + 1,
                exact: false,
                indent_shift: 0,
            })
        } else if let Some(i) = (0..cursor.min(template.len())).find(fits_at) {
            cursor = i + 1;
            Some(literal(i, line))
        } else {
            last.map(|m| Mapped { exact: false, ..m })
        };
        if place.is_some() {
            last = place;
        }
        out.push(place);
    }
    out
}

/// Scan a rendered stream and move every location in it to the template it came from.
/// `stream_display` is the name the stream's own locations carry while scanning.
pub fn scan_stream(
    stream_display: &str,
    text: &str,
    settings: &ScanSettings,
    policy: &Policy,
    resolve: &dyn Fn(&str) -> Option<TemplateFile>,
    fallback: Fallback<'_>,
) -> FileResult {
    let mut result = scan::scan_text(stream_display, text, settings, policy);
    if result.skipped.is_some() {
        return result;
    }
    let map = StreamMap::build(text, resolve);
    let move_location = |location: &mut Location| -> Option<String> {
        if location.file != stream_display {
            return None;
        }
        relocate(location, &map, &fallback)
    };
    for finding in &mut result.findings {
        let old_line = finding.location.line;
        if let Some(note) = move_location(&mut finding.location) {
            finding.message.push_str(&note);
        }
        if finding.location.file != stream_display || finding.location.line != old_line {
            finding.snippet = line_of(&map, &finding.location);
        }
        for related in &mut finding.related {
            move_location(&mut related.location);
        }
    }
    for workload in &mut result.workloads {
        move_location(&mut workload.location);
        for image in &mut workload.images {
            move_location(&mut image.location);
        }
        if let Some(breakglass) = &mut workload.breakglass {
            for source in &mut breakglass.sources {
                move_location(&mut source.location);
            }
        }
    }
    result
}

/// The template line a relocated finding points at (its snippet).
fn line_of(map: &StreamMap, location: &Location) -> Option<String> {
    let template = map
        .templates
        .iter()
        .flatten()
        .find(|t| t.display == location.file)?;
    template
        .text
        .split('\n')
        .nth(location.line.checked_sub(1)? as usize)
        .map(|l| l.trim_end_matches('\r').chars().take(400).collect())
}

/// Move one stream location to its template; returns a message suffix when the template
/// could not be found (so the finding still names it).
fn relocate(location: &mut Location, map: &StreamMap, fallback: &Fallback<'_>) -> Option<String> {
    let index = location.line.checked_sub(1)? as usize;
    let stream_line = map.lines.get(index)?;
    let source_index = stream_line.source?;
    let source = map.sources.get(source_index)?;
    let Some(template) = map.templates.get(source_index).and_then(Option::as_ref) else {
        let note = format!(" (rendered by Helm from `{source}`)");
        if let Fallback::File(file) = fallback {
            *location = Location::file_start(file);
        }
        return Some(note);
    };
    let mapped = map.mapped.get(index).copied().flatten().unwrap_or(Mapped {
        line: 1,
        exact: false,
        indent_shift: 0,
    });
    let template_line = template
        .text
        .split('\n')
        .nth(mapped.line.saturating_sub(1) as usize)
        .unwrap_or_default()
        .trim_end_matches('\r');
    let width = template_line.chars().count() as u32 + 1;
    let first_column = indent(template_line) as u32 + 1;
    let shift = |column: u32| -> u32 {
        (i64::from(column) + mapped.indent_shift).clamp(1, i64::from(width)) as u32
    };
    let one_line = location.end_line == location.line;
    let (column, end_column) = if mapped.exact && one_line {
        (shift(location.column), shift(location.end_column))
    } else {
        (first_column, width)
    };
    // A multi-line span (a whole object) ends where its last line maps to, when that is
    // later in the same template.
    let end_place = if one_line {
        None
    } else {
        location
            .end_line
            .checked_sub(1)
            .and_then(|i| {
                let same_document = map.lines.get(i as usize).is_some_and(|l| {
                    l.source == Some(source_index) && l.document == stream_line.document
                });
                if same_document {
                    map.mapped.get(i as usize).copied().flatten()
                } else {
                    None
                }
            })
            .filter(|end| end.line >= mapped.line)
    };
    *location = Location {
        file: template.display.clone(),
        line: mapped.line,
        column,
        document: stream_line.document,
        end_line: end_place.map_or(mapped.line, |e| e.line),
        end_column: match end_place {
            Some(e) => template
                .text
                .split('\n')
                .nth(e.line.saturating_sub(1) as usize)
                .map_or(1, |l| l.trim_end_matches('\r').chars().count() as u32 + 1),
            None => end_column.max(column),
        },
    };
    None
}

/// Read a template file for the map (text files only; anything else is "not found").
fn read_template(path: &Path, cwd: &Path) -> Option<TemplateFile> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 32 * 1024 * 1024 {
        return None;
    }
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    Some(TemplateFile {
        display: display_path(path, cwd),
        text,
    })
}

/// `CHART/templates/x.yaml` → the path below the chart folder (`templates/x.yaml`).
fn below_chart(source: &str) -> Option<&str> {
    let (_, rest) = source.split_once('/')?;
    // Never leave the chart folder.
    (!rest.split('/').any(|part| part == ".." || part.is_empty())).then_some(rest)
}

/// Standard input: `# Source: NAME/templates/x.yaml` is looked up, in order, as a path
/// relative to the current directory (`helm template RELEASE ./NAME` run from the chart's
/// parent folder); below the current directory when it is the chart named NAME (`helm
/// template RELEASE .`); below a folder `D` or `charts/D` of the current directory whose
/// `Chart.yaml` is named NAME (a chart whose folder is not named after it).
pub fn resolve_from_cwd(cwd: &Path) -> impl Fn(&str) -> Option<TemplateFile> + '_ {
    let charts: std::cell::OnceCell<Vec<(String, PathBuf)>> = std::cell::OnceCell::new();
    move |source: &str| {
        if source.split('/').any(|part| part == "..") || Path::new(source).is_absolute() {
            return None;
        }
        if let Some(found) = read_template(&cwd.join(source), cwd) {
            return Some(found);
        }
        let (name, _) = source.split_once('/')?;
        let rest = below_chart(source)?;
        let charts = charts.get_or_init(|| charts_near(cwd));
        charts
            .iter()
            .filter(|(chart, _)| chart == name)
            .find_map(|(_, dir)| read_template(&dir.join(rest), cwd))
    }
}

/// The charts a standard-input stream may come from, by name: the current directory and
/// its folders `D` and `charts/D` (sorted, so the first match is deterministic).
fn charts_near(cwd: &Path) -> Vec<(String, PathBuf)> {
    let mut folders = vec![cwd.to_path_buf()];
    for parent in [cwd.to_path_buf(), cwd.join("charts")] {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        children.sort();
        folders.extend(children);
    }
    folders
        .into_iter()
        .filter_map(|dir| Some((chart_name(&dir.join("Chart.yaml"))?, dir)))
        .collect()
}

/// The `name` of a `Chart.yaml`, if it can be read.
fn chart_name(chart_file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(chart_file).ok()?;
    let tree = yaml::parse(&text, &Limits::default());
    let root = tree.documents.first()?.root?;
    tree.get(root, "name")
        .and_then(|node| tree.scalar(node))
        .map(|name| name.trim().to_string())
}

/// A rendered chart root: `# Source:` paths are below its folder.
fn resolve_in_chart<'a>(
    chart_dir: &'a Path,
    cwd: &'a Path,
) -> impl Fn(&str) -> Option<TemplateFile> + 'a {
    move |source: &str| read_template(&chart_dir.join(below_chart(source)?), cwd)
}

/// A chart root found among the scanned files.
#[derive(Clone, Debug)]
pub struct ChartRoot {
    /// The chart folder as discovered (relative or absolute, as given).
    pub dir: PathBuf,
    /// Its `Chart.yaml`, as a candidate path.
    pub chart_file: PathBuf,
    /// The report path of `Chart.yaml`.
    pub chart_display: String,
}

/// Every application chart among the candidates: a `Chart.yaml` whose `type` is not
/// `library` (library charts render nothing), and that is not inside another chart of the
/// scan (a subchart under `charts/` is rendered by its parent).
pub fn chart_roots(candidates: &Candidates) -> Vec<ChartRoot> {
    let charts: Vec<ChartRoot> = candidates
        .iter()
        .filter_map(|(display, candidate)| {
            let Candidate::Read { path, .. } = candidate else {
                return None;
            };
            if path.file_name()? != "Chart.yaml" {
                return None;
            }
            Some(ChartRoot {
                dir: path.parent()?.to_path_buf(),
                chart_file: path.clone(),
                chart_display: display.clone(),
            })
        })
        .collect();
    let absolute = |dir: &Path| std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let dirs: Vec<PathBuf> = charts.iter().map(|c| absolute(&c.dir)).collect();
    charts
        .into_iter()
        .zip(dirs.iter())
        .filter(|(_, dir)| {
            !dirs
                .iter()
                .any(|other| other != *dir && dir.starts_with(other))
        })
        .filter(|(chart, _)| !is_library(&chart.chart_file))
        .map(|(chart, _)| chart)
        .collect()
}

fn is_library(chart_file: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(chart_file) else {
        return false;
    };
    let tree = yaml::parse(&text, &Limits::default());
    tree.documents
        .first()
        .and_then(|d| d.root)
        .and_then(|root| tree.get(root, "type"))
        .and_then(|node| tree.scalar(node))
        .is_some_and(|t| t.trim() == "library")
}

/// True when `path` is rendered by `root`: its templates and its subcharts.
pub fn consumed_by(root: &ChartRoot, path: &Path) -> bool {
    path == root.chart_file
        || path.starts_with(root.dir.join("templates"))
        || path.starts_with(root.dir.join("charts"))
}

/// How a chart root is rendered.
pub struct HelmOptions<'a> {
    /// The `helm` program (default `helm`, found on PATH).
    pub program: &'a Path,
    pub timeout: Duration,
    /// Largest rendered output accepted (bytes), as for a file.
    pub max_output: u64,
    pub cwd: &'a Path,
}

/// Why nothing could be rendered at all.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error(
        "--render helm: `{program}` was not found; install helm (https://helm.sh/docs/intro/install/) or run without --render helm"
    )]
    NotFound { program: String },
    #[error("--render helm: cannot write a descriptor's inline values: {0}")]
    Io(String),
}

/// What a GitOps descriptor (contract §14) adds to the rendering of a chart it deploys:
/// values files (after the config's), inline values (written to a private temporary file,
/// last, so they win as in Argo CD and Flux) and the release name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseSettings {
    pub values_files: Vec<PathBuf>,
    pub inline_values: Option<String>,
    pub release_name: Option<String>,
}

/// The outcome of one root: its rendered, relocated result, or a `render-failed` finding.
pub fn render_root(
    root: &ChartRoot,
    values: &[PathBuf],
    settings: &ScanSettings,
    policy: &Policy,
    options: &HelmOptions<'_>,
) -> Result<FileResult, HelmError> {
    render_release(
        root,
        values,
        &ReleaseSettings::default(),
        settings,
        policy,
        options,
    )
}

/// [`render_root`] with a descriptor's release settings.
pub fn render_release(
    root: &ChartRoot,
    values: &[PathBuf],
    release: &ReleaseSettings,
    settings: &ScanSettings,
    policy: &Policy,
    options: &HelmOptions<'_>,
) -> Result<FileResult, HelmError> {
    let mut all: Vec<PathBuf> = values.to_vec();
    all.extend(release.values_files.iter().cloned());
    // Kept alive until helm has run: the inline values file lives in it.
    let _inline_dir = match &release.inline_values {
        Some(text) => {
            let dir = PrivateDir::new().map_err(|e| HelmError::Io(e.to_string()))?;
            let file = dir.0.join("descriptor-values.yaml");
            std::fs::write(&file, text).map_err(|e| HelmError::Io(e.to_string()))?;
            all.push(file);
            Some(dir)
        }
        None => None,
    };
    let output = match run_helm(
        root,
        &all,
        release.release_name.as_deref(),
        &settings.namespace,
        options,
    ) {
        Ok(text) => text,
        Err(Failure::NotFound) => {
            return Err(HelmError::NotFound {
                program: options.program.display().to_string(),
            });
        }
        Err(Failure::Message(message)) => {
            let mut result = FileResult {
                display: root.chart_display.clone(),
                ..FileResult::default()
            };
            let mut finding = Finding::new(
                "render-failed",
                Level::Error,
                format!(
                    "`helm template` failed for the chart in `{}`, so its workloads were not checked: {message}",
                    display_path(&root.dir, options.cwd)
                ),
                Location::file_start(&root.chart_display),
            );
            finding.snippet = std::fs::read_to_string(&root.chart_file)
                .ok()
                .and_then(|t| t.lines().next().map(str::to_string));
            result.findings.push(finding);
            return Ok(result);
        }
    };
    let chart_dir = std::fs::canonicalize(options.cwd.join(&root.dir))
        .unwrap_or_else(|_| options.cwd.join(&root.dir));
    let resolve = resolve_in_chart(&chart_dir, options.cwd);
    let mut result = scan_stream(
        &root.chart_display,
        &output,
        settings,
        policy,
        &resolve,
        Fallback::File(&root.chart_display),
    );
    // A chart that renders no object (every template disabled by default values) is read
    // and found empty, like a file.
    result.display = root.chart_display.clone();
    Ok(result)
}

enum Failure {
    NotFound,
    Message(String),
}

/// A private, empty folder that is removed when dropped: helm's cache, config and data
/// homes, so that rendering never sees the user's repositories, plugins or credentials.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> std::io::Result<PrivateDir> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let name = format!(
                "binauthz-lint-helm-{}-{}-{nanos}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let path = base.join(name);
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            match builder.create(&path) {
                Ok(()) => return Ok(PrivateDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `helm template ./CHART_DIR --namespace=NS [--values FILE]…`, offline and without plugins:
/// no `--dependency-update` (a missing dependency fails instead of being downloaded), every
/// `HELM_*` variable of the caller dropped, helm's homes in a private temporary folder, no
/// kubeconfig. Killed after the timeout.
fn run_helm(
    root: &ChartRoot,
    values: &[PathBuf],
    release: Option<&str>,
    namespace: &str,
    options: &HelmOptions<'_>,
) -> Result<String, Failure> {
    let home = PrivateDir::new()
        .map_err(|e| Failure::Message(format!("cannot create a temporary folder: {e}")))?;
    // A relative folder named like an option (`-x`) must not be read as one.
    let chart = if root.dir.is_absolute() {
        root.dir.clone()
    } else {
        Path::new(".").join(&root.dir)
    };
    let mut command = Command::new(options.program);
    command.current_dir(options.cwd).arg("template");
    // `helm template NAME CHART`: a name that looks like an option is left out.
    if let Some(name) = release.filter(|n| !n.starts_with('-') && !n.is_empty()) {
        command.arg(name);
    }
    command.arg(chart).arg(format!("--namespace={namespace}"));
    for file in values {
        command.arg("--values").arg(file);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HELM_") {
            command.env_remove(&key);
        }
    }
    let private = &home.0;
    command
        .env("HELM_CACHE_HOME", private.join("cache"))
        .env("HELM_CONFIG_HOME", private.join("config"))
        .env("HELM_DATA_HOME", private.join("data"))
        .env("HELM_PLUGINS", private.join("plugins"))
        .env("HELM_REGISTRY_CONFIG", private.join("registry.json"))
        .env("HELM_REPOSITORY_CONFIG", private.join("repositories.yaml"))
        .env("HELM_REPOSITORY_CACHE", private.join("repository"))
        .env("HELM_NO_PLUGINS", "1")
        .env("KUBECONFIG", private.join("kubeconfig"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Failure::NotFound),
        Err(e) => return Err(Failure::Message(format!("cannot run helm: {e}"))),
    };
    let limit = options.max_output;
    let output = super::wait_bounded(child, (limit + 1, 1 << 20), options.timeout)
        .map_err(|e| Failure::Message(format!("waiting for helm: {e}")))?;
    let Some(super::ToolOutput {
        status,
        stdout: out,
        stderr: err,
    }) = output
    else {
        return Err(Failure::Message(format!(
            "timed out after {} s (--render-timeout)",
            options.timeout.as_secs()
        )));
    };
    if !status.success() {
        // helm's message on one line (it indents its template traces over several).
        let message = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let message = message.strip_prefix("Error: ").unwrap_or(&message);
        let mut message: String = message.chars().take(MAX_MESSAGE).collect();
        if message.is_empty() {
            message = format!("helm exited with {status} and no message");
        }
        return Err(Failure::Message(message));
    }
    if out.len() as u64 > limit {
        return Err(Failure::Message(
            "the rendered output is larger than --max-file-size".to_string(),
        ));
    }
    String::from_utf8(out)
        .map_err(|_| Failure::Message("the rendered output is not UTF-8".to_string()))
}

/// Render every root in parallel (`jobs` threads); results in root order. The first
/// root whose helm cannot be run at all stops the whole rendering.
pub fn render_roots<'r>(
    roots: &'r [ChartRoot],
    job: impl Fn(&'r ChartRoot) -> Result<FileResult, HelmError> + Sync,
    jobs: usize,
) -> Result<Vec<(&'r ChartRoot, FileResult)>, HelmError> {
    use rayon::prelude::*;
    let work = || {
        roots
            .par_iter()
            .with_max_len(1)
            .map(|root| job(root).map(|result| (root, result)))
            .collect::<Result<Vec<_>, HelmError>>()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// The rendered-roots part of a scan: for each root, its result (to merge with the other
/// files' results), and the candidates it consumed removed from `candidates`. A root
/// that failed to render keeps its templates in the raw scan (they are reported as
/// skipped Helm templates, beside the `render-failed` error).
pub fn take_rendered(
    candidates: &mut Candidates,
    rendered: Vec<(&ChartRoot, FileResult)>,
) -> Vec<FileResult> {
    let mut out = Vec::new();
    let mut consumed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (root, result) in rendered {
        let failed = result.findings.iter().any(|f| f.rule_id == "render-failed");
        for (display, candidate) in candidates.iter() {
            let Candidate::Read { path, .. } = candidate else {
                continue;
            };
            if path == &root.chart_file || (!failed && consumed_by(root, path)) {
                consumed.insert(display.clone());
            }
        }
        out.push(result);
    }
    for display in &consumed {
        candidates.remove(display);
    }
    out
}

#[cfg(test)]
#[path = "helm_tests.rs"]
mod tests;
