//! The one value that travels with a request from HTTP to every subgraph
//! call: who is asking, what they sent, the limits in force, and an id to
//! find the request by in logs.

use std::sync::Arc;

use super::limits::RequestLimits;
use crate::auth::Principal;

/// A request's context. Cheap to clone (the parts are shared).
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Unique per request (UUID v7, so ids sort by time); logged with every
    /// line of the request and sent to subgraphs as `x-request-id`.
    pub request_id: Arc<str>,
    pub principal: Arc<Principal>,
    /// The client's request headers that some header rule propagates, names
    /// in lower case; the rules decide which reach which subgraph.
    pub client_headers: Arc<[(String, String)]>,
    pub limits: Arc<RequestLimits>,
    /// Headers the caller adds to every subgraph call (e.g. delivery's
    /// `Idempotency-Key`), after the rules.
    pub extra_headers: Vec<(String, String)>,
    /// A trusted internal caller (the hub's own delivery): its operations are
    /// validated against the whole supergraph, `@inaccessible` fields included.
    pub internal: bool,
}

impl RequestContext {
    /// A context for `principal` with a fresh request id.
    pub fn new(principal: Arc<Principal>, limits: Arc<RequestLimits>) -> RequestContext {
        RequestContext {
            request_id: Arc::from(uuid::Uuid::now_v7().to_string()),
            principal,
            client_headers: Arc::from(Vec::new()),
            limits,
            extra_headers: Vec::new(),
            internal: false,
        }
    }

    /// An anonymous request under the default limits (library callers, tests).
    pub fn anonymous() -> RequestContext {
        RequestContext::new(
            Arc::new(Principal::anonymous()),
            Arc::new(RequestLimits::default()),
        )
    }

    /// The hub's own delivery: the hub principal, no limits, internal fields
    /// reachable.
    pub fn hub_delivery(extra_headers: Vec<(String, String)>) -> RequestContext {
        RequestContext {
            extra_headers,
            internal: true,
            ..RequestContext::new(
                Arc::new(Principal::hub()),
                Arc::new(RequestLimits::unlimited()),
            )
        }
    }
}
