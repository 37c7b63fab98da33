//! Fingerprint v1 (contract §6): a stable identity for a finding that survives moved lines,
//! moved files and version bumps, used by PR mode and `--baseline` to tell new findings from
//! unchanged ones, and written as `findings[].fingerprint` and SARIF
//! `partialFingerprints["binauthz/v1"]`.
//!
//! Inputs for a finding about a workload: rule id, cluster key, the object's API group, kind,
//! namespace and name, the pod-template route, the container type and name, and for image
//! findings the image *repository* (no tag, no digest, so a version bump keeps the identity).
//! Never a line, a column or a file path: moving a Deployment to another file keeps its
//! findings. Findings without a workload (policy, config, `manifest-invalid`, ...) hash the
//! rule id, the repository-relative file path and the trimmed text of their line.
//!
//! Identical findings share a fingerprint; comparisons are multisets (contract §8).

use super::paths::RepoPaths;
use super::{Finding, Report};

/// SARIF `partialFingerprints` key of fingerprint v1.
pub const SARIF_KEY: &str = "binauthz/v1";

/// The image repository: the reference without `@digest` and without `:tag` (a `:` after
/// the last `/` is a tag; one before it is a registry port).
pub fn image_repository(image: &str) -> &str {
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    }
}

/// Fingerprint v1 of one finding (32 hex digits).
pub fn fingerprint_v1(finding: &Finding, paths: &RepoPaths) -> String {
    let mut hash = Fnv128::new();
    hash.field(Some("binauthz/v1"));
    hash.field(Some(finding.rule_id));
    match &finding.workload {
        Some(workload) => {
            hash.field(workload.cluster.as_deref());
            hash.field(Some(&workload.api_group));
            hash.field(Some(&workload.kind));
            hash.field(Some(&workload.namespace));
            hash.field(Some(&workload.name));
            hash.field(Some(&workload.route));
            hash.field(finding.container_type);
            hash.field(finding.container.as_deref());
            hash.field(finding.image.as_deref().map(image_repository));
            // Rendered findings: the root too (two overlays of one base, two findings).
            if let Some(root) = &workload.rendered_from {
                hash.field(Some("renderedFrom"));
                hash.field(Some(root));
            }
            // Descriptor fan-out: one workload per context deploying it.
            if let Some(context) = &workload.descriptor_context {
                hash.field(Some("descriptorContext"));
                hash.field(Some(context));
            }
        }
        None => {
            hash.field(Some(&paths.repo_relative(&finding.location.file)));
            hash.field(finding.snippet.as_deref().map(str::trim));
        }
    }
    format!("{:032x}", hash.0)
}

impl Report {
    /// Set `fingerprint` on every finding (call once the report is complete).
    pub fn assign_fingerprints(&mut self, paths: &RepoPaths) {
        for finding in &mut self.findings {
            finding.fingerprint = fingerprint_v1(finding, paths);
        }
    }
}

/// FNV-1a, 128 bits: small, stable across platforms and releases (unlike `DefaultHasher`).
pub(crate) struct Fnv128(pub(crate) u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;

    pub(crate) fn new() -> Fnv128 {
        Fnv128(Self::OFFSET)
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u128::from(*byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A length-prefixed field, so `("ab", "c")` and `("a", "bc")` differ; `None` differs
    /// from `Some("")`.
    pub(crate) fn field(&mut self, value: Option<&str>) {
        match value {
            None => self.bytes(b"-"),
            Some(v) => {
                self.bytes(format!("{}:", v.len()).as_bytes());
                self.bytes(v.as_bytes());
            }
        }
        self.bytes(b";");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, WorkloadRef};
    use crate::rules::Level;

    fn finding(file: &str, line: u32, image: &str) -> Finding {
        let mut f = Finding::new(
            "image-denied",
            Level::Error,
            format!("Image {image} denied"),
            Location {
                file: file.to_string(),
                line,
                column: 16,
                document: 0,
                end_line: line,
                end_column: 30,
            },
        );
        f.workload = Some(WorkloadRef {
            kind: "Deployment".to_string(),
            name: "web".to_string(),
            namespace: "prod".to_string(),
            api_group: "apps".to_string(),
            route: "spec.template".to_string(),
            cluster: Some("us-central1.prod".to_string()),
            context: None,
            rendered_from: None,
            kind_label: None,
            justification: None,
            descriptor_context: None,
        });
        f.container = Some("web".to_string());
        f.container_type = Some("container");
        f.image = Some(image.to_string());
        f.snippet = Some(format!("        image: {image}"));
        f
    }

    fn print(f: &Finding) -> String {
        fingerprint_v1(
            f,
            &RepoPaths::new(std::path::Path::new("/repo"), std::path::Path::new("/repo")),
        )
    }

    #[test]
    fn repository_strips_tag_and_digest_but_not_port() {
        for (image, repo) in [
            ("nginx", "nginx"),
            ("nginx:1.25", "nginx"),
            ("gcr.io/p/app@sha256:abc", "gcr.io/p/app"),
            ("gcr.io/p/app:1.2@sha256:abc", "gcr.io/p/app"),
            ("localhost:5000/app", "localhost:5000/app"),
            ("localhost:5000/app:v2", "localhost:5000/app"),
        ] {
            assert_eq!(image_repository(image), repo, "{image}");
        }
    }

    #[test]
    fn ignores_lines_files_tags_and_digests() {
        let base = print(&finding("apps/web.yaml", 10, "gcr.io/p/app:1.0"));
        assert_eq!(base.len(), 32);
        assert_eq!(
            base,
            print(&finding("apps/web.yaml", 99, "gcr.io/p/app:1.0"))
        );
        assert_eq!(
            base,
            print(&finding("moved/elsewhere.yaml", 3, "gcr.io/p/app:2.0"))
        );
        assert_eq!(
            base,
            print(&finding("apps/web.yaml", 10, "gcr.io/p/app@sha256:0123"))
        );
    }

    #[test]
    fn changes_with_identity() {
        let base = finding("apps/web.yaml", 10, "gcr.io/p/app:1.0");
        let reference = print(&base);
        let mut variants: Vec<Finding> = Vec::new();
        let mut v = base.clone();
        v.workload.as_mut().unwrap().cluster = Some("europe-west1.prod".to_string());
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().cluster = None;
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().namespace = "staging".to_string();
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().name = "api".to_string();
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().kind = "StatefulSet".to_string();
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().api_group = "argoproj.io".to_string();
        variants.push(v);
        let mut v = base.clone();
        v.workload.as_mut().unwrap().route = "spec.jobTemplate.spec.template".to_string();
        variants.push(v);
        let mut v = base.clone();
        v.container = Some("sidecar".to_string());
        variants.push(v);
        let mut v = base.clone();
        v.container_type = Some("initContainer");
        variants.push(v);
        let mut v = base.clone();
        v.image = Some("gcr.io/p/other:1.0".to_string());
        variants.push(v);
        let mut v = base.clone();
        v.rule_id = "image-denied-dryrun";
        variants.push(v);
        let mut prints: Vec<String> = variants.iter().map(print).collect();
        prints.push(reference);
        let count = prints.len();
        prints.sort();
        prints.dedup();
        assert_eq!(
            prints.len(),
            count,
            "every identity change must change the fingerprint"
        );
    }

    #[test]
    fn file_findings_use_path_and_line_text_not_line_number() {
        let mut a = Finding::new(
            "manifest-invalid",
            Level::Error,
            "invalid YAML".to_string(),
            Location::file_start("apps/bad.yaml"),
        );
        a.snippet = Some("  key: [".to_string());
        let mut moved = a.clone();
        moved.location.line = 40;
        moved.snippet = Some("key: [   ".to_string());
        assert_eq!(print(&a), print(&moved));
        let mut other_file = a.clone();
        other_file.location.file = "apps/other.yaml".to_string();
        assert_ne!(print(&a), print(&other_file));
    }
}
