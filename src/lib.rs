//! binauthz-lint: an offline linter for Google Cloud Binary Authorization.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod yaml;
pub mod decision;
pub mod policy;
pub mod rules;
