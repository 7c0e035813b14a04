//! The federation gateway: supergraph loading and composition, planning with
//! `hive-router-query-planner`, the plan cache, and execution of query plans
//! against department subgraphs and the in-process hub subgraph.

pub mod compose;
pub mod reload;
pub mod request;
pub mod response;
pub mod transport;

pub use request::GraphQLRequest;
pub use response::{GraphQLError, GraphQLResponse, PathSegment};
pub use transport::{SubgraphRequest, SubgraphTransport, TransportError};
