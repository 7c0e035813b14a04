//! Outbound request deduplication: while a query's subgraph request is in
//! flight, an identical request to the same subgraph joins it and receives
//! the same answer, so a burst of equal client queries costs each subgraph
//! one call per distinct request instead of one per client.
//!
//! Only queries are shared (the executor asks for sharing only when the
//! operation is a query), never mutations. Two requests are identical when
//! they go through the same transport (so the same subgraph of the same
//! supergraph) with byte-for-byte equal bodies and equal forwarded headers:
//! an answer computed with one client's credentials never reaches another.
//! Nothing is cached: a request arriving after the answer calls afresh.

use std::sync::Arc;

use bytes::Bytes;

use super::transport::{SubgraphRequest, SubgraphTransport, TransportError};
use crate::in_flight::InFlight;

/// What makes two subgraph requests the same request.
#[derive(Clone, PartialEq, Eq, Hash)]
struct OutboundKey {
    /// The transport's address: unique while a call through it is in
    /// flight, since the call holds the transport.
    transport: usize,
    body: Bytes,
    headers: Vec<(String, String)>,
    /// The principal an in-process subgraph answers for.
    principal: Option<String>,
}

/// The subgraph calls in flight, by request; `A` is what a call's raw
/// answer is turned into (the executor's parsed response).
pub struct OutboundDedup<A> {
    calls: InFlight<OutboundKey, A>,
}

impl<A> Default for OutboundDedup<A> {
    fn default() -> Self {
        OutboundDedup {
            calls: InFlight::counted_as(crate::telemetry::measure::Dedup::Outbound),
        }
    }
}

impl<A: Clone + Send + Sync + 'static> OutboundDedup<A> {
    /// Sends `request` through `transport` and turns the raw answer into an
    /// `A` with `answer`, or joins the identical call in flight and receives
    /// a clone of its `A`: the sharers share the parsing too.
    pub async fn call<F>(
        &self,
        transport: &Arc<dyn SubgraphTransport>,
        request: SubgraphRequest,
        answer: F,
    ) -> A
    where
        F: FnOnce(Result<Bytes, TransportError>) -> A + Send + 'static,
    {
        let key = OutboundKey {
            transport: Arc::as_ptr(transport) as *const () as usize,
            body: request.body.clone(),
            headers: request.headers.clone(),
            principal: request.principal.as_ref().map(|p| p.id.clone()),
        };
        let transport = transport.clone();
        self.calls
            .run(key, async move { answer(transport.call(request).await) })
            .await
    }
}
