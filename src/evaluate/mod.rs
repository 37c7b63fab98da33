//! Evaluation: the per-file work (`scan`: parse and extract; `workload`: decide every image
//! under the policy, place break-glass markers; both under one `context::FileContext`) and the parallel driver that runs it over every
//! candidate and assembles the report (`run`).

pub mod breakglass;
pub mod cloudrun;
pub mod context;
mod cv;
pub mod file;
pub mod run;
pub mod scan;
pub mod workload;
