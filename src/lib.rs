//! binauthz-lint: an offline linter for Google Cloud Binary Authorization.
//!
//! The library holds all logic; the binary (`src/main.rs`) only parses arguments, calls one
//! entry point of `app` per command, writes outputs and maps the result to an exit code.
//! The folders follow the pipeline (see `docs/architecture.md`):
//!
//! `inputs` (walk, read, git trees, rendering) → `settings` (config, contexts, exceptions)
//! → `yaml` (kubectl-exact parse with spans) → `extract` (objects → workloads) →
//! `evaluate` (per-file scan under `policy` and `attest`) → `compare` (baseline, PR mode,
//! policy diff) → `report` (model and renderers); `rules` is the registry of finding ids.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod app;
pub mod attest;
pub mod compare;
pub mod evaluate;
pub mod extract;
pub mod inputs;
pub mod policy;
pub mod report;
pub mod rules;
pub mod settings;
pub mod suites;
pub mod yaml;

// Stable paths of the public API that predate the folders (tests, benches, fuzz targets
// and downstream users import them).
pub use evaluate::{run, scan};
pub use inputs::discover;
pub use policy::decision;
pub use settings::scope;
