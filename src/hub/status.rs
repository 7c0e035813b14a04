//! `hub { version supergraphHash subgraphs { … } }`: what the hub is serving
//! and how each subgraph answered its last call.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};

/// Health of one subgraph as the executor last saw it.
#[derive(Debug, Clone, SimpleObject)]
pub struct SubgraphStatus {
    pub name: String,
    pub url: String,
    /// False after a failed call, true again after a successful one.
    pub healthy: bool,
    pub last_error: Option<String>,
}

/// The live gateway as the hub subgraph sees it; implemented by the reloadable gateway.
pub trait GatewayStatus: Send + Sync {
    fn supergraph_hash(&self) -> String;
    fn subgraphs(&self) -> Vec<SubgraphStatus>;
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
    async fn subgraphs(&self) -> Vec<SubgraphStatus> {
        self.status.subgraphs()
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
