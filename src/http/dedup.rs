//! Inbound request deduplication: identical queries that arrive while one
//! of them is executing share that execution and its serialized answer.
//!
//! Only queries are shared, never mutations. Two requests are identical when
//! their bodies are byte-for-byte equal, they ask for the same response media
//! type with the same credentials (`Authorization`), and they run on the same
//! gateway: no client receives an answer computed for someone else, and a
//! request that arrives after a reload never joins one on the old supergraph.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::StatusCode;
use bytes::Bytes;
use futures::FutureExt;

use crate::in_flight::InFlight;

/// A finished answer, ready to be written to every waiting client.
#[derive(Debug)]
pub struct SharedReply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// What makes two requests the same request.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    /// The address of the `Arc<Gateway>` serving the request: unique while the
    /// execution in flight holds that `Arc`, which outlives the key's entry.
    pub gateway: usize,
    pub body: Bytes,
    pub content_type: &'static str,
    pub authorization: Option<Bytes>,
}

/// The executions in flight, by request.
#[derive(Default)]
pub struct InboundDedup {
    executions: InFlight<DedupKey, Arc<SharedReply>>,
}

impl InboundDedup {
    /// Runs `execute` for `key`, or joins the run already in flight for it.
    pub async fn run<F>(&self, key: DedupKey, execute: F) -> Arc<SharedReply>
    where
        F: Future<Output = SharedReply> + Send + 'static,
    {
        self.executions.run(key, execute.map(Arc::new)).await
    }
}
