//! Reading a candidate file: size limit, binary and encoding checks, as text.

use std::io::Read;
use std::path::Path;

/// Read one candidate file, or say why it is skipped.
pub fn read_file(path: &Path, max_size: u64) -> Result<String, &'static str> {
    let file = std::fs::File::open(path).map_err(|_| "unreadable")?;
    let meta = file.metadata().map_err(|_| "unreadable")?;
    if !meta.is_file() {
        return Err("not-a-regular-file");
    }
    if meta.len() > max_size {
        return Err("too-large");
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` guards against a file that grows while we read it.
    file.take(max_size + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| "unreadable")?;
    if bytes.len() as u64 > max_size {
        return Err("too-large");
    }
    decode_text(bytes)
}

/// Bytes → text, or the reason it is not a text manifest.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, &'static str> {
    if bytes.contains(&0) {
        return Err("binary");
    }
    String::from_utf8(bytes).map_err(|_| "not-utf8")
}

/// Where text stops being UTF-8: the first invalid byte, as a 0-based byte offset and the
/// 1-based line and column (in code points) it would have, and what YAML readers call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotUtf8 {
    pub byte: usize,
    pub line: u32,
    pub column: u32,
    /// The text of that line up to the invalid byte (for the snippet).
    pub line_text: String,
    /// go-yaml's words for it (kubectl and kustomize read manifests with it):
    /// `invalid leading UTF-8 octet`, `invalid trailing UTF-8 octet` or `incomplete UTF-8
    /// octet sequence`.
    pub problem: &'static str,
}

/// The first invalid UTF-8 sequence of `bytes`, or `None` when they are UTF-8.
pub fn find_not_utf8(bytes: &[u8]) -> Option<NotUtf8> {
    let error = std::str::from_utf8(bytes).err()?;
    let byte = error.valid_up_to();
    // The prefix is valid by definition of `valid_up_to`.
    let prefix = std::str::from_utf8(bytes.get(..byte)?).ok()?;
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    let line_text = prefix[line_start..].trim_end_matches('\r').to_string();
    let line = prefix.matches('\n').count() as u32 + 1;
    let column = prefix[line_start..].chars().count() as u32 + 1;
    let problem = match (error.error_len(), bytes.get(byte)) {
        (None, _) => "incomplete UTF-8 octet sequence",
        // A continuation byte, an overlong or out-of-range lead cannot start a character.
        (_, Some(b)) if (0x80..0xC2).contains(b) || *b >= 0xF5 => "invalid leading UTF-8 octet",
        _ => "invalid trailing UTF-8 octet",
    };
    Some(NotUtf8 {
        byte,
        line,
        column,
        line_text,
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_invalid_byte_is_located_by_line_and_column() {
        let at = find_not_utf8(b"a: 1\nb: \"caf\xff\"\n").expect("invalid");
        assert_eq!((at.byte, at.line, at.column), (12, 2, 8));
        assert_eq!(at.line_text, "b: \"caf");
        assert_eq!(at.problem, "invalid leading UTF-8 octet");
        // Columns count code points: `é` before the bad byte is one column.
        let at = find_not_utf8("é: x\u{0}".as_bytes());
        assert!(at.is_none(), "NUL is UTF-8");
        let at = find_not_utf8(b"\xc3\xa9\xc3(").expect("invalid");
        assert_eq!((at.line, at.column), (1, 2));
        assert_eq!(at.problem, "invalid trailing UTF-8 octet");
        let at = find_not_utf8(b"ab\xe2\x82").expect("invalid");
        assert_eq!(at.problem, "incomplete UTF-8 octet sequence");
        assert!(find_not_utf8("ok: ✓\n".as_bytes()).is_none());
    }
}
