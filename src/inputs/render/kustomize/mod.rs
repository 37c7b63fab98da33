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
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod exec;
mod origin;

use exec::*;
use origin::*;

/// The file names kustomize looks for in a folder, in its order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", EXTENSIONLESS];

/// The one name of [`FILE_NAMES`] that discovery does not list (no YAML extension).
const EXTENSIONLESS: &str = "Kustomization";

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

/// Whether any scanned folder holds a kustomization: the common scan without one must not
/// pay for the analysis. A `kustomization.yaml` or `.yml` is a candidate itself (no file
/// system access); only the extension-less `Kustomization`, which discovery does not list,
/// is looked for, one stat per folder.
fn any_kustomization(candidates: &Candidates, cwd: &Path, files: &dyn Files) -> bool {
    let named = |display: &str| {
        let name = display.rsplit('/').next().unwrap_or(display);
        FILE_NAMES.contains(&name)
    };
    if candidates.keys().any(|display| named(display)) {
        return true;
    }
    let folders: BTreeSet<&Path> = candidates
        .values()
        .filter_map(|candidate| match candidate {
            Candidate::Read { path, .. } => path.parent(),
            _ => None,
        })
        .collect();
    folders
        .into_iter()
        .any(|dir| files.is_file(&normalize(&cwd.join(dir)).join(EXTENSIONLESS)))
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
    if !any_kustomization(candidates, cwd, files) {
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
                        render_root(root, options, false)
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
                let result = match evaluate_rendered(root, rendered, &mut catalog, scopes, &display)
                {
                    Ok(result) => result,
                    // Two resource files could hold the same object: kustomize's origin
                    // annotations say which. Should that second build fail, the objects keep
                    // no origin and are located at the root, as generated objects are.
                    Err(origin::NeedsOrigins) => {
                        let annotated =
                            render_root(root, options, true).unwrap_or_else(|_| rendered.clone());
                        evaluate_annotated(root, &annotated, &mut catalog, scopes, &display)
                    }
                };
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

#[cfg(test)]
mod tests;
