//! The physical floor for any scanner that keeps YAML positions: read every file and run
//! saphyr-parser's event stream over it, on all cores. Nothing else.
//!
//! `cargo run --release --example parse_floor -- DIR [JOBS]`

use rayon::prelude::*;
use saphyr_parser::Parser;
use std::path::PathBuf;

// The same allocator as the binary, so the ratio measures our work, not malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("DIR"));
    let jobs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("pool");
    let mut files = Vec::new();
    collect(&dir, &mut files);
    // Largest first, as the scanner schedules them, so both balance the cores the same way.
    let sizes: Vec<u64> = pool.install(|| {
        files
            .par_iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .collect()
    });
    let mut by_size: Vec<(u64, PathBuf)> = sizes.into_iter().zip(files).collect();
    by_size.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let files: Vec<PathBuf> = by_size.into_iter().map(|(_, p)| p).collect();
    let (events, bytes) = pool.install(|| {
        files
            .par_iter()
            .with_max_len(1)
            .map(|path| {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let mut n = 0u64;
                for event in Parser::new_from_str(&text) {
                    if event.is_err() {
                        break;
                    }
                    n += 1;
                }
                (n, text.len() as u64)
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!("{} files, {} bytes, {} events", files.len(), bytes, events);
}
