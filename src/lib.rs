//! tellonce: a GraphQL federation hub for government.
//!
//! Departments publish their own subgraphs; the hub composes them into one
//! supergraph, plans and executes federated operations, and adds capabilities
//! of its own (the audit ledger, tell-us-once, border coordination) through an
//! in-process hub subgraph. See `ARCHITECTURE.md` for the map.

pub mod auth;
pub mod border;
pub mod config;
pub mod demo;
pub mod error_code;
pub mod events;
pub mod gateway;
pub mod http;
pub mod hub;
pub mod idempotency;
pub mod in_flight;
pub mod ledger;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tellonce;
