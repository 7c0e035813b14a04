//! Inbound request deduplication: identical queries that arrive while one
//! of them is executing share that execution and its serialized answer.
//!
//! Only queries are shared, never mutations. Two requests are identical when
//! their bodies are byte-for-byte equal, they ask for the same response media
//! type with the same credentials (`Authorization`), and they run on the same
//! gateway: no client receives an answer computed for someone else, and a
//! request that arrives after a reload never joins one on the old supergraph.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::StatusCode;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};

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

type InFlight = Shared<BoxFuture<'static, Arc<SharedReply>>>;

/// The executions in flight, by request.
#[derive(Default)]
pub struct InboundDedup {
    in_flight: Mutex<HashMap<DedupKey, InFlight>>,
}

impl InboundDedup {
    /// Runs `execute` for `key`, or joins the run already in flight for it.
    pub async fn run<F>(&self, key: DedupKey, execute: F) -> Arc<SharedReply>
    where
        F: Future<Output = SharedReply> + Send + 'static,
    {
        let shared = {
            let mut in_flight = self.lock();
            in_flight
                .entry(key.clone())
                .or_insert_with(|| execute.map(Arc::new).boxed().shared())
                .clone()
        };
        // Whoever leaves first, finished or cancelled, retires the entry, so
        // later arrivals execute afresh and nothing outlives its request.
        let _retire = Retire {
            dedup: self,
            key,
            shared: shared.clone(),
        };
        shared.await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DedupKey, InFlight>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes an in-flight entry when one of its requests leaves.
struct Retire<'a> {
    dedup: &'a InboundDedup,
    key: DedupKey,
    shared: InFlight,
}

impl Drop for Retire<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.dedup.lock();
        if in_flight
            .get(&self.key)
            .is_some_and(|running| running.ptr_eq(&self.shared))
        {
            in_flight.remove(&self.key);
        }
    }
}
