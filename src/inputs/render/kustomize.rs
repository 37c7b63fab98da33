//! Kustomize roots: detection, the raw account of what a raw scan cannot see, and rendering
//! through the user's own `kubectl kustomize` (contract §9, §11.7).
//!
//! A root is a folder with `kustomization.yaml`, `kustomization.yml` or `Kustomization`
//! (kind `Kustomization`, or no kind) that no other kustomization of the scan consumes as a
//! resource, base or component. Rendering goes through a temporary wrapper kustomization
//! outside the repository that names the root by a relative path (kustomize refuses
//! absolute resource paths) and asks for origin annotations, so every rendered object can
//! be traced back to the file and line it came from. The user's tree is never written to.

use super::unseen::{self, RawRoot};
use super::{Disk, Files, Prepared, RenderOptions};
use crate::evaluate::context::FileContext;
use crate::evaluate::scan::{self, FileResult, Source};
use crate::inputs::discover::{Candidate, Candidates};
use crate::report::fingerprint::image_repository;
use crate::report::paths::normalize;
use crate::report::{Finding, Location, Related};
use crate::rules::Level;
use crate::settings::scope::Scopes;
use crate::yaml::{self, Limits, NodeId, Pos, Span, Tree};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The file names kustomize looks for in a folder, in its order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The annotation kustomize writes with `buildMetadata: [originAnnotations]`.
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// Text that marks a break-glass key in a kustomization or patch (label, legacy annotation,
/// or a JSON-patch path with `/` escaped as `~1`).
const MARKER_NEEDLES: [&str; 2] = [
    "image-policy.k8s.io/break-glass",
    "image-policy.k8s.io~1break-glass",
];

/// Kustomization files larger than this are not read (they are never that large).
const MAX_KUSTOMIZATION_SIZE: u64 = 4 * 1024 * 1024;

/// Stderr kept in a `render-failed` message.
const MAX_ERROR_CHARS: usize = 600;

/// One kustomization file, as far as root detection and location mapping need it.
#[derive(Clone, Debug)]
struct Kustomization {
    /// The folder (canonical).
    dir: PathBuf,
    /// The kustomization file (canonical).
    file: PathBuf,
    text: String,
    /// `kind: Component`: consumed by the kustomizations that list it, never a root.
    component: bool,
    /// `resources` and `bases`, as written.
    resources: Vec<String>,
    components: Vec<String>,
    /// Patch files (`patches[].path`, `patchesStrategicMerge` file entries,
    /// `patchesJson6902[].path`), as written.
    patch_files: Vec<String>,
    /// `images[]` entries: the image name they rewrite and the entry's span.
    images: Vec<(String, Span)>,
    /// The transformers it uses, by their report name.
    transformers: BTreeSet<&'static str>,
    /// Entries kustomize would fetch over the network, as written.
    remote: Vec<String>,
    /// `helmCharts`: charts inflated by kustomize (never enabled here).
    helm_charts: bool,
}

/// The order transformers are named in messages.
const TRANSFORMER_ORDER: [&str; 9] = [
    "images",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "labels",
    "commonLabels",
    "commonAnnotations",
    "patches",
    "components",
];

impl Kustomization {
    fn load(dir: &Path, files: &dyn Files) -> Option<Kustomization> {
        let file = FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|path| files.is_file(path))?;
        let text = files.read(&file, MAX_KUSTOMIZATION_SIZE)?;
        let mut k = Kustomization {
            dir: dir.to_path_buf(),
            file,
            text: String::new(),
            component: false,
            resources: Vec::new(),
            components: Vec::new(),
            patch_files: Vec::new(),
            images: Vec::new(),
            transformers: BTreeSet::new(),
            remote: Vec::new(),
            helm_charts: false,
        };
        {
            let tree = yaml::parse(&text, &Limits::default());
            if let Some(root) = tree.documents.first().and_then(|d| d.root) {
                k.read_tree(&tree, root);
                // A `host.tld/org/repo` entry is a repository only when no such local path
                // exists: kustomize tries the file system first.
                k.remote = unseen::referenced_paths(&tree, root)
                    .into_iter()
                    .filter(|entry| {
                        unseen::is_remote(entry)
                            || (unseen::looks_like_host_path(entry)
                                && !files.is_file(&dir.join(entry))
                                && !files.is_dir(&dir.join(entry)))
                    })
                    .collect();
                k.helm_charts = tree
                    .get(root, "helmCharts")
                    .and_then(|n| tree.seq(n))
                    .is_some_and(|s| !s.is_empty());
            }
        }
        k.text = text;
        Some(k)
    }

    fn read_tree(&mut self, tree: &Tree, root: NodeId) {
        match tree.get(root, "kind").and_then(|n| tree.scalar(n)) {
            None | Some("Kustomization") => {}
            Some(_) => self.component = true,
        }
        let strings = |key: &str| -> Vec<String> {
            tree.get(root, key)
                .and_then(|n| tree.seq(n))
                .unwrap_or_default()
                .iter()
                .filter_map(|item| tree.scalar(*item).map(str::to_string))
                .collect()
        };
        self.resources = strings("resources");
        self.resources.extend(strings("bases"));
        self.components = strings("components");
        let items = |key: &str| -> Vec<NodeId> {
            tree.get(root, key)
                .and_then(|n| tree.seq(n))
                .map(<[NodeId]>::to_vec)
                .unwrap_or_default()
        };
        for key in ["patches", "patchesJson6902"] {
            for item in items(key) {
                if let Some(path) = tree.get(item, "path").and_then(|n| tree.scalar(n)) {
                    self.patch_files.push(path.to_string());
                }
            }
        }
        for item in items("patchesStrategicMerge") {
            // An entry is a file path, or an inline patch (a multi-line YAML string).
            if let Some(text) = tree.scalar(item).filter(|t| !t.contains('\n')) {
                self.patch_files.push(text.to_string());
            }
        }
        for item in items("images") {
            if let Some(name) = tree.get(item, "name").and_then(|n| tree.scalar(n)) {
                self.images.push((name.to_string(), tree.span(item)));
            }
        }
        let present = |key: &str| {
            tree.get(root, key).is_some_and(|n| {
                !tree.is_null(n)
                    && tree.seq(n).is_none_or(|s| !s.is_empty())
                    && tree.map(n).is_none_or(|m| !m.is_empty())
            })
        };
        for name in TRANSFORMER_ORDER {
            if name == "patches" {
                if ["patches", "patchesStrategicMerge", "patchesJson6902"]
                    .iter()
                    .any(|k| present(k))
                {
                    self.transformers.insert("patches");
                }
            } else if present(name) {
                self.transformers.insert(name);
            }
        }
    }

    /// Folders and files its `resources`/`bases` and `components` entries name (local only:
    /// a remote entry is left to the renderer, which fails on it without network).
    fn local_entries<'a>(
        &'a self,
        entries: &'a [String],
        files: &'a dyn Files,
    ) -> impl Iterator<Item = PathBuf> + 'a {
        entries
            .iter()
            .filter(|e| !unseen::is_remote(e))
            .map(|e| files.key(&self.dir.join(e)))
    }
}

/// The key files and folders are compared by on disk: canonical when it exists, else
/// normalised.
fn canonical(path: &Path) -> PathBuf {
    Disk.key(path)
}

/// Every kustomization met, and what each root consumes.
struct Catalog<'f> {
    kustomizations: BTreeMap<PathBuf, Option<Kustomization>>,
    files: &'f dyn Files,
}

impl Catalog<'_> {
    fn get(&mut self, dir: &Path) -> Option<&Kustomization> {
        if !self.kustomizations.contains_key(dir) {
            let loaded = Kustomization::load(dir, self.files);
            self.kustomizations.insert(dir.to_path_buf(), loaded);
        }
        self.kustomizations.get(dir).and_then(Option::as_ref)
    }

    /// The kustomization folders a root reaches (itself first) and the files it consumes
    /// (resource and patch files, and every kustomization file on the way).
    fn closure(&mut self, root: &Path) -> (Vec<PathBuf>, BTreeSet<PathBuf>) {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut files: BTreeSet<PathBuf> = BTreeSet::new();
        let mut queue = vec![root.to_path_buf()];
        while let Some(dir) = queue.pop() {
            if dirs.contains(&dir) {
                continue;
            }
            let Some(k) = self.get(&dir).cloned() else {
                continue;
            };
            dirs.push(dir);
            files.insert(k.file.clone());
            let referenced: Vec<PathBuf> = k
                .local_entries(&k.resources, self.files)
                .chain(k.local_entries(&k.components, self.files))
                .collect();
            for path in referenced {
                if self.files.is_dir(&path) {
                    queue.push(path);
                } else {
                    files.insert(path);
                }
            }
            for patch in &k.patch_files {
                files.insert(self.files.key(&k.dir.join(patch)));
            }
        }
        (dirs, files)
    }
}

/// A root and what it consumes.
struct Root {
    dir: PathBuf,
    file: PathBuf,
    /// The kustomization file's report path.
    display: String,
    /// `renderedFrom`: the folder, relative like file paths, no trailing slash.
    folder: String,
    dirs: Vec<PathBuf>,
    files: BTreeSet<PathBuf>,
}

/// Analyse the kustomizations among the candidates and, with `options.kustomize`, render
/// each root. Never writes into the scanned tree.
pub fn prepare(
    candidates: &Candidates,
    cwd: &Path,
    scopes: &Scopes<'_, '_>,
    options: &RenderOptions,
) -> Prepared {
    prepare_with(candidates, cwd, scopes, options, &Disk)
}

/// [`prepare`] over another tree (PR mode's base commit). Rendering needs the files on
/// disk, so it only runs with [`Disk`].
pub fn prepare_with(
    candidates: &Candidates,
    cwd: &Path,
    scopes: &Scopes<'_, '_>,
    options: &RenderOptions,
    files: &dyn Files,
) -> Prepared {
    let mut prepared = Prepared::default();
    // Fast path for the common scan without kustomizations: a few stats per folder, no
    // canonicalisation of every file.
    let plain_folders: BTreeSet<PathBuf> = candidates
        .values()
        .filter_map(|candidate| match candidate {
            Candidate::Read { path, .. } => {
                normalize(&cwd.join(path)).parent().map(Path::to_path_buf)
            }
            _ => None,
        })
        .collect();
    let any_kustomization = plain_folders
        .iter()
        .any(|dir| FILE_NAMES.iter().any(|name| files.is_file(&dir.join(name))));
    if !any_kustomization {
        return prepared;
    }
    let canonical_cwd = files.key(cwd);
    // Candidate files by key, and the folders they sit in.
    let mut display_of: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
    for (display, candidate) in candidates {
        if let Candidate::Read { path, .. } = candidate {
            let key = files.key(&cwd.join(path));
            if let Some(parent) = key.parent() {
                folders.insert(parent.to_path_buf());
            }
            display_of.insert(key, display.clone());
        }
    }
    let display = |path: &Path| -> String {
        display_of
            .get(path)
            .cloned()
            .unwrap_or_else(|| crate::inputs::discover::display_path(path, &canonical_cwd))
    };
    let mut catalog = Catalog {
        kustomizations: BTreeMap::new(),
        files,
    };
    let scanned: Vec<PathBuf> = folders
        .into_iter()
        .filter(|dir| catalog.get(dir).is_some())
        .collect();
    if scanned.is_empty() {
        return prepared;
    }
    // What other kustomizations of the scan consume is not a root.
    let mut consumed_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for dir in &scanned {
        if let Some(k) = catalog.get(dir).cloned() {
            consumed_dirs.extend(k.local_entries(&k.resources, files));
            consumed_dirs.extend(k.local_entries(&k.components, files));
        }
    }
    let mut roots: Vec<Root> = Vec::new();
    for dir in &scanned {
        let Some(k) = catalog.get(dir).cloned() else {
            continue;
        };
        if k.component || consumed_dirs.contains(dir) {
            continue;
        }
        let (dirs, files) = catalog.closure(dir);
        roots.push(Root {
            dir: dir.clone(),
            file: k.file.clone(),
            display: display(&k.file),
            folder: crate::inputs::discover::display_path(dir, &canonical_cwd),
            dirs,
            files,
        });
    }
    prepared.kustomize_roots = roots.len();

    // Patch files are never evaluated as workloads, in any mode.
    let mut patch_files: BTreeSet<PathBuf> = BTreeSet::new();
    for k in catalog.kustomizations.values().flatten() {
        for patch in &k.patch_files {
            patch_files.insert(files.key(&k.dir.join(patch)));
        }
    }
    for patch in &patch_files {
        if let Some(d) = display_of.get(patch) {
            prepared
                .replaced
                .insert(d.clone(), FileResult::skipped(d, "kustomize-patch"));
        }
    }

    // What each root builds that its raw files cannot show: remote entries (with the
    // kustomization that names them) and transformers that change workloads.
    let blind: Vec<BlindSpots> = roots
        .iter()
        .map(|root| blind_spots(root, &mut catalog, &display))
        .collect();

    // Render every root (in parallel, each with its own timeout), in root order. A root
    // with a remote entry is never handed to the tool without `--render-remote`: kustomize
    // would clone or download it, and the config (which a pull request can change) must not
    // be able to make CI fetch from any host.
    let refused = |i: usize| !options.remote && blind.get(i).is_some_and(|b| !b.0.is_empty());
    let outcomes: Vec<Option<Result<String, String>>> = if options.kustomize && files.is_disk() {
        let render_all = || -> Vec<Option<Result<String, String>>> {
            roots
                .par_iter()
                .enumerate()
                .with_max_len(1)
                .map(|(i, root)| {
                    Some(if refused(i) {
                        Err(String::new())
                    } else {
                        render_root(root, options)
                    })
                })
                .collect()
        };
        match rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs.max(1))
            .build()
        {
            Ok(pool) => pool.install(render_all),
            Err(_) => render_all(),
        }
    } else {
        roots.iter().map(|_| None).collect()
    };

    // Files consumed by a root that rendered are evaluated through it; a failed root's
    // files stay raw (contract §11.7), even when a rendered root shares them.
    let mut failed_files: BTreeSet<PathBuf> = BTreeSet::new();
    for (root, outcome) in roots.iter().zip(&outcomes) {
        if let Some(Err(_)) = outcome {
            failed_files.extend(root.files.iter().cloned());
        }
    }
    let mut rendered_files: BTreeSet<PathBuf> = BTreeSet::new();
    for (i, (root, outcome)) in roots.iter().zip(&outcomes).enumerate() {
        let kustomization_text = catalog
            .get(&root.dir)
            .map(|k| k.text.clone())
            .unwrap_or_default();
        let (remote, unseen) = blind.get(i).cloned().unwrap_or_default();
        let mut raw = RawRoot {
            display: root.display.clone(),
            folder: root.folder.clone(),
            files: root
                .files
                .iter()
                .filter_map(|f| display_of.get(f).cloned())
                .collect(),
            remote: remote.iter().map(|(entry, _)| entry.clone()).collect(),
            unseen,
            note: None,
        };
        match outcome {
            None => {
                raw.note = Some(prepared.findings.len());
                prepared
                    .findings
                    .push(not_rendered_note(root, &mut catalog, &kustomization_text));
                prepared.raw_roots.push(raw);
            }
            Some(Err(message)) => {
                let message = match remote.first() {
                    Some((entry, named_in)) if refused(i) => format!(
                        "kustomization root `{}` was not rendered: `{named_in}` names the remote resource `{entry}`{}, which `{}` would download; binauthz-lint fetches nothing unless the command line says `--render-remote` (the config cannot), so its files were scanned raw",
                        root.folder,
                        match remote.len() {
                            1 => String::new(),
                            n => format!(" ({} remote entries in all)", n),
                        },
                        options.kustomize_command.join(" ")
                    ),
                    _ => format!(
                        "kustomization root `{}` failed to render with `{}`, so its files were scanned raw: {message}",
                        root.folder,
                        options.kustomize_command.join(" ")
                    ),
                };
                prepared.raw_roots.push(raw);
                let mut f = Finding::new(
                    "render-failed",
                    Level::Error,
                    message,
                    Location::file_start(&root.display),
                );
                f.snippet = first_line(&kustomization_text);
                prepared.findings.push(f);
            }
            Some(Ok(rendered)) => {
                prepared.rendered_roots += 1;
                for file in &root.files {
                    if failed_files.contains(file) || *file == root.file {
                        continue;
                    }
                    rendered_files.insert(file.clone());
                    if let Some(d) = display_of.get(file) {
                        prepared
                            .replaced
                            .insert(d.clone(), FileResult::skipped(d, "kustomize-rendered"));
                    }
                }
                rendered_files.insert(root.file.clone());
                let result = evaluate_rendered(root, rendered, &mut catalog, scopes, &display);
                prepared.replaced.insert(root.display.clone(), result);
            }
        }
    }

    // What a raw scan would miss: break-glass markers that kustomizations and patches add.
    let mut searched: BTreeSet<PathBuf> = BTreeSet::new();
    for dir in &scanned {
        let Some(k) = catalog.get(dir).cloned() else {
            continue;
        };
        if !rendered_files.contains(&k.file) && searched.insert(k.file.clone()) {
            prepared.findings.extend(marker_findings(
                &display(&k.file),
                &k.text,
                "this kustomization",
            ));
        }
    }
    for patch in &patch_files {
        if rendered_files.contains(patch)
            || !display_of.contains_key(patch)
            || !searched.insert(patch.clone())
        {
            continue;
        }
        let Some(text) = files.read(patch, MAX_KUSTOMIZATION_SIZE) else {
            continue;
        };
        prepared
            .findings
            .extend(marker_findings(&display(patch), &text, "this patch"));
    }
    prepared
}

/// Remote entries (each with the report path of the kustomization naming it) and the
/// transformers a raw scan cannot apply.
type BlindSpots = (Vec<(String, String)>, Vec<&'static str>);

/// The remote entries (with the report path of the kustomization naming each) of a root
/// and of everything it consumes, and the transformers that change its workloads out of a
/// raw scan's sight, in message order.
fn blind_spots(
    root: &Root,
    catalog: &mut Catalog,
    display: &dyn Fn(&Path) -> String,
) -> BlindSpots {
    let mut remote = Vec::new();
    let mut unseen: BTreeSet<&'static str> = BTreeSet::new();
    for dir in &root.dirs {
        let Some(k) = catalog.get(dir) else {
            continue;
        };
        let shown = display(&k.file);
        remote.extend(k.remote.iter().map(|e| (e.clone(), shown.clone())));
        for t in ["images", "patches", "components"] {
            if k.transformers.contains(t) {
                unseen.insert(t);
            }
        }
        if k.helm_charts {
            unseen.insert("helmCharts");
        }
    }
    let order = ["images", "patches", "components", "helmCharts"];
    let unseen = order.into_iter().filter(|t| unseen.contains(t)).collect();
    (remote, unseen)
}

fn first_line(text: &str) -> Option<String> {
    Source { display: "", text }.line_text(1)
}

/// `kustomize-not-rendered`: the root, and the transformers (of it and what it consumes)
/// that a raw scan does not apply.
fn not_rendered_note(root: &Root, catalog: &mut Catalog, text: &str) -> Finding {
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    for dir in &root.dirs {
        if let Some(k) = catalog.get(dir) {
            used.extend(k.transformers.iter().copied());
        }
    }
    let names: Vec<String> = TRANSFORMER_ORDER
        .iter()
        .filter(|t| used.contains(*t))
        .map(|t| format!("`{t}`"))
        .collect();
    let message = if names.is_empty() {
        format!(
            "kustomization root `{}` was scanned raw, not rendered; it uses no transformer that changes workloads (images, namespace, labels/commonLabels, patches, components), so its raw files are what it builds: `--render kustomize` would confirm it",
            root.folder
        )
    } else {
        format!(
            "kustomization root `{}` was scanned raw, not rendered: the raw files do not show what its {} change, so verdicts may be about objects the cluster never receives; run with `--render kustomize` (or config `render.kustomize: true`) to evaluate what it builds",
            root.folder,
            names.join(", ")
        )
    };
    let mut f = Finding::new(
        "kustomize-not-rendered",
        Level::Note,
        message,
        Location::file_start(&root.display),
    );
    f.snippet = first_line(text);
    f
}

/// Every place in a kustomization or patch (not in a comment) that names a break-glass key.
fn marker_places(text: &str) -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let code = match line.find('#') {
            // A `#` that starts a comment (line start or after a space) ends the code.
            Some(hash) if hash == 0 || line[..hash].ends_with([' ', '\t']) => &line[..hash],
            _ => line,
        };
        for needle in MARKER_NEEDLES {
            let Some(at) = code.find(needle) else {
                continue;
            };
            // Back to the start of the key (`alpha.` of the legacy annotation).
            let start = code[..at]
                .rfind(|c: char| c.is_whitespace() || "\"'{,/[:".contains(c))
                .map_or(0, |p| p + 1);
            let end = at + needle.len();
            let key = code[start..end].replace("~1", "/");
            let column = code[..start].chars().count() as u32 + 1;
            out.push((i as u32 + 1, column, key));
        }
    }
    out
}

fn marker_findings(display: &str, text: &str, what: &str) -> Vec<Finding> {
    let source = Source { display, text };
    marker_places(text)
        .into_iter()
        .map(|(line, column, key)| {
            let width = key.chars().count() as u32;
            let mut f = source.finding(
                "breakglass-in-kustomization",
                Level::Warning,
                format!(
                    "{what} adds the break-glass marker `{key}` to the objects it builds; a raw scan cannot tell which pod templates receive it (a label with `includeTemplates`, `commonLabels` or a patch reaches the pods and bypasses the policy): run with `--render kustomize` to evaluate the rendered workloads"
                ),
                Span {
                    start: Pos { line, column },
                    end: Pos {
                        line,
                        column: column + width,
                    },
                },
                0,
            );
            f.snippet = source.line_text(line);
            f
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Rendering

/// A temporary folder outside the repository, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = canonical(&std::env::temp_dir());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let dir = base.join(format!(
                "binauthz-lint-kustomize-{}-{n}-{nanos}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `to` relative to `from` (both absolute and canonical).
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The wrapper kustomization: the root by relative path, with origin annotations.
fn wrapper_text(relative_root: &str) -> String {
    let quoted = serde_json::to_string(relative_root).unwrap_or_else(|_| "\".\"".to_string());
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {quoted}\nbuildMetadata:\n- originAnnotations\n"
    )
}

/// Render one root: its objects as YAML text (origin annotations relative to the wrapper,
/// rewritten to absolute `path:` values), or the tool's message.
fn render_root(root: &Root, options: &RenderOptions) -> Result<String, String> {
    let temp = TempDir::new().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let relative = relative_path(&temp.0, &root.dir);
    let relative = relative.to_string_lossy().replace('\\', "/");
    std::fs::write(temp.0.join("kustomization.yaml"), wrapper_text(&relative))
        .map_err(|e| format!("cannot write the wrapper kustomization: {e}"))?;
    let Some((program, args)) = options.kustomize_command.split_first() else {
        return Err("the kustomize command is empty".to_string());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .arg(&temp.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = run_with_timeout(command, options.timeout)
        .map_err(|message| clean_message(&message, &temp.0, &relative, root))?;
    // Origins are relative to the wrapper: make them absolute now, while it exists.
    Ok(absolute_origins(&output, &temp.0))
}

/// The tool's message, without the temporary folder's name, klog's time and process id, or
/// the root's absolute path (so reports are deterministic), on one line, capped.
fn clean_message(message: &str, temp: &Path, relative: &str, root: &Root) -> String {
    let temp = temp.to_string_lossy();
    let root_dir = root.dir.to_string_lossy();
    // The relative path first: it contains most of the absolute one.
    let cleaned = message
        .replace(relative, &root.folder)
        .replace(temp.as_ref(), "<wrapper>")
        .replace(root_dir.as_ref(), &root.folder);
    let one_line = cleaned
        .lines()
        .map(|l| strip_klog_header(l.trim()))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // The wrapper's own layer of the message (kustomize first tries the root as a file)
    // says nothing about the root: keep what comes after it.
    let wrapper_layer = format!("recursed accumulation of path '{}': ", root.folder);
    let one_line = match one_line.find(&wrapper_layer) {
        Some(at) => one_line[at + wrapper_layer.len()..].to_string(),
        None => one_line,
    };
    let mut capped: String = one_line.chars().take(MAX_ERROR_CHARS).collect();
    if one_line.chars().count() > MAX_ERROR_CHARS {
        capped.push('…');
    }
    if capped.is_empty() {
        "(no message)".to_string()
    } else {
        capped
    }
}

/// `E1203 12:27:36.025712   28845 run.go:72] rest` → `rest` (kubectl logs through klog).
fn strip_klog_header(line: &str) -> &str {
    let bytes = line.as_bytes();
    let looks_like_klog = bytes.len() > 22
        && matches!(bytes[0], b'E' | b'W' | b'I' | b'F')
        && bytes[1..5].iter().all(u8::is_ascii_digit)
        && bytes[5] == b' ';
    if !looks_like_klog {
        return line;
    }
    match line.find("] ") {
        Some(end) => line[end + 2..].trim_start(),
        None => line,
    }
}

fn run_with_timeout(mut command: Command, timeout: Duration) -> Result<String, String> {
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    // Both pipes drained on their own threads, so a large output never blocks the tool.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = stdout.as_mut() {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    });
    let err_thread = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "timed out after {} s (--render-timeout)",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("cannot wait for the tool: {e}")),
        }
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    if !status.success() {
        let message = String::from_utf8_lossy(&err)
            .lines()
            .map(|l| strip_klog_header(l.trim()))
            // Deprecation warnings (`commonLabels`, `vars`) are not why it failed.
            .filter(|l| !l.starts_with("# Warning:"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(match status.code() {
            Some(code) => format!("exit code {code}: {}", message.trim()),
            None => format!("killed by a signal: {}", message.trim()),
        });
    }
    String::from_utf8(out).map_err(|_| "its output is not UTF-8".to_string())
}

/// Rewrite `path: REL` lines of origin annotations to absolute paths (kustomize writes them
/// relative to the wrapper, which is about to disappear).
fn absolute_origins(rendered: &str, wrapper: &Path) -> String {
    let mut out = String::with_capacity(rendered.len());
    let mut in_origin = false;
    let mut origin_indent = 0usize;
    for line in rendered.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if in_origin && indent <= origin_indent && !trimmed.trim().is_empty() {
            in_origin = false;
        }
        if in_origin && let Some(rest) = trimmed.strip_prefix("path: ") {
            let rel = rest.trim_end();
            let abs = normalize(&wrapper.join(rel));
            let ending = &line[line.trim_end().len()..];
            out.push_str(&line[..indent]);
            out.push_str("path: ");
            out.push_str(&serde_json::to_string(&abs.to_string_lossy()).unwrap_or_default());
            out.push_str(ending);
            continue;
        }
        if trimmed.starts_with(ORIGIN_ANNOTATION) {
            in_origin = true;
            origin_indent = indent;
        }
        out.push_str(line);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Mapping rendered objects back to the repository

/// One step from a node to a child.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    /// A sequence item that is a mapping with `name` (containers, env, volumes, ...):
    /// followed by name, since patches may add items before it.
    Named(String),
    Index(usize),
}

/// The route from `root` to the node (key or value) whose span is `target` (a mapping and
/// its first key start at the same place: the end tells them apart); `true` when the node
/// is a mapping key.
fn route_to(tree: &Tree, root: NodeId, target: Span) -> Option<(Vec<Step>, bool)> {
    let same = |span: Span| {
        span.start == target.start && (span.end == target.end || target.end == target.start)
    };
    let mut stack: Vec<(NodeId, Vec<Step>)> = vec![(root, Vec::new())];
    let mut budget = 1_000_000usize;
    while let Some((node, route)) = stack.pop() {
        budget = budget.checked_sub(1)?;
        if same(tree.span(node)) {
            return Some((route, false));
        }
        if let Some(entries) = tree.map(node) {
            for (k, v) in entries {
                let Some(key) = tree.scalar(*k) else {
                    continue;
                };
                let mut next = route.clone();
                next.push(Step::Key(key.to_string()));
                if same(tree.span(*k)) {
                    return Some((next, true));
                }
                stack.push((*v, next));
            }
        } else if let Some(items) = tree.seq(node) {
            for (i, item) in items.iter().enumerate() {
                let mut next = route.clone();
                next.push(match tree.get(*item, "name").and_then(|n| tree.scalar(n)) {
                    Some(name) => Step::Named(name.to_string()),
                    None => Step::Index(i),
                });
                stack.push((*item, next));
            }
        }
    }
    None
}

/// Follow a route in another tree: the span of the node (or key) it ends at, and the node.
fn follow(tree: &Tree, root: NodeId, route: &[Step], key: bool) -> Option<(Span, NodeId)> {
    let mut node = root;
    for (i, step) in route.iter().enumerate() {
        let last = i + 1 == route.len();
        match step {
            Step::Key(name) => {
                let (k, v) = tree.get_entry(node, name)?;
                if last && key {
                    return Some((tree.span(k), v));
                }
                node = v;
            }
            Step::Named(name) => {
                node = *tree.seq(node)?.iter().find(|item| {
                    tree.get(**item, "name").and_then(|n| tree.scalar(n)) == Some(name)
                })?;
            }
            Step::Index(index) => node = *tree.seq(node)?.get(*index)?,
        }
    }
    Some((tree.span(node), node))
}

fn object_identity(tree: &Tree, root: NodeId) -> (Option<String>, Option<String>) {
    let kind = tree
        .get(root, "kind")
        .and_then(|n| tree.scalar(n))
        .map(str::to_string);
    let name = tree
        .path(root, &["metadata", "name"])
        .and_then(|n| tree.scalar(n))
        .map(str::to_string);
    (kind, name)
}

/// The origin file of a rendered object (absolute, as `absolute_origins` wrote it).
fn origin_path(tree: &Tree, root: NodeId) -> Option<PathBuf> {
    let text = tree
        .path(root, &["metadata", "annotations", ORIGIN_ANNOTATION])
        .and_then(|n| tree.scalar(n))?;
    if text.lines().any(|l| l.trim_start().starts_with("repo:")) {
        return None;
    }
    let value = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("path:"))?
        .trim();
    let value = serde_json::from_str::<String>(value).unwrap_or_else(|_| value.to_string());
    Some(canonical(Path::new(&value)))
}

/// The document of an origin file an object came from: same kind, and the name the
/// rendered name was built from (a `namePrefix`/`nameSuffix` only adds to it).
fn origin_document(tree: &Tree, kind: Option<&str>, name: Option<&str>) -> Option<(u32, NodeId)> {
    let same_kind: Vec<(u32, NodeId, Option<String>)> = tree
        .documents
        .iter()
        .filter_map(|d| {
            let root = d.root?;
            let (k, n) = object_identity(tree, root);
            (k.as_deref() == kind).then_some((d.index, root, n))
        })
        .collect();
    if let Some(name) = name {
        if let Some((i, r, _)) = same_kind
            .iter()
            .find(|(_, _, n)| n.as_deref() == Some(name))
        {
            return Some((*i, *r));
        }
        if let Some((i, r, _)) = same_kind
            .iter()
            .filter(|(_, _, n)| {
                n.as_deref()
                    .is_some_and(|n| !n.is_empty() && name.contains(n))
            })
            .max_by_key(|(_, _, n)| n.as_deref().map_or(0, str::len))
        {
            return Some((*i, *r));
        }
    }
    same_kind.first().map(|(i, r, _)| (*i, *r))
}

/// A kustomization or patch file of a root: where markers and `images:` entries are found.
struct EntryFile {
    display: String,
    text: String,
    /// `images[]` entries (kustomizations only).
    images: Vec<(String, Span)>,
}

/// Evaluate a root's rendered objects and move every location into the repository.
fn evaluate_rendered(
    root: &Root,
    rendered: &str,
    catalog: &mut Catalog,
    scopes: &Scopes<'_, '_>,
    display: &dyn Fn(&Path) -> String,
) -> FileResult {
    let index = scopes.index_for(Some(&root.file));
    let scope = scopes.get(index);
    let mut result = scan::scan_text_in(&root.display, rendered, &FileContext::of(scope));
    scopes.stamp(index, &mut result.workloads, &mut result.findings);
    if result.skipped.is_some() {
        return result;
    }
    let rendered_tree = yaml::parse(rendered, &scope.settings.limits);

    // The origin files, read once each.
    let mut origin_of_doc: BTreeMap<u32, PathBuf> = BTreeMap::new();
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    for document in &rendered_tree.documents {
        let Some(doc_root) = document.root else {
            continue;
        };
        let Some(path) = origin_path(&rendered_tree, doc_root) else {
            continue;
        };
        if !texts.contains_key(&path) {
            let Ok(text) = crate::inputs::read::read_file(&path, scope.settings.max_file_size)
            else {
                continue;
            };
            texts.insert(path.clone(), text);
        }
        origin_of_doc.insert(document.index, path);
    }
    let trees: BTreeMap<&PathBuf, Tree<'_>> = texts
        .iter()
        .map(|(path, text)| (path, yaml::parse(text, &scope.settings.limits)))
        .collect();
    let displays: BTreeMap<&PathBuf, String> =
        texts.keys().map(|path| (path, display(path))).collect();

    // Kustomization files and patches of the root, for markers and image entries.
    let mut entry_files: Vec<EntryFile> = Vec::new();
    for dir in &root.dirs {
        if let Some(k) = catalog.get(dir) {
            entry_files.push(EntryFile {
                display: display(&k.file),
                text: k.text.clone(),
                images: k.images.clone(),
            });
            for patch in &k.patch_files {
                let path = canonical(&k.dir.join(patch));
                if let Ok(text) = crate::inputs::read::read_file(&path, MAX_KUSTOMIZATION_SIZE) {
                    entry_files.push(EntryFile {
                        display: display(&path),
                        text,
                        images: Vec::new(),
                    });
                }
            }
        }
    }
    let marker_entries = |key: &str| -> Vec<Location> {
        let mut out = Vec::new();
        for file in &entry_files {
            let source = Source {
                display: &file.display,
                text: &file.text,
            };
            for (line, column, found) in marker_places(&file.text) {
                if found != key {
                    continue;
                }
                let span = Span {
                    start: Pos { line, column },
                    end: Pos {
                        line,
                        column: column + found.chars().count() as u32,
                    },
                };
                out.push(source.location(span, 0));
            }
        }
        out
    };
    let image_entries = |repository: &str| -> Vec<Location> {
        let mut out = Vec::new();
        for file in &entry_files {
            let source = Source {
                display: &file.display,
                text: &file.text,
            };
            for (name, span) in &file.images {
                if name == repository {
                    out.push(source.location(*span, 0));
                }
            }
        }
        out
    };

    let kustomization_text = catalog
        .get(&root.dir)
        .map(|k| k.text.clone())
        .unwrap_or_default();
    let fallback = Location::file_start(&root.display);
    let fallback_snippet = first_line(&kustomization_text);

    // A rendered location → (repository location, snippet, origin scalar, route).
    struct Mapped {
        location: Location,
        snippet: Option<String>,
        origin_value: Option<String>,
        route: Vec<Step>,
        found: bool,
    }
    let map = |location: &Location| -> Mapped {
        let unmapped = Mapped {
            location: fallback.clone(),
            snippet: fallback_snippet.clone(),
            origin_value: None,
            route: Vec::new(),
            found: false,
        };
        let Some(doc_root) = rendered_tree
            .documents
            .iter()
            .find(|d| d.index == location.document)
            .and_then(|d| d.root)
        else {
            return unmapped;
        };
        let Some(path) = origin_of_doc.get(&location.document) else {
            return unmapped;
        };
        let (Some(tree), Some(text), Some(file)) =
            (trees.get(path), texts.get(path), displays.get(path))
        else {
            return unmapped;
        };
        let (kind, name) = object_identity(&rendered_tree, doc_root);
        let Some((origin_index, origin_root)) =
            origin_document(tree, kind.as_deref(), name.as_deref())
        else {
            return unmapped;
        };
        let source = Source {
            display: file,
            text,
        };
        let span = Span {
            start: Pos {
                line: location.line,
                column: location.column,
            },
            end: Pos {
                line: location.end_line,
                column: location.end_column,
            },
        };
        let (route, key) = route_to(&rendered_tree, doc_root, span).unwrap_or_default();
        match follow(tree, origin_root, &route, key) {
            Some((span, node)) => Mapped {
                location: source.location(span, origin_index),
                snippet: source.line_text(span.start.line),
                origin_value: tree.scalar(node).map(str::to_string),
                route,
                found: true,
            },
            None => {
                // The field is not in that file (a transformer added it): the object's line.
                let start = tree.span(origin_root).start;
                let span = Span { start, end: start };
                Mapped {
                    location: source.location(span, origin_index),
                    snippet: source.line_text(start.line),
                    origin_value: None,
                    route,
                    found: false,
                }
            }
        }
    };

    for workload in &mut result.workloads {
        workload.location = map(&workload.location).location;
        for image in &mut workload.images {
            image.location = map(&image.location).location;
        }
        if let Some(breakglass) = &mut workload.breakglass {
            for source in &mut breakglass.sources {
                source.location = map(&source.location).location;
            }
        }
        workload.rendered_from = Some(root.folder.clone());
    }
    for finding in &mut result.findings {
        let mapped = map(&finding.location);
        let rendered_image = finding.image.clone();
        // Two overlays of one base give findings at the same line: say which root.
        finding
            .message
            .push_str(&format!(" [rendered from `{}`]", root.folder));
        finding.location = mapped.location;
        finding.snippet = mapped.snippet;
        for related in &mut finding.related {
            if related.location.file == root.display {
                related.location = map(&related.location).location;
            }
        }
        if let Some(workload) = &mut finding.workload {
            workload.rendered_from = Some(root.folder.clone());
        }
        // The kustomization entry that rewrote the image.
        if let (Some(rendered_image), Some(origin)) = (&rendered_image, &mapped.origin_value)
            && mapped.found
            && origin != rendered_image
        {
            for entry in image_entries(image_repository(origin)) {
                finding.related.push(Related {
                    message: format!(
                        "`{origin}` rewritten to `{rendered_image}` by this `images:` entry"
                    ),
                    location: entry,
                });
            }
        }
        // The kustomization entry or patch that added a break-glass marker.
        if !mapped.found
            && let Some(Step::Key(key)) = mapped.route.last()
            && MARKER_NEEDLES
                .iter()
                .any(|n| key.contains(n.replace("~1", "/").as_str()))
        {
            for entry in marker_entries(key) {
                finding.related.push(Related {
                    message: format!("break-glass marker `{key}` added here"),
                    location: entry,
                });
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_ancestor() {
        assert_eq!(
            relative_path(Path::new("/tmp/w"), Path::new("/work/repo/overlay")),
            PathBuf::from("../../work/repo/overlay")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            PathBuf::from(".")
        );
    }

    #[test]
    fn marker_places_skip_comments_and_find_json_patch_paths() {
        let text = "# image-policy.k8s.io/break-glass: \"true\"\nlabels:\n- pairs:\n    image-policy.k8s.io/break-glass: \"true\"\n- op: add\n  path: /spec/template/metadata/labels/image-policy.k8s.io~1break-glass\ncommonAnnotations:\n  alpha.image-policy.k8s.io/break-glass: \"true\"\n";
        let places = marker_places(text);
        assert_eq!(
            places,
            vec![
                (4, 5, "image-policy.k8s.io/break-glass".to_string()),
                (6, 40, "image-policy.k8s.io/break-glass".to_string()),
                (8, 3, "alpha.image-policy.k8s.io/break-glass".to_string()),
            ]
        );
    }

    #[test]
    fn klog_headers_are_dropped() {
        assert_eq!(
            strip_klog_header(
                "E1203 12:27:36.025712   28845 run.go:72] \"command failed\" err=\"x\""
            ),
            "\"command failed\" err=\"x\""
        );
        assert_eq!(strip_klog_header("Error: boom"), "Error: boom");
    }

    #[test]
    fn origins_become_absolute() {
        let rendered = "metadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../repo/base/deploy.yaml\n  name: web\n";
        let out = absolute_origins(rendered, Path::new("/tmp/w"));
        assert!(
            out.contains("      path: \"/tmp/repo/base/deploy.yaml\"\n"),
            "{out}"
        );
        assert!(out.ends_with("  name: web\n"));
    }

    #[test]
    fn routes_follow_containers_by_name() {
        let rendered =
            "spec:\n  containers:\n  - name: side\n    image: a\n  - name: app\n    image: b\n";
        let origin = "spec:\n  containers:\n  - image: x\n    name: app\n";
        let r = yaml::parse(rendered, &Limits::default());
        let o = yaml::parse(origin, &Limits::default());
        let (Some(rr), Some(or)) = (r.documents[0].root, o.documents[0].root) else {
            panic!("no roots");
        };
        let target = Span {
            start: Pos {
                line: 6,
                column: 12,
            },
            end: Pos {
                line: 6,
                column: 13,
            },
        };
        let (route, key) = route_to(&r, rr, target).expect("route");
        assert!(!key);
        let (span, _) = follow(&o, or, &route, key).expect("followed");
        assert_eq!(
            span.start,
            Pos {
                line: 3,
                column: 12
            }
        );
    }
}
