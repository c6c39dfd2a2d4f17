//! `nfsha lint`: find the HA-NFS mistakes in a cluster configuration.
//!
//! Inputs are parsed into one [`Model`](crate::model::Model); each rule (one
//! file each under [`rules`], registered in one list there) reads the model
//! through a [`Ctx`] that also carries the start order (computed once by
//! [`crate::start_order`]), the placement of resources and the effective NFS
//! settings. Findings are filtered by the suppression [`Config`] and inline
//! `nfsha: ignore[CODE]` comments, then printed as human text (rustc/ruff
//! style), JSON or SARIF.

pub mod agent_check;
pub mod config;
pub mod ctx;
pub mod fix;
pub mod inputs;
pub mod nfs_utils;
pub mod order_cmd;
pub mod output;
pub mod placement;
pub mod rule;
pub mod rules;
pub mod run;

pub use config::Config;
pub use ctx::Ctx;
pub use inputs::{read_inputs, Inputs};
pub use rule::{Finding, Rule, Severity};
pub use run::{lint_inputs, lint_model, run, Format, LintArgs};
