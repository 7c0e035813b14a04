//! Live department feeds: the rows newly routed to a department, read from
//! the store once per ledger batch however many subscribers on this instance
//! follow that department, and shared among them.
//!
//! One reader task runs per department that has a follower here; it follows
//! the [`LedgerTail`], and when a batch records a life event it pages the
//! department's feed from its own cursor and broadcasts what it read. The
//! reader ends with its last follower.
//!
//! A follower checks continuity rather than trusting timing: each batch says
//! after which feed position it starts (`after`), and a follower that has not
//! seen everything up to there (it subscribed while the reader was starting,
//! or fell behind its buffer) reads the gap from the store itself. So a
//! follower never misses a row and never needs one store read per event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::status::FeedRow;
use super::submit::EVENT_RECORDED;
use super::TellOnce;
use crate::events::LedgerTail;

/// Feed rows read per look at the store.
const PAGE: i64 = 100;

/// What a department's reader read after one ledger batch.
#[derive(Debug)]
pub struct FeedBatch {
    /// The feed position (a ledger sequence) the batch continues from:
    /// every row routed to the department at or before it came earlier.
    pub after: i64,
    /// The position the reader's read covered: no row at or before it is
    /// missing from this batch or an earlier one.
    pub through: i64,
    /// The rows, in feed order (all after `after`).
    pub rows: Vec<Arc<FeedRow>>,
}

/// One follower's view of a department's live feed.
pub struct FeedFollower {
    inner: broadcast::Receiver<Arc<FeedBatch>>,
}

/// What [`FeedFollower::next`] saw.
pub enum FeedNext {
    Batch(Arc<FeedBatch>),
    /// The follower fell behind its buffer: read from the store from its
    /// own cursor, then follow again.
    Lagged,
}

impl FeedFollower {
    pub async fn next(&mut self) -> FeedNext {
        match self.inner.recv().await {
            Ok(batch) => FeedNext::Batch(batch),
            Err(broadcast::error::RecvError::Lagged(_)) => FeedNext::Lagged,
            // The reader stopped (the hub is shutting down).
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// The live feeds of this instance; see the module comment.
pub struct LiveFeeds {
    tellonce: Arc<TellOnce>,
    tail: Arc<LedgerTail>,
    buffer: usize,
    readers: Mutex<HashMap<String, broadcast::Sender<Arc<FeedBatch>>>>,
}

impl LiveFeeds {
    /// `buffer` batches may wait for a follower before it counts as behind.
    pub fn new(tellonce: Arc<TellOnce>, tail: Arc<LedgerTail>, buffer: usize) -> Arc<LiveFeeds> {
        Arc::new(LiveFeeds {
            tellonce,
            tail,
            buffer: buffer.max(1),
            readers: Mutex::new(HashMap::new()),
        })
    }

    /// The tail's position before a follower reads the store: every row at
    /// a ledger sequence below it had committed.
    pub fn position(&self) -> i64 {
        self.tail.position() as i64
    }

    /// Follows `department`'s feed from now on; read what came before from
    /// the store after this returns.
    pub fn follow(self: &Arc<Self>, department: &str) -> FeedFollower {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = readers.get(department) {
            return FeedFollower {
                inner: sender.subscribe(),
            };
        }
        let (sender, receiver) = broadcast::channel(self.buffer);
        readers.insert(department.to_string(), sender.clone());
        // Follow the tail before taking its position: whatever the tail
        // reads after the position arrives as a batch.
        let tail = self.tail.subscribe();
        let start = self.tail.position() as i64 - 1;
        let feeds = self.clone();
        let department = department.to_string();
        tokio::spawn(async move { feeds.read(department, sender, tail, start).await });
        FeedFollower { inner: receiver }
    }

    async fn read(
        &self,
        department: String,
        sender: broadcast::Sender<Arc<FeedBatch>>,
        mut tail: crate::events::TailReceiver,
        start: i64,
    ) {
        // `sent`: the last position a batch covered (rows up to it were sent);
        // `read`: the last ledger sequence the store was read past.
        let mut sent = start;
        let mut read = start;
        loop {
            // The last life event the batch recorded, and whether to look.
            let (recorded, look) = match tail.next().await {
                Ok(batch) => {
                    let recorded = batch
                        .entries
                        .iter()
                        .filter(|e| e.kind == EVENT_RECORDED)
                        .map(|e| e.seq as i64)
                        .max();
                    (recorded, recorded.is_some_and(|seq| seq > read))
                }
                // Behind the tail: look at the store whatever it holds.
                Err(_) => (None, true),
            };
            if look {
                match self.read_from(&department, read).await {
                    Ok(rows) => {
                        let last = rows.last().map(|r| r.0.event_seq);
                        let through = last.into_iter().chain(recorded).fold(read, i64::max);
                        if !rows.is_empty() {
                            // No follower is not an error: the check below ends the reader.
                            let _ = sender.send(Arc::new(FeedBatch {
                                after: sent,
                                through,
                                rows,
                            }));
                            sent = through;
                        }
                        read = through;
                    }
                    Err(error) => {
                        tracing::warn!(%error, %department, "the live feed could not read the store; it tries again with the next ledger batch");
                    }
                }
            }
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            if sender.receiver_count() == 0 {
                readers.remove(&department);
                return;
            }
        }
    }

    /// Every row routed to `department` after `cursor`, page by page.
    async fn read_from(
        &self,
        department: &str,
        mut cursor: i64,
    ) -> Result<Vec<Arc<FeedRow>>, super::TellOnceError> {
        let mut rows = Vec::new();
        loop {
            let page = self
                .tellonce
                .feed(department.to_string(), Some(cursor), PAGE)
                .await?;
            if let Some(last) = page.items.last() {
                cursor = last.0.event_seq;
            }
            rows.extend(page.items.into_iter().map(Arc::new));
            if !page.has_next_page {
                return Ok(rows);
            }
        }
    }
}
