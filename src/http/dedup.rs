//! Inbound request deduplication: identical queries that arrive while one
//! of them is executing share that execution and its serialized answer.
//!
//! Only queries are shared, never mutations. Two requests are identical when
//! their bodies are byte-for-byte equal and they ask for the same response
//! media type with the same credentials (`Authorization`), so no client ever
//! receives an answer computed for someone else.

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
        let (shared, leader) = {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match in_flight.get(&key) {
                Some(running) => (running.clone(), false),
                None => {
                    let running = execute.map(Arc::new).boxed().shared();
                    in_flight.insert(key.clone(), running.clone());
                    (running, true)
                }
            }
        };
        let reply = shared.await;
        if leader {
            // Later arrivals execute afresh: sharing is only among requests in flight together.
            self.in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
        reply
    }
}
