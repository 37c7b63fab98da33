//! binauthz-lint: an offline linter for Google Cloud Binary Authorization.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]
pub mod attest;
