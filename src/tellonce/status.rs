//! Reading tell-us-once state: one event with its notifications, the
//! per-department feed in ledger order (cursor: the event's ledger
//! sequence), and the dead letters an operator may replay.

use diesel::prelude::*;

use super::outbox::{self, ReplayFilter};
use super::tables::{status, tellonce_events, tellonce_outbox, EventRow, OutboxRow};
use super::{TellOnce, TellOnceError};

/// An event and what became of each notification.
#[derive(Debug, Clone)]
pub struct EventStatus {
    pub event: EventRow,
    pub notifications: Vec<OutboxRow>,
}

/// One row of a department's feed: the notification and its life event.
pub type FeedRow = (OutboxRow, EventRow);

/// One page of a department's feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub items: Vec<FeedRow>,
    pub has_next_page: bool,
}

/// Most items one page may hold.
pub const MAX_PAGE: i64 = 500;

impl TellOnce {
    async fn with_conn<T, F>(&self, f: F) -> Result<T, TellOnceError>
    where
        T: Send + 'static,
        F: FnOnce(
                &mut crate::store::AnyConnection,
                &crate::ledger::Ledger,
            ) -> Result<T, TellOnceError>
            + Send
            + 'static,
    {
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = ledger.store().get()?;
            f(&mut conn, &ledger)
        })
        .await
        .map_err(|e| TellOnceError::Storage(e.to_string()))?
    }

    /// One event by id.
    pub async fn event_status(&self, id: String) -> Result<Option<EventStatus>, TellOnceError> {
        self.with_conn(move |conn, _| {
            let Some(event) = tellonce_events::table
                .find(&id)
                .first::<EventRow>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            let notifications = tellonce_outbox::table
                .filter(tellonce_outbox::event_id.eq(&id))
                .order(tellonce_outbox::id)
                .load::<OutboxRow>(conn)?;
            Ok(Some(EventStatus {
                event,
                notifications,
            }))
        })
        .await
    }

    /// Events routed to `department` after ledger sequence `after`, oldest first.
    pub async fn feed(
        &self,
        department: String,
        after: Option<i64>,
        first: i64,
    ) -> Result<FeedPage, TellOnceError> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(TellOnceError::BadArgument(format!(
                "first must be 1 to {MAX_PAGE}"
            )));
        }
        self.with_conn(move |conn, _| {
            let mut rows: Vec<FeedRow> = tellonce_outbox::table
                .inner_join(tellonce_events::table)
                .filter(tellonce_outbox::department.eq(&department))
                .filter(tellonce_outbox::event_seq.gt(after.unwrap_or(-1)))
                .order(tellonce_outbox::event_seq)
                .limit(first + 1)
                .load(conn)?;
            let has_next_page = rows.len() as i64 > first;
            rows.truncate(first as usize);
            Ok(FeedPage {
                items: rows,
                has_next_page,
            })
        })
        .await
    }

    /// Dead letters, oldest first, optionally for one department.
    pub async fn dead_letters(
        &self,
        department: Option<String>,
        first: i64,
    ) -> Result<Vec<OutboxRow>, TellOnceError> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(TellOnceError::BadArgument(format!(
                "first must be 1 to {MAX_PAGE}"
            )));
        }
        self.with_conn(move |conn, _| {
            let mut query = tellonce_outbox::table
                .filter(tellonce_outbox::status.eq(status::DEAD_LETTER))
                .into_boxed();
            if let Some(department) = department {
                query = query.filter(tellonce_outbox::department.eq(department));
            }
            Ok(query.order(tellonce_outbox::id).limit(first).load(conn)?)
        })
        .await
    }

    /// Puts dead letters back in the queue.
    pub async fn replay(
        &self,
        filter: ReplayFilter,
        actor: String,
    ) -> Result<Vec<OutboxRow>, TellOnceError> {
        let replayed = self
            .with_conn(move |conn, ledger| outbox::replay(conn, ledger, &filter, &actor))
            .await?;
        self.work().notify_waiters();
        Ok(replayed)
    }

    /// Records a department's acknowledgement of an event.
    pub async fn acknowledge(
        &self,
        event_id: String,
        department: String,
    ) -> Result<OutboxRow, TellOnceError> {
        let keep = self.config.keeps_delivered_data();
        self.with_conn(move |conn, ledger| {
            outbox::acknowledge(conn, ledger, &event_id, &department, keep)
        })
        .await
    }
}
