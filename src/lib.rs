//! binauthz-lint: an offline linter for Google Cloud Binary Authorization.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod attest;
pub mod audit;
pub mod baseline;
pub mod breakglass;
pub mod config;
pub mod decision;
pub mod discover;
pub mod exceptions;
pub mod git;
pub mod k8s;
pub mod policy;
pub mod prmode;
pub mod render;
pub mod report;
pub mod rules;
pub mod run;
pub mod scan;
pub mod scope;
pub mod yaml;
