//! uc-emulator: a local emulator of Databricks Unity Catalog. See ARCHITECTURE.md.

pub mod api;
pub mod authz;
pub mod config;
pub mod delta;
pub mod domain;
pub mod error;
pub mod explain;
pub mod files;
pub mod fixtures;
pub mod healthcheck;
pub mod ops;
pub mod partner_connect;
pub mod s3;
pub mod store;
pub mod telemetry;
pub mod vended;
pub mod volume_files;
