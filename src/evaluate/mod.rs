//! Evaluation: the per-file work (`scan`: extract workloads, decide every image under the
//! policy, place break-glass markers) and the parallel driver that runs it over every
//! candidate and assembles the report (`run`).

pub mod breakglass;
pub mod run;
pub mod scan;
