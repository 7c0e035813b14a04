//! Inbound request deduplication: identical queries that arrive while one
//! of them is executing share that execution and its serialized answer.
//!
//! Only queries are shared, never mutations. Two requests are identical when
//! their bodies are byte-for-byte equal, they ask for the same response media
//! type as the same principal with the same forwarded headers, and they run on the same
//! gateway: no client receives an answer computed for someone else, and a
//! request that arrives after a reload never joins one on the old supergraph.
//!
//! A shared execution runs as a task of the hub's main runtime rather than
//! on the HTTP worker that started it: when it finishes, that worker has
//! many waiting clients to write its answer to, and the next execution
//! (started by the first client to ask again) would otherwise queue behind
//! all of those writes.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::StatusCode;
use bytes::Bytes;

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
    /// The principal the request runs as (not its credential text: two
    /// requests of one principal share, two principals never do).
    pub principal: String,
    /// The client headers that rules forward to subgraphs.
    pub forwarded: Vec<(String, String)>,
}

/// The executions in flight, by request.
pub struct InboundDedup {
    executions: InFlight<DedupKey, Option<Arc<SharedReply>>>,
    runtime: tokio::runtime::Handle,
}

impl InboundDedup {
    /// Shared executions run as tasks of `runtime`.
    pub fn on_runtime(runtime: tokio::runtime::Handle) -> Self {
        InboundDedup {
            executions: InFlight::counted_as(crate::telemetry::measure::Dedup::Inbound),
            runtime,
        }
    }

    /// Runs `execute` for `key`, or joins the run already in flight for it.
    /// `None` when the run's task ended without an answer (the hub is
    /// shutting down, or the execution panicked).
    pub async fn run<F>(&self, key: DedupKey, execute: F) -> Option<Arc<SharedReply>>
    where
        F: Future<Output = SharedReply> + Send + 'static,
    {
        let runtime = self.runtime.clone();
        // Logged in the span of the request that leads the run.
        let span = tracing::Span::current();
        // Spawned on first poll: a request that joins a run in flight drops
        // this future unpolled.
        let task = async move {
            runtime
                .spawn(tracing::Instrument::instrument(execute, span))
                .await
                .ok()
                .map(Arc::new)
        };
        self.executions.run(key, task).await
    }
}
