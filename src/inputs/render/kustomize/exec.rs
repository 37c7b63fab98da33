//! Running the user's kustomize on one root: a temporary wrapper kustomization outside the
//! repository, a per-root timeout, kubectl's messages cleaned of temporary paths, and the
//! origin annotations made absolute.

use super::*;

/// A temporary folder outside the repository, removed when dropped.
pub(super) struct TempDir(PathBuf);

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
pub(super) fn relative_path(from: &Path, to: &Path) -> PathBuf {
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

/// The wrapper kustomization: the root by relative path, with `origins` kustomize's origin
/// annotations.
pub(super) fn wrapper_text(relative_root: &str, origins: bool) -> String {
    let quoted = serde_json::to_string(relative_root).unwrap_or_else(|_| "\".\"".to_string());
    let metadata = if origins {
        "buildMetadata:\n- originAnnotations\n"
    } else {
        ""
    };
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {quoted}\n{metadata}"
    )
}

/// Render one root: its objects as YAML text (origin annotations relative to the wrapper,
/// rewritten to absolute `path:` values), or the tool's message.
/// Without `origins` the objects are located by their identities (see
/// `origin::evaluate_rendered`); kustomize's origin annotations, which double its time on
/// roots built from many components, are asked for only when that is ambiguous.
pub(super) fn render_root(
    root: &Root,
    options: &RenderOptions,
    origins: bool,
) -> Result<String, String> {
    let temp = TempDir::new().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let relative = relative_path(&temp.0, &root.dir);
    let relative = relative.to_string_lossy().replace('\\', "/");
    std::fs::write(
        temp.0.join("kustomization.yaml"),
        wrapper_text(&relative, origins),
    )
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
pub(super) fn clean_message(message: &str, temp: &Path, relative: &str, root: &Root) -> String {
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
pub(super) fn strip_klog_header(line: &str) -> &str {
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

pub(super) fn run_with_timeout(mut command: Command, timeout: Duration) -> Result<String, String> {
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let output = crate::inputs::render::wait_bounded(child, (u64::MAX, u64::MAX), timeout)
        .map_err(|e| format!("cannot wait for the tool: {e}"))?
        .ok_or_else(|| format!("timed out after {} s (--render-timeout)", timeout.as_secs()))?;
    let (status, out, err) = (output.status, output.stdout, output.stderr);
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
pub(super) fn absolute_origins(rendered: &str, wrapper: &Path) -> String {
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
