//! Rendering: what the cluster will actually receive (contract §9).

pub mod helm;
