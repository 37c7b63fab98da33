//! Break-glass markers: where they are, whether the enforcer honours them, and why not.
//!
//! Spec §6 and decisions A1–A3: only the pod's own metadata counts (a pod template for
//! workloads), the value must be exactly `"true"`, the current key is a label and the legacy
//! key an annotation. Markers of other systems (kritis) are not Binary Authorization's.

use crate::extract::Workload;
pub use crate::extract::{LABEL_KEY, LEGACY_ANNOTATION_KEY, validates_value};
use crate::yaml::{NodeId, ScalarKind, Span, Tree};

pub const KRITIS_KEY: &str = "kritis.grafeas.io/breakglass";

/// What kind of map a marker sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Label,
    Annotation,
}

impl MarkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Label => "label",
            MarkerKind::Annotation => "annotation",
        }
    }
}

/// Why a marker is not honoured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    NotOnPodTemplate { place: String },
    ValueNotTrue { value: String },
    UnquotedScalar { value: String, kind: ScalarKind },
    LabelKeyAsAnnotation,
    LegacyKeyAsLabel,
    MisspelledKey,
}

impl Problem {
    /// Short form for the JSON report's `problem` field.
    pub fn short(&self) -> String {
        match self {
            Problem::NotOnPodTemplate { .. } => "not on the pod template".to_string(),
            Problem::ValueNotTrue { .. } => "value is not \"true\"".to_string(),
            Problem::UnquotedScalar { kind, .. } => {
                format!("value is {}, not the string \"true\"", kind.describe())
            }
            Problem::LabelKeyAsAnnotation => "label key used as an annotation".to_string(),
            Problem::LegacyKeyAsLabel => "legacy annotation key used as a label".to_string(),
            Problem::MisspelledKey => "misspelled break-glass key".to_string(),
        }
    }
}

/// One marker found on a workload.
#[derive(Clone, Debug)]
pub struct Marker {
    pub kind: MarkerKind,
    pub key: String,
    pub value: String,
    pub key_span: Span,
    pub effective: bool,
    /// The first problem (the one to fix first); `None` when effective.
    pub problem: Option<Problem>,
    /// Kritis or another system's marker: not Binary Authorization break-glass at all.
    pub other_system: bool,
    /// The legacy annotation on the pod: honoured, but deprecated.
    pub deprecated: bool,
    /// The value is not a string (unquoted `true`, a number, null, a list), so the API
    /// server refuses the whole object, wherever the marker is.
    pub refused_value: bool,
}

/// Find every break-glass-like marker on a workload.
pub fn markers(tree: &Tree, workload: &Workload, lenient: bool) -> Vec<Marker> {
    let mut out = Vec::new();
    for meta in &workload.pod_metadata {
        match workload
            .annotations_not_copied
            .iter()
            .find(|(m, _)| m == meta)
        {
            None => scan_metadata(tree, *meta, BOTH, None, lenient, &mut out),
            Some((_, place)) => {
                scan_metadata(tree, *meta, LABELS, None, lenient, &mut out);
                scan_metadata(
                    tree,
                    *meta,
                    ANNOTATIONS,
                    Some(place.clone()),
                    lenient,
                    &mut out,
                );
            }
        }
    }
    for (meta, place) in &workload.other_metadata {
        scan_metadata(tree, *meta, BOTH, Some(place.clone()), lenient, &mut out);
    }
    out.sort_by_key(|m| (m.key_span.start.line, m.key_span.start.column));
    out
}

const LABELS: &[(&str, MarkerKind)] = &[("labels", MarkerKind::Label)];
const ANNOTATIONS: &[(&str, MarkerKind)] = &[("annotations", MarkerKind::Annotation)];
const BOTH: &[(&str, MarkerKind)] = &[
    ("labels", MarkerKind::Label),
    ("annotations", MarkerKind::Annotation),
];

fn scan_metadata(
    tree: &Tree,
    meta: NodeId,
    fields: &[(&str, MarkerKind)],
    wrong_place: Option<String>,
    lenient: bool,
    out: &mut Vec<Marker>,
) {
    for &(field, kind) in fields {
        let Some(map) = tree.get(meta, field) else {
            continue;
        };
        for (key_node, value_node) in tree.entries(map) {
            let Some(key) = tree.scalar(key_node) else {
                continue;
            };
            if let Some(marker) = classify(
                tree,
                kind,
                key,
                key_node,
                value_node,
                wrong_place.as_deref(),
                lenient,
            ) {
                out.push(marker);
            }
        }
    }
}

/// `break-glass`, `breakglass` or `break_glass` anywhere in the key, in any case (checked on
/// every label and annotation key of every workload: without allocating).
fn looks_like_breakglass(key: &str) -> bool {
    let bytes = key.as_bytes();
    let at = |i: usize, word: &[u8]| {
        bytes
            .get(i..i + word.len())
            .is_some_and(|part| part.eq_ignore_ascii_case(word))
    };
    (0..bytes.len()).any(|i| {
        at(i, b"break")
            && (at(i + 5, b"glass")
                || ((at(i + 5, b"-") || at(i + 5, b"_")) && at(i + 6, b"glass")))
    })
}

fn classify(
    tree: &Tree,
    kind: MarkerKind,
    key: &str,
    key_node: NodeId,
    value_node: NodeId,
    wrong_place: Option<&str>,
    lenient: bool,
) -> Option<Marker> {
    if !looks_like_breakglass(key) {
        return None;
    }
    let value = tree.scalar(value_node).unwrap_or("").to_string();
    let mut marker = Marker {
        kind,
        key: key.to_string(),
        value: value.clone(),
        key_span: tree.span(key_node),
        effective: false,
        problem: None,
        other_system: false,
        deprecated: false,
        refused_value: false,
    };
    let known_key = validates_value(key);
    if !known_key {
        if key.to_ascii_lowercase().contains("image-policy") {
            marker.problem = Some(Problem::MisspelledKey);
        } else {
            marker.other_system = true;
        }
        return Some(marker);
    }
    let scalar_kind = tree.scalar_kind(value_node);
    marker.refused_value = tree.string(value_node).is_none();
    let problem = if key == LABEL_KEY && kind == MarkerKind::Annotation {
        Some(Problem::LabelKeyAsAnnotation)
    } else if key == LEGACY_ANNOTATION_KEY && kind == MarkerKind::Label {
        Some(Problem::LegacyKeyAsLabel)
    } else if let Some(place) = wrong_place {
        Some(Problem::NotOnPodTemplate {
            place: place.to_string(),
        })
    } else if lenient && key == LEGACY_ANNOTATION_KEY {
        // A2: presence alone, when the user asks for the lenient reading.
        None
    } else {
        match scalar_kind {
            Some(ScalarKind::Str) if value == "true" => None,
            Some(ScalarKind::Str) => Some(Problem::ValueNotTrue {
                value: value.clone(),
            }),
            Some(other) => Some(Problem::UnquotedScalar {
                value: value.clone(),
                kind: other,
            }),
            None => Some(Problem::ValueNotTrue {
                value: String::new(),
            }),
        }
    };
    marker.deprecated =
        key == LEGACY_ANNOTATION_KEY && kind == MarkerKind::Annotation && wrong_place.is_none();
    marker.effective = problem.is_none();
    marker.problem = problem;
    Some(marker)
}

/// The full `breakglass-ineffective` message: why, and how to fix.
/// `template_place` is where the label belongs ([`Workload::breakglass_place`]).
pub fn ineffective_message(marker: &Marker, template_place: &str) -> String {
    let key = &marker.key;
    let fix = format!("put `{LABEL_KEY}: \"true\"` under {template_place}");
    let refused = if marker.refused_value
        && !matches!(marker.problem, Some(Problem::UnquotedScalar { .. }))
    {
        format!(
            "; its value `{}` is not a string either, so the API server refuses the object: quote it",
            marker.value
        )
    } else {
        String::new()
    };
    let message = match &marker.problem {
        Some(Problem::NotOnPodTemplate { place }) => format!(
            "break-glass {} `{key}` is on {place}, which Kubernetes does not copy to the pods; Binary Authorization only honours it on the pod, so it overrides nothing: {fix}",
            marker.kind.as_str()
        ),
        Some(Problem::ValueNotTrue { value }) => format!(
            "break-glass {} `{key}` has the value \"{value}\"; only the exact string \"true\" requests break-glass, so it overrides nothing: use \"true\" or remove it",
            marker.kind.as_str()
        ),
        Some(Problem::UnquotedScalar { value, kind }) => format!(
            "break-glass {} `{key}` has the unquoted value `{value}`, which Kubernetes reads as {} and rejects ({} values must be strings): quote it as \"true\"",
            marker.kind.as_str(),
            kind.describe(),
            marker.kind.as_str()
        ),
        Some(Problem::LabelKeyAsAnnotation) => format!(
            "`{key}` is used as an annotation, but Binary Authorization reads this key as a pod label, so it overrides nothing: move it to the labels ({fix})"
        ),
        Some(Problem::LegacyKeyAsLabel) => format!(
            "the legacy break-glass key `{key}` is only honoured as an annotation, not as a label: {fix}"
        ),
        Some(Problem::MisspelledKey) => format!(
            "`{key}` is not a break-glass key Binary Authorization knows (did you mean `{LABEL_KEY}`?), so it overrides nothing: {fix}"
        ),
        None => String::new(),
    };
    message + &refused
}

#[cfg(test)]
mod tests {
    use super::looks_like_breakglass;

    #[test]
    fn breakglass_lookalikes_match_in_any_case_and_place() {
        let old = |key: &str| {
            let lower = key.to_ascii_lowercase();
            ["break-glass", "breakglass", "break_glass"]
                .iter()
                .any(|w| lower.contains(w))
        };
        for key in [
            "image-policy.k8s.io/break-glass",
            "alpha.image-policy.k8s.io/break-glass",
            "BREAK_GLASS",
            "x/BreakGlass-reason",
            "break glass",
            "break-",
            "glass",
            "breakbreak-glass",
            "brea-kglass",
            "",
            "run.googleapis.com/breakglass-justification",
        ] {
            assert_eq!(looks_like_breakglass(key), old(key), "{key}");
        }
    }
}
