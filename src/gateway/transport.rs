//! How the executor reaches a subgraph: over pooled HTTP for departments, or
//! in process for the hub's own subgraph. Both speak GraphQL-over-HTTP JSON.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

use crate::auth::Principal;

/// One request to a subgraph: the JSON body (`query`, `variables`,
/// `operationName`) already serialized, plus headers to forward.
#[derive(Debug, Clone)]
pub struct SubgraphRequest {
    pub body: Bytes,
    pub headers: Vec<(String, String)>,
    /// Who is asking, for in-process subgraphs (HTTP subgraphs learn it from
    /// the hub's identity token among the headers).
    pub principal: Option<Arc<Principal>>,
    /// Sent as `x-request-id`; informational, so not part of what makes two
    /// calls the same call.
    pub request_id: Option<Arc<str>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("subgraph {subgraph} is unavailable: {reason}")]
    Unavailable { subgraph: String, reason: String },
    #[error("subgraph {subgraph} did not answer within {millis} ms")]
    Timeout { subgraph: String, millis: u64 },
    #[error("subgraph {subgraph} answered HTTP {status}")]
    Status {
        subgraph: String,
        status: u16,
        body: Bytes,
    },
}

/// The responses of one subscription on a subgraph, each a GraphQL response
/// as JSON; the stream ends when the subgraph completes it.
pub type SubgraphEvents = BoxStream<'static, Result<Bytes, TransportError>>;

/// A way to send one GraphQL request to one subgraph and get its raw JSON back.
pub trait SubgraphTransport: Send + Sync {
    fn call(&self, request: SubgraphRequest) -> BoxFuture<'_, Result<Bytes, TransportError>>;

    /// Opens a subscription on the subgraph. A transport that cannot
    /// (the default) says so as `Unavailable`.
    fn subscribe(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'_, Result<SubgraphEvents, TransportError>> {
        let _ = request;
        Box::pin(async {
            Err(TransportError::Unavailable {
                subgraph: "this subgraph".into(),
                reason: "its transport does not open subscriptions".into(),
            })
        })
    }

    /// Runs in the hub's own process (reads `SubgraphRequest::principal`).
    fn in_process(&self) -> bool {
        false
    }
}
