//! Pure checks of the policy loader: value descriptions, name and key formats, placeholders
//! and "did you mean" suggestions.

use crate::yaml::{NodeId, ScalarKind, Span, Style, Tree};

/// How a node reads to a user: "a string", "an integer", "a list", ...
pub(crate) fn describe(tree: &Tree, node: NodeId) -> &'static str {
    if tree.seq(node).is_some() {
        return "a list";
    }
    if tree.map(node).is_some() {
        return "a mapping";
    }
    if is_plain_timestamp(tree, node) {
        return "a timestamp (quote it)";
    }
    tree.scalar_kind(node)
        .map_or("a value", ScalarKind::describe)
}

/// gcloud's YAML 1.1 loader turns an unquoted `2024-05-12...` into a date, which its JSON
/// step cannot serialise; our scalar table has no timestamp kind, so check here.
pub(super) fn is_plain_timestamp(tree: &Tree, node: NodeId) -> bool {
    let Some((text, Style::Plain, None)) = tree.scalar_full(node) else {
        return false;
    };
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|s| !s.is_empty() && s.iter().all(u8::is_ascii_digit))
    };
    digits(0..4) && b.get(4) == Some(&b'-') && digits(5..6)
}

/// True for a scalar that gcloud reads as a string.
pub(in crate::policy) fn is_string(tree: &Tree, node: NodeId) -> bool {
    tree.string(node).is_some() && !is_plain_timestamp(tree, node)
}

/// A span that is never empty when a better one exists: null values have zero width, so
/// point at their key instead.
pub(in crate::policy) fn value_or_key(tree: &Tree, key: Span, value: NodeId) -> Span {
    let span = tree.span(value);
    if span.start == span.end || tree.is_null(value) {
        key
    } else {
        span
    }
}

/// `projects/PROJECT/policy` → `PROJECT` (the resource name `policy export` prints).
pub(super) fn project_of_name(name: &str) -> Option<String> {
    let project = name.strip_prefix("projects/")?.strip_suffix("/policy")?;
    (!project.is_empty() && !project.contains('/')).then(|| project.to_string())
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let left = row.get(j).copied().unwrap_or(0);
            let up = row.get(j + 1).copied().unwrap_or(0);
            let best = (prev + cost).min(left + 1).min(up + 1);
            prev = up;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The closest known name, when it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 4).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Find an unresolved template placeholder: `${VAR}`, `$VAR`, `<...>`, `YOUR_...`, or an
/// all-caps `PROJECT_ID`-style token (real project ids, cluster names and attestor names
/// are lower-case).
pub(crate) fn placeholder(text: &str) -> Option<&str> {
    if let Some(rest) = text.find('$').and_then(|start| text.get(start..)) {
        if rest.starts_with("${") {
            let end = rest.find('}').map_or(rest.len(), |e| e + 1);
            return rest.get(..end);
        }
        let after = rest.get(1..).unwrap_or("");
        let name_len = after
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return rest.get(..=name_len);
        }
    }
    if let (Some(open), Some(close)) = (text.find('<'), text.rfind('>'))
        && open < close
    {
        return text.get(open..=close);
    }
    // `project-id-here`, `my-project-id`: template text, not a real id.
    if let Some(segment) = text.split(['/', '.', ':', '@']).find(|s| {
        s.to_ascii_lowercase()
            .replace('_', "-")
            .contains("project-id")
    }) {
        return Some(segment);
    }
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|token| {
            token.contains("YOUR_")
                || token.starts_with("YOUR")
                || (token.contains('_')
                    && token.chars().any(|c| c.is_ascii_uppercase())
                    && !token.chars().any(|c| c.is_ascii_lowercase()))
        })
        .filter(|t| !t.is_empty())
}

/// Why an attestor name is not `projects/PROJECT/attestors/NAME`.
pub(super) fn attestor_name_problem(name: &str) -> Option<&'static str> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "attestors", attestor] => {
            if project.is_empty() {
                Some("the project is empty")
            } else if attestor.is_empty() {
                Some("the attestor name is empty")
            } else if name.contains(char::is_whitespace) {
                Some("it contains whitespace")
            } else {
                None
            }
        }
        _ => Some("expected `projects/PROJECT/attestors/NAME`"),
    }
}

/// Why a cluster key is not `LOCATION.NAME`.
pub(super) fn cluster_key_problem(key: &str) -> Option<&'static str> {
    if key.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') {
        return Some("it contains whitespace, `/` or `:`");
    }
    match key.split_once('.') {
        None => Some("there is no `.` between location and name"),
        Some(("", _)) => Some("the location is empty"),
        Some((_, "")) => Some("the cluster name is empty"),
        Some((_, name)) if name.contains('.') => {
            Some("there is more than one `.`; neither locations nor cluster names contain one")
        }
        Some(_) => None,
    }
}

/// Why a service-account key is not `NAMESPACE:NAME`.
pub(in crate::policy) fn service_account_key_problem(key: &str) -> Option<&'static str> {
    if key.contains(|c: char| c.is_whitespace() || c == '/') {
        return Some("it contains whitespace or `/`");
    }
    match key.split_once(':') {
        None => Some("there is no `:` between namespace and service account"),
        Some(("", _)) => Some("the namespace is empty"),
        Some((_, "")) => Some("the service account is empty"),
        Some((_, sa)) if sa.contains(':') => Some("there is more than one `:`"),
        Some(_) => None,
    }
}

/// A Kubernetes namespace name (DNS-1123 label), spec A17.
pub(in crate::policy) fn is_dns_label(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load::{EVALUATION_MODES, TOP_KEYS};

    #[test]
    fn placeholders() {
        assert_eq!(
            placeholder("projects/${PROJECT}/attestors/a"),
            Some("${PROJECT}")
        );
        assert_eq!(placeholder("gcr.io/$PROJECT_ID/x*"), Some("$PROJECT_ID"));
        assert_eq!(placeholder("gcr.io/<project>/x*"), Some("<project>"));
        assert_eq!(
            placeholder("projects/YOUR_PROJECT_ID/attestors/a"),
            Some("YOUR_PROJECT_ID")
        );
        assert_eq!(
            placeholder("projects/PROJECT_ID/attestors/a"),
            Some("PROJECT_ID")
        );
        assert_eq!(
            placeholder("projects/_PROJECT_ID_/attestors/a"),
            Some("_PROJECT_ID_")
        );
        assert_eq!(placeholder("gcr.io/my-project/nginx*"), None);
        assert_eq!(placeholder("gcr.io/PROJ/nginx*"), None);
        assert_eq!(placeholder("us-central1-a.prod"), None);
        assert_eq!(placeholder("costs $5"), None);
        assert_eq!(
            placeholder("us-central1-docker.pkg.dev/project-id-here/**"),
            Some("project-id-here")
        );
    }

    #[test]
    fn key_formats() {
        assert!(cluster_key_problem("us-central1-a.prod").is_none());
        assert!(cluster_key_problem("${ZONE}.${CLUSTER}").is_none());
        assert!(cluster_key_problem("staging-cluster").is_some());
        assert!(cluster_key_problem(".x").is_some());
        assert!(cluster_key_problem("a.b.c").is_some());
        assert!(service_account_key_problem("prod:deployer").is_none());
        assert!(service_account_key_problem("prod/deployer").is_some());
        assert!(service_account_key_problem(":x").is_some());
        assert!(attestor_name_problem("projects/p/attestors/a").is_none());
        assert!(attestor_name_problem("projects//attestors/a").is_some());
        assert!(attestor_name_problem("attestors/a").is_some());
        assert!(is_dns_label("kube-system"));
        assert!(!is_dns_label("Prod"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("admissionAllowlistPatterns", TOP_KEYS.iter().copied()),
            Some("admissionWhitelistPatterns")
        );
        assert_eq!(
            suggest(
                "REQUIRE_ATTESTATIONS",
                EVALUATION_MODES.iter().map(|(n, _)| *n)
            ),
            Some("REQUIRE_ATTESTATION")
        );
        assert_eq!(
            suggest("always_deny", EVALUATION_MODES.iter().map(|(n, _)| *n)),
            Some("ALWAYS_DENY")
        );
        assert_eq!(suggest("zzz", TOP_KEYS.iter().copied()), None);
    }
}
