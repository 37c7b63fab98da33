//! `--format json`: the contract's §2 report, pretty-printed, deterministic.
//!
//! The bytes are exactly `serde_json::to_writer_pretty(report)` plus a newline, but the big
//! arrays (workloads, findings) are serialised in parallel, chunk by chunk, and streamed:
//! on a 20,000-file repository rendering one 40 MB document on one thread was the largest
//! serial part of a scan (see benches/RESULTS.md).

use super::Report;
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Write};

/// Elements serialised per parallel task; bounds the memory held at once.
const CHUNK: usize = 2048;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Head<'a> {
    schema_version: u32,
    tool: &'a super::Tool,
    policy: &'a super::PolicyInfo,
    summary: &'a super::Summary,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let head = Head {
        schema_version: report.schema_version,
        tool: &report.tool,
        policy: &report.policy,
        summary: &report.summary,
    };
    let head = serde_json::to_vec_pretty(&head).map_err(io::Error::other)?;
    // `{ ... \n}` → drop the closing brace to continue the object.
    let open = head.strip_suffix(b"\n}").unwrap_or(&head);
    out.write_all(open)?;
    write_array(out, "workloads", &report.workloads)?;
    write_array(out, "findings", &report.findings)?;
    write_array(out, "skipped", &report.skipped)?;
    write_array(out, "auditEvents", &report.audit_events)?;
    if let Some(absent) = &report.absent {
        write_array(out, "absent", absent)?;
    }
    out.write_all(b"\n}\n")
}

/// `,\n  "name": [ ... ]` exactly as serde_json's pretty printer writes it at depth 1.
fn write_array<T: Serialize + Sync>(
    out: &mut dyn Write,
    name: &str,
    items: &[T],
) -> io::Result<()> {
    write!(out, ",\n  \"{name}\": ")?;
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (chunk_index, chunk) in items.chunks(CHUNK).enumerate() {
        let rendered: Vec<io::Result<Vec<u8>>> = chunk.par_iter().map(element).collect();
        for (i, bytes) in rendered.into_iter().enumerate() {
            if chunk_index > 0 || i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(&bytes?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// One element at depth 2: a newline, four spaces, and its pretty form as serde_json's
/// pretty printer writes it two levels down (written there directly, not re-indented).
fn element<T: Serialize>(item: &T) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(1024);
    bytes.extend_from_slice(b"\n    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, Nested::at(2));
    item.serialize(&mut serializer).map_err(io::Error::other)?;
    Ok(bytes)
}

/// `serde_json::ser::PrettyFormatter` (two-space indentation) starting `depth` levels deep.
struct Nested {
    current_indent: usize,
    has_value: bool,
}

impl Nested {
    fn at(depth: usize) -> Nested {
        Nested {
            current_indent: depth,
            has_value: false,
        }
    }

    fn newline_indent<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.current_indent {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Nested {
    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// `]` or `}`: on its own line when the collection was not empty.
    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            self.newline_indent(writer)?;
        }
        writer.write_all(bracket)
    }

    /// Before an item or a key: a comma after the first, then a new indented line.
    fn next_entry<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.newline_indent(writer)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next_entry(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next_entry(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::scan::{ScanSettings, scan_text};
    use crate::policy::Policy;

    #[test]
    fn identical_to_serde_json_pretty() {
        let settings = ScanSettings::default();
        let policy = Policy::builtin_default();
        let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {image-policy.k8s.io/break-glass: \"True\", a: \"x\\ny\"}}\nspec: {containers: [{name: c, image: \"c:1\"}, {name: d, image: 5}]}\n";
        for files in [0usize, 1, 3, CHUNK + 5] {
            let results = (0..files)
                .map(|i| scan_text(&format!("f{i}.yaml"), manifest, &settings, &policy))
                .collect();
            let report = crate::evaluate::run::assemble(results, &policy);
            let mut ours = Vec::new();
            render(&report, &mut ours).expect("render");
            let mut expected = serde_json::to_vec_pretty(&report).expect("serde");
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&expected),
                "{files} files"
            );
        }
    }
}
