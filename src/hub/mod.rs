//! The hub subgraph: the hub's own capabilities as an async-graphql federation
//! subgraph, composed into the supergraph beside the departments and executed
//! in process (no HTTP hop). `schema/hub.graphql` is its exported SDL.

pub mod ledger;
mod status;
pub mod tellonce;
mod transport;

use std::sync::Arc;

use crate::ledger::Ledger;
use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema};

pub use status::GatewayStatus;
pub use transport::InProcessTransport;

/// The subgraph name the hub registers itself under.
pub const HUB_SUBGRAPH_NAME: &str = "hub";

/// The root query of the hub subgraph, merged from each capability's part.
/// Named `Query` in the SDL: composition finds root types by name.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct HubQuery(
    status::StatusQuery,
    ledger::LedgerQuery,
    tellonce::TellOnceQuery,
);

/// The root mutation of the hub subgraph, merged from each capability's part.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct HubMutation(tellonce::TellOnceMutation);

pub type HubSchema = Schema<HubQuery, HubMutation, EmptySubscription>;

/// What the hub subgraph's resolvers read.
#[derive(Clone)]
pub struct HubContext {
    pub gateway_status: Arc<dyn GatewayStatus>,
    pub ledger: Arc<Ledger>,
    /// Tell us once (absent: its fields answer that it is not served).
    pub tellonce: Option<Arc<crate::tellonce::TellOnce>>,
}

/// Builds the hub subgraph schema with its context.
pub fn build_schema(context: HubContext) -> HubSchema {
    let mut builder = Schema::build(
        HubQuery::default(),
        HubMutation::default(),
        EmptySubscription,
    )
    .enable_federation()
    .data(context.gateway_status)
    .data(context.ledger);
    if let Some(tellonce) = context.tellonce {
        builder = builder.data(tellonce);
    }
    builder.finish()
}

/// The hub subgraph's SDL with federation directives, as composition needs it.
pub fn sdl() -> String {
    Schema::build(
        HubQuery::default(),
        HubMutation::default(),
        EmptySubscription,
    )
    .enable_federation()
    .finish()
    .sdl_with_options(SDLExportOptions::new().federation())
}
