//! Identical subscriptions share one run: the subgraph stream is opened
//! once, each event is completed by the rest of the plan and shaped once,
//! and the response is handed to every subscriber of the group. Ten
//! thousand frontends watching the same thing cost one execution per
//! event, not ten thousand.
//!
//! Two subscriptions are identical when they are the same prepared
//! operation of the same supergraph with equal variables, asked by the
//! same principal with the same forwarded headers: nothing one principal
//! may see reaches another.
//!
//! A stream may start with a catch-up of its own (a ledger cursor), so a
//! subscription joins a group only while the group has handed out nothing
//! yet: then it receives exactly what a run of its own would have yielded.
//! Once a group has yielded, the next identical subscription starts a new
//! group. A subscriber too slow for the group's buffer is ended with an
//! error (a resumable stream resumes from its last cursor), never buffered
//! without bound. The run stops when its last subscriber leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use futures::stream::{self, StreamExt};
use tokio::sync::broadcast;

use super::gateway::Admitted;
use super::response::{GraphQLError, GraphQLResponse, ResponseBody};
use super::subscription::ResponseStream;
use super::RequestContext;
use crate::error_code::ErrorCode;

/// Responses a group keeps for its slowest subscriber: beyond them that
/// subscriber is ended. The buffer is the group's, shared by its members.
const GROUP_BUFFER: usize = 1024;

/// What makes two subscriptions the same subscription.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct ShareKey {
    /// The prepared operation's address: unique while a group's run holds it.
    operation: usize,
    /// The coerced variables, as JSON text.
    variables: String,
    principal: String,
    /// The client headers the rules may forward, and the caller's own.
    headers: Vec<(String, String)>,
    internal: bool,
}

impl ShareKey {
    pub(super) fn of(admitted: &Admitted, context: &RequestContext) -> ShareKey {
        ShareKey {
            operation: Arc::as_ptr(&admitted.prepared) as usize,
            variables: serde_json::to_string(&admitted.variables).unwrap_or_default(),
            principal: context.principal.id.clone(),
            headers: context
                .client_headers
                .iter()
                .chain(&context.extra_headers)
                .cloned()
                .collect(),
            internal: context.internal,
        }
    }
}

/// One event as the group hands it out; `None` ends the stream.
type Event = Option<Arc<ResponseBody>>;

struct Group {
    sender: broadcast::Sender<Event>,
    /// Whether the run has handed out anything: a subscription may join
    /// only while it has not. Held while the first event is sent, so a
    /// joiner either is counted before it or sees `true`.
    started: Arc<Mutex<bool>>,
    run: tokio::task::AbortHandle,
}

impl Drop for Group {
    fn drop(&mut self) {
        self.run.abort();
    }
}

/// The groups of one gateway (a reload starts afresh; groups already
/// running stay on the supergraph they started on).
#[derive(Default)]
pub(super) struct SharedSubscriptions {
    groups: Mutex<HashMap<ShareKey, Weak<Group>>>,
}

impl SharedSubscriptions {
    /// A subscriber's stream of the group `key` names, if one can still be
    /// joined.
    pub(super) fn join(&self, key: &ShareKey) -> Option<ResponseStream> {
        let groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        let group = groups.get(key)?.upgrade()?;
        let started = group.started.lock().unwrap_or_else(|p| p.into_inner());
        if *started {
            return None;
        }
        let receiver = group.sender.subscribe();
        drop(started);
        drop(groups);
        crate::telemetry::measure::subscription_shared();
        Some(member(group, receiver))
    }

    /// Starts a group on `events` (the subscription's completed responses)
    /// and returns its first subscriber's stream.
    pub(super) fn start(&self, key: ShareKey, events: ResponseStream) -> ResponseStream {
        let (sender, receiver) = broadcast::channel(GROUP_BUFFER);
        let started = Arc::new(Mutex::new(false));
        let run = tokio::spawn(run(events, sender.clone(), started.clone())).abort_handle();
        let group = Arc::new(Group {
            sender,
            started,
            run,
        });
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        groups.retain(|_, group| group.strong_count() > 0);
        groups.insert(key, Arc::downgrade(&group));
        drop(groups);
        member(group, receiver)
    }
}

/// Drives one group's run, handing each response to every member.
async fn run(
    mut events: ResponseStream,
    sender: broadcast::Sender<Event>,
    started: Arc<Mutex<bool>>,
) {
    let mut first = true;
    while let Some(body) = events.next().await {
        // The first goes out under the lock joiners take (`Group::started`).
        let _joiners_held = first.then(|| {
            let mut started = started.lock().unwrap_or_else(|p| p.into_inner());
            *started = true;
            started
        });
        first = false;
        // No receiver only means every member left: the group is being
        // dropped and aborts this run.
        let _ = sender.send(Some(Arc::new(body)));
    }
    let mut started = started.lock().unwrap_or_else(|p| p.into_inner());
    *started = true;
    let _ = sender.send(None);
}

/// One member's stream: holds the group, so the run lives while it does.
fn member(group: Arc<Group>, receiver: broadcast::Receiver<Event>) -> ResponseStream {
    stream::unfold(Some((group, receiver)), |state| async move {
        let (group, mut receiver) = state?;
        match receiver.recv().await {
            Ok(Some(body)) => Some((ResponseBody::clone(&body), Some((group, receiver)))),
            Ok(None) | Err(broadcast::error::RecvError::Closed) => None,
            Err(broadcast::error::RecvError::Lagged(missed)) => Some((
                ResponseBody::of(&GraphQLResponse::request_error(GraphQLError::new(
                    format!(
                        "this subscriber fell {missed} events behind the stream it shares and was ended; subscribe again (from your last cursor, if the field takes one)"
                    ),
                    ErrorCode::RateLimited,
                ))),
                None,
            )),
        }
    })
    .boxed()
}
