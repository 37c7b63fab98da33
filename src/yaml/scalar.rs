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
pub fn resolve_plain(text: &str) -> ScalarKind {
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

fn is_int(text: &str) -> bool {
    let body = strip_sign(text);
    if body.is_empty() {
        return false;
    }
    if let Some(bin) = body.strip_prefix("0b") {
        return !bin.is_empty() && bin.chars().all(|c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    if body.len() > 1 && body.starts_with('0') {
        return body.chars().all(|c| matches!(c, '0'..='7' | '_'));
    }
    if body.contains(':') {
        // Sexagesimal (base 60) integers: 190:20:30.
        let mut parts = body.split(':');
        let first_ok = parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit() || c == '_'));
        return first_ok
            && parts
                .all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()));
    }
    body.starts_with(|c: char| c.is_ascii_digit())
        && body.chars().all(|c| c.is_ascii_digit() || c == '_')
}

fn is_float(text: &str) -> bool {
    let body = strip_sign(text);
    // [0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let Some(dot) = mantissa.find('.') else {
        return false;
    };
    let (int_part, frac_part) = (&mantissa[..dot], &mantissa[dot + 1..]);
    if int_part.is_empty() && frac_part.is_empty() {
        return false;
    }
    let int_ok = int_part.chars().all(|c| c.is_ascii_digit() || c == '_')
        && (int_part.is_empty() || int_part.starts_with(|c: char| c.is_ascii_digit()));
    let frac_ok = frac_part
        .chars()
        .all(|c| c.is_ascii_digit() || c == '_' || c == '.');
    let exp_ok = match exponent {
        None => true,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']);
            digits.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
        }
    };
    int_ok && frac_ok && exp_ok
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
            ("190:20:30", ScalarKind::Int),
            ("1.5", ScalarKind::Float),
            ("1.0e+3", ScalarKind::Float),
            (".inf", ScalarKind::Float),
            ("nginx:1.25", ScalarKind::Str),
            ("gcr.io/p/app:1.0", ScalarKind::Str),
            ("1.2.3", ScalarKind::Float), // go-yaml v2's float regexp accepts repeated dots
            ("v1", ScalarKind::Str),
            ("0789", ScalarKind::Str),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
    }
}
