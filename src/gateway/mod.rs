//! The federation gateway: supergraph loading and composition, planning with
//! `hive-router-query-planner`, the plan cache, and execution of query plans
//! against department subgraphs and the in-process hub subgraph.

// Errors travel on the cold path; boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod authorize;
pub mod compose;
pub mod config;
pub mod context;
pub mod data;
pub mod executor;
#[allow(clippy::module_inception)]
pub mod gateway;
pub mod headers;
pub mod health;
pub mod http_transport;
pub mod introspection;
pub mod json_write;
pub mod limits;
pub mod mutation_audit;
pub mod operation;
pub mod outbound_dedup;
pub mod plan_cache;
pub mod prepare;
pub mod projection;
pub mod reload;
pub mod request;
pub mod response;
pub mod schema_index;
pub mod shape;
mod shared_subscription;
pub mod subscription;
pub mod supergraph;
pub mod text;
pub mod transport;
pub mod trusted_documents;
pub mod variables;
pub mod ws_transport;

pub use authorize::{Authorization, AuthorizationConfig, PolicyRule};
pub use config::{GatewayConfig, SubgraphConfig};
pub use context::RequestContext;
pub use gateway::{Gateway, GatewayError, GatewayOptions, Prepared};
pub use health::{SubgraphHealth, SubgraphStatus};
pub use http_transport::HttpTransport;
pub use limits::{LimitError, RequestLimits};
pub use mutation_audit::{AuditTicket, ForwardedMutation, MutationAudit, MutationOutcome};
pub use operation::OperationKind;
pub use request::GraphQLRequest;
pub use response::{GraphQLError, GraphQLResponse, Location, PathSegment, ResponseBody};
pub use subscription::ResponseStream;
pub use supergraph::{SubgraphInfo, Supergraph, SupergraphError};
pub use transport::{SubgraphEvents, SubgraphRequest, SubgraphTransport, TransportError};
