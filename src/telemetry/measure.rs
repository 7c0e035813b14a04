//! Every metric the hub records as things happen, by name, with its labels.
//! Gauges that are cheaper to read than to track (outbox depth, ledger
//! size, cache sizes) are read at scrape time instead (see `exporter`).
//!
//! The metrics of every request and subgraph call are registered once
//! ([`register`], [`SubgraphMeter`]) and recorded through their handles: an
//! atomic add, where building a metric's key and finding it in the
//! registry on every call cost 3 % of the deep query's throughput.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram, Counter, Histogram};

use crate::gateway::OperationKind;

/// What became of a client request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Data and no errors.
    Ok,
    /// Executed, with errors beside the data.
    Errors,
    /// Refused before execution (parse, validation, limits, authorization).
    Refused,
    /// Over the request timeout.
    Timeout,
}

impl RequestOutcome {
    const ALL: [RequestOutcome; 4] = [
        RequestOutcome::Ok,
        RequestOutcome::Errors,
        RequestOutcome::Refused,
        RequestOutcome::Timeout,
    ];

    fn label(self) -> &'static str {
        match self {
            RequestOutcome::Ok => "ok",
            RequestOutcome::Errors => "errors",
            RequestOutcome::Refused => "refused",
            RequestOutcome::Timeout => "timeout",
        }
    }
}

fn operation_label(kind: Option<OperationKind>) -> &'static str {
    match kind {
        Some(OperationKind::Query) => "query",
        Some(OperationKind::Mutation) => "mutation",
        Some(OperationKind::Subscription) => "subscription",
        None => "unknown",
    }
}

const OPERATIONS: [Option<OperationKind>; 4] = [
    Some(OperationKind::Query),
    Some(OperationKind::Mutation),
    Some(OperationKind::Subscription),
    None,
];

fn operation_index(kind: Option<OperationKind>) -> usize {
    match kind {
        Some(OperationKind::Query) => 0,
        Some(OperationKind::Mutation) => 1,
        Some(OperationKind::Subscription) => 2,
        None => 3,
    }
}

/// The handles of the metrics every request records, by label index.
struct Handles {
    /// `[operation][outcome]`
    requests: [[Counter; 4]; 4],
    request_seconds: [Histogram; 4],
    /// `[cache][hit]`
    cache_lookups: [[Counter; 2]; 2],
    /// `[direction][joined]`
    dedup: [[Counter; 2]; 2],
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

/// Registers the per-request metrics with the recorder just installed.
/// Until then (or with metrics off) they are not recorded at all.
pub(super) fn register() {
    HANDLES.get_or_init(|| Handles {
        requests: OPERATIONS.map(|kind| {
            RequestOutcome::ALL.map(|outcome| {
                counter!("tellonce_requests_total", "operation_type" => operation_label(kind), "outcome" => outcome.label())
            })
        }),
        request_seconds: OPERATIONS.map(|kind| {
            histogram!("tellonce_request_duration_seconds", "operation_type" => operation_label(kind))
        }),
        cache_lookups: [Cache::Document, Cache::Plan].map(|cache| {
            [false, true].map(|hit| {
                counter!("tellonce_cache_lookups_total", "cache" => cache.label(), "result" => if hit { "hit" } else { "miss" })
            })
        }),
        dedup: ["inbound", "outbound"].map(|direction| {
            [false, true].map(|joined| {
                counter!("tellonce_dedup_total", "direction" => direction, "result" => if joined { "joined" } else { "led" })
            })
        }),
    });
}

/// One GraphQL request through the gateway (`kind` is `None` when it was
/// refused before its operation was known).
pub fn request(kind: Option<OperationKind>, outcome: RequestOutcome, elapsed: Duration) {
    if let Some(handles) = HANDLES.get() {
        let operation = operation_index(kind);
        handles.requests[operation][outcome as usize].increment(1);
        handles.request_seconds[operation].record(elapsed.as_secs_f64());
    }
}

/// What became of one call to a subgraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubgraphOutcome {
    Ok,
    /// Answered with an HTTP error status.
    HttpError,
    /// Could not be reached.
    Unavailable,
    Timeout,
}

impl SubgraphOutcome {
    const ALL: [SubgraphOutcome; 4] = [
        SubgraphOutcome::Ok,
        SubgraphOutcome::HttpError,
        SubgraphOutcome::Unavailable,
        SubgraphOutcome::Timeout,
    ];

    fn label(self) -> &'static str {
        match self {
            SubgraphOutcome::Ok => "ok",
            SubgraphOutcome::HttpError => "http_error",
            SubgraphOutcome::Unavailable => "unavailable",
            SubgraphOutcome::Timeout => "timeout",
        }
    }
}

/// The metrics of one subgraph's HTTP calls, registered when its transport
/// is made (no-ops when no recorder is installed then).
pub struct SubgraphMeter {
    calls: [Counter; 4],
    seconds: Histogram,
}

impl SubgraphMeter {
    pub fn new(subgraph: &str) -> SubgraphMeter {
        SubgraphMeter {
            calls: SubgraphOutcome::ALL.map(|outcome| {
                counter!("tellonce_subgraph_requests_total", "subgraph" => subgraph.to_owned(), "outcome" => outcome.label())
            }),
            seconds: histogram!("tellonce_subgraph_request_duration_seconds", "subgraph" => subgraph.to_owned()),
        }
    }

    /// One HTTP call to the subgraph.
    pub fn call(&self, outcome: SubgraphOutcome, elapsed: Duration) {
        self.calls[outcome as usize].increment(1);
        self.seconds.record(elapsed.as_secs_f64());
    }
}

/// A subgraph answered with GraphQL errors in its response.
pub fn subgraph_errors(subgraph: &str, errors: usize) {
    counter!("tellonce_subgraph_errors_total", "subgraph" => subgraph.to_owned())
        .increment(errors as u64);
}

/// Which of the supergraph's caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Prepared documents, by text.
    Document,
    /// Query plans, by normalized operation.
    Plan,
}

impl Cache {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Cache::Document => "document",
            Cache::Plan => "plan",
        }
    }
}

/// A lookup in one of the supergraph's caches.
pub fn cache_lookup(cache: Cache, hit: bool) {
    if let Some(handles) = HANDLES.get() {
        handles.cache_lookups[cache as usize][usize::from(hit)].increment(1);
    }
}

/// Which deduplication shared work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedup {
    /// Identical client queries in flight.
    Inbound,
    /// Identical subgraph requests in flight.
    Outbound,
}

/// Work started (`shared` false) or joined (`shared` true) under one
/// deduplication: the share is joined over all.
pub fn dedup(which: Dedup, shared: bool) {
    if let Some(handles) = HANDLES.get() {
        handles.dedup[which as usize][usize::from(shared)].increment(1);
    }
}

/// What became of one attempt to tell a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed; tried again later.
    Retried,
    DeadLettered,
}

/// One delivery attempt to `department`.
pub fn delivery(department: &str, outcome: DeliveryOutcome) {
    let outcome = match outcome {
        DeliveryOutcome::Delivered => "delivered",
        DeliveryOutcome::Retried => "retried",
        DeliveryOutcome::DeadLettered => "dead_lettered",
    };
    counter!("tellonce_deliveries_total", "department" => department.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A request refused for going over `limit` (its configuration name, e.g.
/// `max_depth`, `rate_limit`, `max_body_bytes`).
pub fn refused(limit: &'static str) {
    counter!("tellonce_refused_requests_total", "limit" => limit).increment(1);
}

/// An operation opened over a streaming transport; the count falls when
/// the returned value is dropped.
pub fn subscription_opened(transport: &'static str) -> OpenSubscription {
    gauge!("tellonce_subscriptions_open", "transport" => transport).increment(1.0);
    OpenSubscription { transport }
}

/// One open subscription, counted in `tellonce_subscriptions_open` while it lives.
#[derive(Debug)]
pub struct OpenSubscription {
    transport: &'static str,
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        gauge!("tellonce_subscriptions_open", "transport" => self.transport).decrement(1.0);
    }
}

/// A subscription that joined an identical one's run instead of opening
/// its own.
pub fn subscription_shared() {
    counter!("tellonce_subscriptions_shared_total").increment(1);
}

/// A subscription stream opened on a subgraph (shared by every identical
/// subscription that joins it, when they share); the count falls when the
/// value is dropped.
pub fn subscription_stream_opened() -> OpenSubscriptionStream {
    gauge!("tellonce_subscription_streams_open").increment(1.0);
    OpenSubscriptionStream
}

/// One subscription run, counted in `tellonce_subscription_streams_open`.
#[derive(Debug)]
pub struct OpenSubscriptionStream;

impl Drop for OpenSubscriptionStream {
    fn drop(&mut self) {
        gauge!("tellonce_subscription_streams_open").decrement(1.0);
    }
}
