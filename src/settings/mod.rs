//! Settings: how each file is evaluated. The configuration file (`config`), the per-path
//! scopes it defines (`scope`: cluster, namespace, policy of each context) and the approved
//! exceptions matched against findings (`exceptions`).

pub mod config;
pub mod exceptions;
pub mod scope;
