//! The integration test binary: the real server on port 0, driven over HTTP.

mod account;
mod account_rules;
mod account_security;
mod authz_matrix;
mod certify;
mod concurrency;
mod data_plane;
mod durability;
mod errors;
mod escalation;
mod explorer;
mod fuzz;
mod helpers;
mod layers;
mod names;
mod openapi;
mod paging;
mod proofs;
mod scim;
mod security;
mod sharing;
mod sharing_server;
mod storage;
mod tokens;
mod volumes;
mod warehouses;
