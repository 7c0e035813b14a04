//! `hub { version supergraphHash subgraphs { … } }`: what the hub is serving
//! and how each subgraph answered its last call.

use std::sync::Arc;

use async_graphql::{Context, Object};

use crate::gateway::reload::LiveGateway;
pub use crate::gateway::SubgraphStatus;

/// The live gateway as the hub subgraph sees it.
pub trait GatewayStatus: Send + Sync {
    fn supergraph_hash(&self) -> String;
    fn subgraphs(&self) -> Vec<SubgraphStatus>;
}

impl GatewayStatus for LiveGateway {
    fn supergraph_hash(&self) -> String {
        self.current()
            .map(|gateway| gateway.supergraph().hash().to_owned())
            .unwrap_or_default()
    }

    fn subgraphs(&self) -> Vec<SubgraphStatus> {
        self.current()
            .map(|gateway| gateway.subgraph_health())
            .unwrap_or_default()
    }
}

/// Health of one subgraph as the executor last saw it.
pub struct SubgraphHealthObject(SubgraphStatus);

#[Object(name = "SubgraphStatus")]
impl SubgraphHealthObject {
    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    /// False after a failed call, true again after a successful one.
    async fn healthy(&self) -> bool {
        self.0.healthy
    }

    /// The last failure, if the subgraph has failed since the hub started.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
}

#[derive(Default)]
pub struct StatusQuery;

/// The running hub.
pub struct HubInfo {
    status: Arc<dyn GatewayStatus>,
}

#[Object]
impl HubInfo {
    /// The tellonce version serving this request.
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Hex SHA-256 of the supergraph SDL in force.
    async fn supergraph_hash(&self) -> String {
        self.status.supergraph_hash()
    }

    /// Every subgraph in the supergraph, with its health.
    async fn subgraphs(&self) -> Vec<SubgraphHealthObject> {
        self.status
            .subgraphs()
            .into_iter()
            .map(SubgraphHealthObject)
            .collect()
    }
}

#[Object]
impl StatusQuery {
    /// The hub itself: version, supergraph and subgraph health.
    async fn hub(&self, ctx: &Context<'_>) -> async_graphql::Result<HubInfo> {
        let status = ctx.data::<Arc<dyn GatewayStatus>>()?.clone();
        Ok(HubInfo { status })
    }
}
