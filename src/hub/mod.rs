//! The hub subgraph: the hub's own capabilities as an async-graphql federation
//! subgraph, composed into the supergraph beside the departments and executed
//! in process (no HTTP hop). `schema/hub.graphql` is its exported SDL.

pub mod ledger;
mod status;
mod transport;

use std::sync::Arc;

use crate::ledger::Ledger;
use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, SDLExportOptions, Schema};

pub use status::GatewayStatus;
pub use transport::InProcessTransport;

/// The subgraph name the hub registers itself under.
pub const HUB_SUBGRAPH_NAME: &str = "hub";

/// The root query of the hub subgraph, merged from each capability's part.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct HubQuery(status::StatusQuery, ledger::LedgerQuery);

pub type HubSchema = Schema<HubQuery, EmptyMutation, EmptySubscription>;

/// What the hub subgraph's resolvers read.
#[derive(Clone)]
pub struct HubContext {
    pub gateway_status: Arc<dyn GatewayStatus>,
    pub ledger: Arc<Ledger>,
}

/// Builds the hub subgraph schema with its context.
pub fn build_schema(context: HubContext) -> HubSchema {
    Schema::build(HubQuery::default(), EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(context.gateway_status)
        .data(context.ledger)
        .finish()
}

/// The hub subgraph's SDL with federation directives, as composition needs it.
pub fn sdl() -> String {
    Schema::build(HubQuery::default(), EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation())
}
