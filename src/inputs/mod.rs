//! Inputs: what the scan reads. The file walk and classification (`discover`), reading a
//! file as kubectl would (`read`), trees at a git revision (`git`), and rendering of
//! Kustomize roots and Helm charts (`render`), Terraform configuration and plans
//! (`terraform`).

pub mod discover;
pub mod git;
pub mod read;
pub mod render;
pub mod terraform;
