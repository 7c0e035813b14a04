//! The hub's own subscriptions: a department's life events (resumable from a
//! ledger cursor), one life event's progress, each new signed checkpoint and
//! one border plan's revisions. Each follows the [`LedgerTail`] (life events
//! through the department's shared [`LiveFeeds`] reader); what it yields is
//! read from the store, so a resumed stream has no gap and no duplicate.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Subscription, ID};
use futures::stream::{self, BoxStream, StreamExt};

use super::border::InterventionPlanObject;
use super::ledger::{checkpoint_of, Checkpoint};
use super::principal;
use super::tellonce::{
    graphql_error, may_read_event, require_department, service, FeedItemObject, LifeEventObject,
};
use crate::auth::PrincipalKind;
use crate::error_code::ErrorCode;
use crate::events::{LedgerTail, TailEntry, TailLagged, TailReceiver};
use crate::tellonce::live_feed::{FeedFollower, FeedNext, LiveFeeds};
use crate::tellonce::status::FeedRow;
use crate::tellonce::tables::status;
use crate::tellonce::{LifeEventType, TellOnceError};

/// Feed rows read per look at the store while catching up.
const CATCH_UP_PAGE: i64 = 100;

#[derive(Default)]
pub struct HubSubscription;

fn tail<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Arc<LedgerTail>> {
    ctx.data::<Arc<LedgerTail>>().map_err(|_| {
        async_graphql::Error::new("this hub does not serve subscriptions").extend_with(|_, e| {
            e.set("code", ErrorCode::BadUserInput.as_str());
        })
    })
}

fn live_feeds<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Arc<LiveFeeds>> {
    ctx.data::<Arc<LiveFeeds>>().map_err(|_| {
        async_graphql::Error::new("this hub does not serve life event subscriptions").extend_with(
            |_, e| {
                e.set("code", ErrorCode::BadUserInput.as_str());
            },
        )
    })
}

fn lagged(error: TailLagged, cursor: Option<i64>) -> async_graphql::Error {
    let resume = cursor.map_or("from the start".to_string(), |c| format!("after {c}"));
    async_graphql::Error::new(format!("{error} (resume {resume})")).extend_with(|_, e| {
        e.set("code", ErrorCode::RateLimited.as_str());
        if let Some(cursor) = cursor {
            e.set("cursor", cursor.to_string());
        }
    })
}

#[Subscription(name = "Subscription")]
impl HubSubscription {
    /// The life events routed to the subscribing department (an operator
    /// names one), in ledger order: those after the cursor `after` (a
    /// `ledgerSeq` from this stream or `lifeEventFeed`) first, then live.
    async fn life_events(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<LifeEventType>>,
        after: Option<String>,
        department: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<FeedItemObject>>> {
        let principal = principal(ctx);
        let department = match (department, &principal.department) {
            (Some(named), _) => named,
            (None, Some(own)) if principal.kind == PrincipalKind::Department => own.clone(),
            (None, _) => {
                return Err(graphql_error(TellOnceError::BadArgument(
                    "name the department whose life events to follow".into(),
                )))
            }
        };
        require_department(ctx, &department)?;
        let cursor = match after {
            None => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                graphql_error(TellOnceError::BadArgument(
                    "after must be a ledgerSeq from this stream or lifeEventFeed".into(),
                ))
            })?),
        };
        let tellonce = service(ctx)?.clone();
        let feeds = live_feeds(ctx)?.clone();
        // Follow before reading the store: whatever commits after the read
        // then arrives as a batch.
        let follower = feeds.follow(&department);
        struct Follow {
            follower: FeedFollower,
            /// The last row taken (the resume cursor).
            cursor: Option<i64>,
            /// Every row at or before this position has been taken.
            known: i64,
            pending: VecDeque<Arc<FeedRow>>,
            caught_up: bool,
            ended: bool,
        }
        let state = Follow {
            follower,
            cursor,
            known: cursor.unwrap_or(-1),
            pending: VecDeque::new(),
            caught_up: false,
            ended: false,
        };
        let wanted = move |row: &FeedRow| {
            types.as_ref().is_none_or(|types| {
                LifeEventType::from_input_field(&row.1.event_type)
                    .is_some_and(|t| types.contains(&t))
            })
        };
        Ok(stream::unfold(state, move |mut s| {
            let (tellonce, feeds) = (tellonce.clone(), feeds.clone());
            let department = department.clone();
            let wanted = wanted.clone();
            async move {
                loop {
                    if s.ended {
                        return None;
                    }
                    if let Some(row) = s.pending.pop_front() {
                        let seq = row.0.event_seq;
                        if s.cursor.is_some_and(|c| seq <= c) {
                            continue;
                        }
                        s.cursor = Some(seq);
                        s.known = s.known.max(seq);
                        if wanted(&row) {
                            return Some((Ok(FeedItemObject(row)), s));
                        }
                        continue;
                    }
                    if !s.caught_up {
                        let committed = feeds.position() - 1;
                        match tellonce
                            .feed(department.clone(), s.cursor, CATCH_UP_PAGE)
                            .await
                        {
                            Ok(page) => {
                                if !page.has_next_page {
                                    s.caught_up = true;
                                    s.known = s.known.max(committed);
                                }
                                s.pending.extend(page.items.into_iter().map(Arc::new));
                            }
                            Err(error) => {
                                s.ended = true;
                                return Some((Err(graphql_error(error)), s));
                            }
                        }
                        continue;
                    }
                    match s.follower.next().await {
                        // A gap before this batch: read it from the store.
                        FeedNext::Batch(batch) if batch.after > s.known => s.caught_up = false,
                        FeedNext::Batch(batch) => {
                            s.pending.extend(batch.rows.iter().cloned());
                            s.known = s.known.max(batch.through);
                        }
                        FeedNext::Lagged => s.caught_up = false,
                    }
                }
            }
        })
        .boxed())
    }

    /// One life event's progress: its status now, then again each time a
    /// department's notification changes, until every department is told.
    async fn life_event_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<LifeEventObject>>> {
        let tellonce = service(ctx)?.clone();
        let receiver = tail(ctx)?.subscribe();
        let Some(first) = tellonce
            .event_status(id.0.clone())
            .await
            .map_err(graphql_error)?
        else {
            return Err(graphql_error(TellOnceError::NotFound(format!(
                "life event {}",
                id.0
            ))));
        };
        if !may_read_event(principal(ctx), &first) {
            return Err(graphql_error(TellOnceError::Forbidden(
                "this life event is not about you and was not routed to you".into(),
            )));
        }
        let event_id = id.0;
        let fingerprint = |s: &crate::tellonce::status::EventStatus| {
            s.notifications
                .iter()
                .map(|n| format!("{}:{}:{}", n.department, n.status, n.attempts))
                .collect::<Vec<_>>()
                .join(",")
        };
        let told = |s: &crate::tellonce::status::EventStatus| {
            s.notifications
                .iter()
                .all(|n| n.status == status::DELIVERED || n.status == status::ACKNOWLEDGED)
        };
        let watched = event_id.clone();
        Ok(watch(
            receiver,
            first,
            move |entry| entry.kind.starts_with("tellonce.") && entry.mentions("eventId", &watched),
            move || {
                let tellonce = tellonce.clone();
                let id = event_id.clone();
                async move { tellonce.event_status(id).await.map_err(graphql_error) }
            },
            fingerprint,
            told,
        )
        .map(|item| item.map(LifeEventObject))
        .boxed())
    }

    /// Each new signed checkpoint of the ledger, as it is issued.
    async fn ledger_checkpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<Checkpoint>>> {
        let receiver = tail(ctx)?.subscribe();
        Ok(stream::unfold(Some(receiver), |receiver| async move {
            let mut receiver = receiver?;
            loop {
                match receiver.next().await {
                    Ok(batch) => {
                        if let Some(checkpoint) = &batch.checkpoint {
                            return Some((Ok(checkpoint_of(checkpoint.clone())), Some(receiver)));
                        }
                    }
                    Err(error) => return Some((Err(lagged(error, None)), None)),
                }
            }
        })
        .boxed())
    }

    /// One border plan: as it is now, then each revision, outcome and the
    /// release decision, after which the stream ends.
    async fn intervention_plan_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<InterventionPlanObject>>>
    {
        let border = super::border::service(ctx)?.clone();
        let receiver = tail(ctx)?.subscribe();
        let principal = Arc::new(principal(ctx).clone());
        let read = {
            let (border, principal, id) = (border.clone(), principal.clone(), id.0.clone());
            move || {
                let (border, principal, id) = (border.clone(), principal.clone(), id.clone());
                async move {
                    border
                        .plan(id, &principal)
                        .await
                        .map_err(super::border::graphql_error)
                }
            }
        };
        let Some(first) = read().await? else {
            return Err(super::border::graphql_error(
                crate::border::BorderError::NotFound(format!("intervention plan {}", id.0)),
            ));
        };
        let watched = id.0;
        Ok(watch(
            receiver,
            first,
            move |entry| {
                entry.kind.starts_with("border.") && entry.mentions("consignmentId", &watched)
            },
            read,
            |view| format!("{}:{:?}", view.revision, view.plan.status),
            |view| view.plan.status == crate::border::PlanStatus::Decided,
        )
        .map(move |item| item.map(|view| InterventionPlanObject(view, border.clone())))
        .boxed())
    }
}

/// A value as it is now, then again each time an entry that `relevant`
/// picks out changes it (by `fingerprint`), until `finished`.
fn watch<T, R, F, Fut, K, D>(
    receiver: TailReceiver,
    first: T,
    relevant: R,
    read: F,
    fingerprint: K,
    finished: D,
) -> impl futures::Stream<Item = async_graphql::Result<T>>
where
    T: Send + 'static,
    R: Fn(&TailEntry) -> bool + Send + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = async_graphql::Result<Option<T>>> + Send,
    K: Fn(&T) -> String + Send + 'static,
    D: Fn(&T) -> bool + Send + 'static,
{
    struct Watch<T> {
        receiver: TailReceiver,
        first: Option<T>,
        seen: String,
        ended: bool,
    }
    let seen = fingerprint(&first);
    let state = Watch {
        receiver,
        first: Some(first),
        seen,
        ended: false,
    };
    let step = Arc::new((relevant, read, fingerprint, finished));
    stream::unfold(state, move |mut s| {
        let step = step.clone();
        async move {
            let (relevant, read, fingerprint, finished) = &*step;
            if s.ended {
                return None;
            }
            if let Some(first) = s.first.take() {
                s.ended = finished(&first);
                return Some((Ok(first), s));
            }
            loop {
                match s.receiver.next().await {
                    Ok(batch) if batch.entries.iter().any(relevant) => match read().await {
                        Ok(Some(value)) => {
                            let print = fingerprint(&value);
                            if print != s.seen {
                                s.seen = print;
                                s.ended = finished(&value);
                                return Some((Ok(value), s));
                            }
                        }
                        Ok(None) => return None,
                        Err(error) => {
                            s.ended = true;
                            return Some((Err(error), s));
                        }
                    },
                    Ok(_) => {}
                    Err(error) => {
                        s.ended = true;
                        return Some((Err(lagged(error, None)), s));
                    }
                }
            }
        }
    })
}
