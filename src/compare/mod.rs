//! Comparisons between two evaluations: fingerprint baselines (`baseline`), the base side
//! of PR mode (`prmode`) and the impact of a policy change (`policydiff`).

pub mod baseline;
pub mod policydiff;
pub mod prmode;
