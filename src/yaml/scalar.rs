//! YAML 1.1 plain-scalar resolution as Kubernetes' go-yaml v2 fork does it.
//!
//! No Rust parser resolves exactly like go-yaml v2 (`yes`/`on` are booleans, `0755` is octal),
//! so we keep raw text and resolve it here with a small table.

/// What a plain scalar means to Kubernetes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

impl ScalarKind {
    /// A short noun for messages ("an unquoted boolean").
    pub fn describe(self) -> &'static str {
        match self {
            ScalarKind::Null => "null",
            ScalarKind::Bool => "a boolean",
            ScalarKind::Int => "an integer",
            ScalarKind::Float => "a number",
            ScalarKind::Str => "a string",
        }
    }
}

/// Resolve an unquoted, untagged scalar.
/// For a plain scalar that only YAML 1.1 reads as a boolean (`yes`, `no`, `on`, `off`, `y`,
/// `n` in their spellings), how the result depends on the route: `kubectl apply -f` (go-yaml
/// v2, YAML 1.1) reads a boolean, `kubectl apply -k` (kustomize, go-yaml v3) a string.
/// Empty for every other scalar.
pub fn route_note(text: &str) -> &'static str {
    let yaml_1_2_bool = matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE");
    if resolve_plain(text) == ScalarKind::Bool && !yaml_1_2_bool {
        " (YAML 1.1, as `kubectl apply -f` reads it; `kubectl apply -k` renders it with kustomize, where it stays a string)"
    } else {
        ""
    }
}

pub fn resolve_plain(text: &str) -> ScalarKind {
    // Fast path: most scalars in manifests (names, images, keys) start with a letter that
    // no null, boolean or number starts with.
    match text.as_bytes().first() {
        None => return ScalarKind::Null,
        Some(
            b'0'..=b'9'
            | b'+'
            | b'-'
            | b'.'
            | b'~'
            | b'n'
            | b'N'
            | b'y'
            | b'Y'
            | b't'
            | b'T'
            | b'f'
            | b'F'
            | b'o'
            | b'O',
        ) => {}
        Some(_) => return ScalarKind::Str,
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return ScalarKind::Bool;
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float,
        _ => {}
    }
    if is_int(text) {
        ScalarKind::Int
    } else if is_float(text) {
        ScalarKind::Float
    } else {
        ScalarKind::Str
    }
}

fn strip_sign(text: &str) -> &str {
    text.strip_prefix(['+', '-']).unwrap_or(text)
}

fn all_digits(text: &str, radix: u32) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_digit(radix))
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (base prefixes, leading-zero octal), applied by
/// go-yaml v2 after removing underscores.
/// go-yaml v2 removes underscores before reading numbers; avoid the copy when there are none.
fn without_underscores(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('_') {
        std::borrow::Cow::Owned(text.replace('_', ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn is_int(text: &str) -> bool {
    let plain = without_underscores(text);
    let body = strip_sign(&plain);
    let prefix = |p: &str| {
        body.get(..2)
            .filter(|head| head.eq_ignore_ascii_case(p))
            .map(|_| &body[2..])
    };
    if let Some(hex) = prefix("0x") {
        return all_digits(hex, 16);
    }
    if let Some(oct) = prefix("0o") {
        return all_digits(oct, 8);
    }
    if let Some(bin) = prefix("0b") {
        return all_digits(bin, 2);
    }
    if body.len() > 1 && body.starts_with('0') {
        return all_digits(body, 8);
    }
    all_digits(body, 10)
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (after removing
/// underscores). `1.2.3` is therefore a string, and so is `0.28.0`.
fn is_float(text: &str) -> bool {
    let plain = without_underscores(text);
    let body = strip_sign(&plain);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        None => all_digits(mantissa, 10),
        Some(("", frac)) => all_digits(frac, 10),
        Some((int, frac)) => all_digits(int, 10) && (frac.is_empty() || all_digits(frac, 10)),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => all_digits(strip_sign(e), 10),
    };
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("true", ScalarKind::Bool),
            ("yes", ScalarKind::Bool),
            ("On", ScalarKind::Bool),
            ("y", ScalarKind::Bool),
            ("True", ScalarKind::Bool),
            ("tRUE", ScalarKind::Str),
            ("~", ScalarKind::Null),
            ("", ScalarKind::Null),
            ("123", ScalarKind::Int),
            ("0755", ScalarKind::Int),
            ("0x1F", ScalarKind::Int),
            ("1_000", ScalarKind::Int),
            ("190:20:30", ScalarKind::Str), // go-yaml v2 has no base-60 numbers
            ("0o17", ScalarKind::Int),
            ("1e3", ScalarKind::Float),
            ("0.28.0", ScalarKind::Str),
            ("1.5", ScalarKind::Float),
            ("1.0e+3", ScalarKind::Float),
            (".inf", ScalarKind::Float),
            ("nginx:1.25", ScalarKind::Str),
            ("gcr.io/p/app:1.0", ScalarKind::Str),
            ("1.2.3", ScalarKind::Str),
            ("v1", ScalarKind::Str),
            ("0789", ScalarKind::Float), // not octal, but the float pattern reads it
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
    }
}
