//! The ledger tail: one reader per hub instance that follows the ledger and
//! broadcasts each new entry, and each new signed checkpoint, to the local
//! subscribers in sequence order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use super::{Broker, EventsConfig};
use crate::ledger::{EntryFilter, Ledger, LedgerError, StoredCheckpoint};

/// One ledger entry as subscribers see it.
#[derive(Debug, Clone)]
pub struct TailEntry {
    pub seq: u64,
    pub kind: String,
    /// The payload's JSON text; `None` once erased.
    pub payload: Option<String>,
}

impl TailEntry {
    /// Whether the payload names `value` as the string field `field` (a
    /// cheap test before a subscriber reads anything).
    pub fn mentions(&self, field: &str, value: &str) -> bool {
        let Some(payload) = &self.payload else {
            return false;
        };
        serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|p| p.get(field).and_then(|v| v.as_str().map(|v| v == value)))
            .unwrap_or(false)
    }
}

/// What the tail read in one look: consecutive entries, and the latest
/// checkpoint when a new one was signed.
#[derive(Debug, Default)]
pub struct LedgerBatch {
    pub entries: Vec<TailEntry>,
    pub checkpoint: Option<StoredCheckpoint>,
}

/// A subscriber fell further behind than its buffer: it is closed, and can
/// resume from its last cursor.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the subscriber fell {missed} ledger batches behind and was closed; resubscribe from its last cursor")]
pub struct TailLagged {
    pub missed: u64,
}

/// Follows the ledger; see the module comment.
pub struct LedgerTail {
    sender: broadcast::Sender<Arc<LedgerBatch>>,
    /// The sequence of the next entry the tail will read.
    position: AtomicU64,
}

/// The largest number of entries read in one look.
const READ_LIMIT: usize = 1000;

/// How long the tail waits before looking again after a doorbell that found
/// nothing (the write that rang had not committed yet).
const RECHECK_MS: [u64; 4] = [2, 10, 40, 150];

impl LedgerTail {
    /// Starts following `ledger` from its current end.
    pub async fn start(
        ledger: Arc<Ledger>,
        broker: Broker,
        config: &EventsConfig,
    ) -> Result<(Arc<LedgerTail>, Vec<tokio::task::JoinHandle<()>>), LedgerError> {
        let reading = ledger.clone();
        let (size, checkpoint) = tokio::task::spawn_blocking(move || {
            Ok::<_, LedgerError>((
                reading.size()?,
                reading.latest_checkpoint()?.map_or(0, |c| c.tree_size),
            ))
        })
        .await
        .map_err(|e| LedgerError::Storage(e.to_string()))??;
        let (sender, _) = broadcast::channel(config.subscriber_buffer.max(1));
        let tail = Arc::new(LedgerTail {
            sender,
            position: AtomicU64::new(size),
        });
        let mut tasks = broker.start();
        let poll = Duration::from_millis(config.poll_interval_ms.max(10));
        let following = tail.clone();
        tasks.push(tokio::spawn(async move {
            following.follow(ledger, broker, poll, checkpoint).await
        }));
        Ok((tail, tasks))
    }

    /// Batches read from now on; a subscriber reads what came before from
    /// the store (subscribe first, then read, then skip what it has seen).
    pub fn subscribe(&self) -> TailReceiver {
        TailReceiver {
            inner: self.sender.subscribe(),
        }
    }

    /// The sequence of the next entry the tail will read.
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// Local subscribers right now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    async fn follow(&self, ledger: Arc<Ledger>, broker: Broker, poll: Duration, checkpoint: u64) {
        let mut checkpoint_size = checkpoint;
        loop {
            let local = tokio::select! {
                _ = ledger.written().notified() => true,
                _ = broker.rung() => false,
                _ = tokio::time::sleep(poll) => false,
            };
            let mut rechecks = RECHECK_MS.iter();
            loop {
                let (batch, full) = match self.read(&ledger, checkpoint_size).await {
                    Ok(read) => read,
                    Err(error) => {
                        tracing::warn!(%error, "the ledger tail could not read the ledger");
                        break;
                    }
                };
                if batch.entries.is_empty() && batch.checkpoint.is_none() {
                    match rechecks.next() {
                        Some(ms) if local => {
                            tokio::time::sleep(Duration::from_millis(*ms)).await;
                            continue;
                        }
                        _ => break,
                    }
                }
                if let Some(last) = batch.entries.last() {
                    self.position.store(last.seq + 1, Ordering::Release);
                }
                if let Some(checkpoint) = &batch.checkpoint {
                    checkpoint_size = checkpoint.tree_size;
                }
                // No receiver is not an error: nobody is listening yet.
                let _ = self.sender.send(Arc::new(batch));
                if local {
                    broker.announce(self.position()).await;
                }
                if !full {
                    break;
                }
            }
        }
    }

    /// The entries after the tail's position and a checkpoint newer than
    /// `checkpoint_size`; `true` when more entries may follow.
    async fn read(
        &self,
        ledger: &Arc<Ledger>,
        checkpoint_size: u64,
    ) -> Result<(LedgerBatch, bool), LedgerError> {
        let ledger = ledger.clone();
        let position = self.position();
        tokio::task::spawn_blocking(move || {
            let page = ledger.entries(&EntryFilter {
                after: position.checked_sub(1),
                first: READ_LIMIT,
                kind: None,
                subject: None,
            })?;
            let checkpoint = ledger
                .latest_checkpoint()?
                .filter(|c| c.tree_size > checkpoint_size);
            let entries = page
                .entries
                .into_iter()
                .map(|entry| TailEntry {
                    seq: entry.header.seq,
                    kind: entry.header.kind,
                    payload: entry.payload,
                })
                .collect();
            Ok((
                LedgerBatch {
                    entries,
                    checkpoint,
                },
                page.has_next_page,
            ))
        })
        .await
        .map_err(|e| LedgerError::Storage(e.to_string()))?
    }
}

/// One subscriber's view of the tail.
pub struct TailReceiver {
    inner: broadcast::Receiver<Arc<LedgerBatch>>,
}

impl TailReceiver {
    /// The next batch; `Err` when this subscriber fell too far behind.
    pub async fn next(&mut self) -> Result<Arc<LedgerBatch>, TailLagged> {
        match self.inner.recv().await {
            Ok(batch) => Ok(batch),
            Err(broadcast::error::RecvError::Lagged(missed)) => Err(TailLagged { missed }),
            // The tail stopped (the hub is shutting down): nothing more comes.
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}
