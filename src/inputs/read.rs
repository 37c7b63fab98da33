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
