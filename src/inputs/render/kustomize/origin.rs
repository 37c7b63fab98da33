//! From a rendered object back to the repository: origin annotations → the file and
//! document it came from, the route of a rendered value → the same value in that file, and
//! the evaluation of the rendered stream located there.

use super::*;
use crate::settings::ScanSettings;
use crate::settings::scope::Scope;

/// One step from a node to a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    /// A sequence item that is a mapping with `name` (containers, env, volumes, ...):
    /// followed by name, since patches may add items before it.
    Named(String),
    Index(usize),
}

/// The route from `root` to the node (key or value) whose span is `target` (a mapping and
/// its first key start at the same place: the end tells them apart); `true` when the node
/// is a mapping key.
pub(super) fn route_to(tree: &Tree, root: NodeId, target: Span) -> Option<(Vec<Step>, bool)> {
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
pub(super) fn follow(
    tree: &Tree,
    root: NodeId,
    route: &[Step],
    key: bool,
) -> Option<(Span, NodeId)> {
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

pub(super) fn object_identity(tree: &Tree, root: NodeId) -> (Option<String>, Option<String>) {
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
pub(super) fn origin_path(tree: &Tree, root: NodeId) -> Option<PathBuf> {
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
pub(super) fn origin_document(
    tree: &Tree,
    kind: Option<&str>,
    name: Option<&str>,
) -> Option<(u32, NodeId)> {
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
pub(super) struct EntryFile {
    display: String,
    text: String,
    /// `images[]` entries (kustomizations only).
    images: Vec<(String, Span)>,
}

/// The `(kind, metadata.name)` of every document of each resource file.
pub(super) type Identities = BTreeMap<PathBuf, Vec<(Option<String>, Option<String>)>>;

/// A rendered stream whose objects could not all be traced to one resource file by their
/// identity: it must be rendered again with kustomize's origin annotations.
pub(super) struct NeedsOrigins;

/// The resource files of a root (not kustomizations, not patches), read once each: where a
/// rendered object can come from.
fn resource_texts(root: &Root, catalog: &mut Catalog, max_size: u64) -> BTreeMap<PathBuf, String> {
    let mut texts = BTreeMap::new();
    for dir in &root.dirs {
        let Some(k) = catalog.get(dir).cloned() else {
            continue;
        };
        let entries: Vec<PathBuf> = k
            .local_entries(&k.resources, catalog.files)
            .chain(k.local_entries(&k.components, catalog.files))
            .filter(|path| !catalog.files.is_dir(path))
            .collect();
        for path in entries {
            if !texts.contains_key(&path)
                && let Ok(text) = crate::inputs::read::read_file(&path, max_size)
            {
                texts.insert(path, text);
            }
        }
    }
    texts
}

/// The one resource file a rendered object (`kind`, `name`) was built from, found without
/// origin annotations: the file with a document of the same kind and that name, else the
/// file whose same-kind document's name the rendered name contains (`namePrefix`,
/// `nameSuffix`), the longest such name. `Ok(None)`: no file has it (a generated object);
/// `Err`: two files qualify equally.
pub(super) fn identity_origin<'p>(
    identities: &'p Identities,
    kind: Option<&str>,
    name: Option<&str>,
) -> Result<Option<&'p PathBuf>, NeedsOrigins> {
    let (Some(kind), Some(name)) = (kind, name) else {
        return Ok(None);
    };
    // (quality, length of the source name) per file: exact names beat contained ones.
    let score = |docs: &[(Option<String>, Option<String>)]| {
        docs.iter()
            .filter(|(k, _)| k.as_deref() == Some(kind))
            .filter_map(|(_, n)| {
                let n = n.as_deref()?;
                if n == name {
                    Some((2usize, n.len()))
                } else if !n.is_empty() && name.contains(n) {
                    Some((1, n.len()))
                } else {
                    None
                }
            })
            .max()
    };
    let mut best: Option<((usize, usize), &PathBuf)> = None;
    let mut tied = false;
    for (path, docs) in identities {
        let Some(s) = score(docs) else {
            continue;
        };
        match best {
            Some((b, _)) if b > s => {}
            Some((b, _)) if b == s => tied = true,
            _ => {
                best = Some((s, path));
                tied = false;
            }
        }
    }
    if tied {
        return Err(NeedsOrigins);
    }
    Ok(best.map(|(_, path)| path))
}

/// The file each rendered document came from (by document index), and those files' texts.
#[derive(Default)]
struct Origins {
    of_doc: BTreeMap<u32, PathBuf>,
    texts: BTreeMap<PathBuf, String>,
}

/// The settings of the scope a root falls in first, and every scope it falls in
/// (descriptor fan-out, contract §14).
fn root_scopes<'s, 'p>(root: &Root, scopes: &'s Scopes<'p, '_>) -> (Vec<usize>, &'s Scope<'p>) {
    let indices = scopes.indices_for(Some(&root.file));
    let scope = scopes.get(indices.first().copied().unwrap_or(0));
    (indices, scope)
}

/// Origins by the objects' identities in the root's resource files (the root was rendered
/// without origin annotations, which cost kustomize up to twice the time of the plain build).
fn identity_origins(
    root: &Root,
    rendered: &Tree,
    catalog: &mut Catalog,
    settings: &ScanSettings,
) -> Result<Origins, NeedsOrigins> {
    let mut texts = resource_texts(root, catalog, settings.max_file_size);
    let identities: Identities = texts
        .iter()
        .map(|(path, text)| {
            let tree = yaml::parse(text, &settings.limits);
            let docs = tree
                .documents
                .iter()
                .filter_map(|d| d.root)
                .map(|r| object_identity(&tree, r))
                .collect();
            (path.clone(), docs)
        })
        .collect();
    let mut of_doc = BTreeMap::new();
    for document in &rendered.documents {
        let Some(doc_root) = document.root else {
            continue;
        };
        let (kind, name) = object_identity(rendered, doc_root);
        if let Some(path) = identity_origin(&identities, kind.as_deref(), name.as_deref())? {
            of_doc.insert(document.index, path.clone());
        }
    }
    texts.retain(|path, _| of_doc.values().any(|p| p == path));
    Ok(Origins { of_doc, texts })
}

/// Origins from kustomize's origin annotations (none when the stream has none).
fn annotated_origins(rendered: &Tree, settings: &ScanSettings) -> Origins {
    let mut origins = Origins::default();
    for document in &rendered.documents {
        let Some(doc_root) = document.root else {
            continue;
        };
        let Some(path) = origin_path(rendered, doc_root) else {
            continue;
        };
        if !origins.texts.contains_key(&path) {
            let Ok(text) = crate::inputs::read::read_file(&path, settings.max_file_size) else {
                continue;
            };
            origins.texts.insert(path.clone(), text);
        }
        origins.of_doc.insert(document.index, path);
    }
    origins
}

/// Evaluate a root rendered without origin annotations, its objects traced by identity;
/// `Err` when two resource files could hold the same object.
pub(super) fn evaluate_rendered(
    root: &Root,
    rendered: &str,
    catalog: &mut Catalog,
    scopes: &Scopes<'_, '_>,
    display: &dyn Fn(&Path) -> String,
) -> Result<FileResult, NeedsOrigins> {
    let (_, scope) = root_scopes(root, scopes);
    let tree = yaml::parse(rendered, &scope.settings.limits);
    let origins = identity_origins(root, &tree, catalog, &scope.settings)?;
    Ok(evaluate_traced(
        root, rendered, &tree, origins, catalog, scopes, display,
    ))
}

/// Evaluate a root rendered with origin annotations (objects without one are located at
/// the root, as generated objects are).
pub(super) fn evaluate_annotated(
    root: &Root,
    rendered: &str,
    catalog: &mut Catalog,
    scopes: &Scopes<'_, '_>,
    display: &dyn Fn(&Path) -> String,
) -> FileResult {
    let (_, scope) = root_scopes(root, scopes);
    let tree = yaml::parse(rendered, &scope.settings.limits);
    let origins = annotated_origins(&tree, &scope.settings);
    evaluate_traced(root, rendered, &tree, origins, catalog, scopes, display)
}

/// Evaluate a root's rendered objects and move every location into the repository.
fn evaluate_traced(
    root: &Root,
    rendered: &str,
    rendered_tree: &Tree,
    origins: Origins,
    catalog: &mut Catalog,
    scopes: &Scopes<'_, '_>,
    display: &dyn Fn(&Path) -> String,
) -> FileResult {
    let (indices, scope) = root_scopes(root, scopes);
    let mut result = scan::scan_in_scopes(&root.display, rendered, None, &indices, scopes);
    if result.skipped.is_some() {
        return result;
    }
    let Origins {
        of_doc: origin_of_doc,
        texts,
    } = origins;
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
        let (kind, name) = object_identity(rendered_tree, doc_root);
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
        let (route, key) = route_to(rendered_tree, doc_root, span).unwrap_or_default();
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
