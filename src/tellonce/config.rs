//! Tell-us-once settings: where the routing rules are, how many delivery
//! workers run, and how deliveries back off and give up.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[tellonce]` section of `tellonce.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TellOnceConfig {
    /// A folder of routing rule files (`*.toml`); `None` means the rules
    /// built into the binary from `schema/routes/`.
    pub routes_dir: Option<PathBuf>,
    /// Delivery workers per hub process (0 turns push delivery off).
    pub delivery_workers: usize,
    /// Notifications one worker claims at a time.
    pub claim_batch: usize,
    /// Attempts before a notification is dead-lettered.
    pub max_attempts: u32,
    /// The first retry waits about this long (doubling each attempt, with jitter).
    pub backoff_base_ms: u64,
    /// No retry waits longer than this.
    pub backoff_max_ms: u64,
    /// How long a claimed notification stays reserved for the worker that
    /// claimed it; a worker that dies loses its claims after this.
    pub claim_lease_ms: u64,
    /// How often an idle worker looks for due notifications.
    pub poll_ms: u64,
    /// Most life events written in one database transaction.
    pub submit_batch: usize,
    /// Days a notification's personal data is kept once its department
    /// has it (delivered, or acknowledged by a department that pulls);
    /// 0 clears it at once. Status and the ledger keep what was told, to
    /// whom and when.
    pub retain_delivered_days: u32,
}

impl Default for TellOnceConfig {
    fn default() -> Self {
        TellOnceConfig {
            routes_dir: None,
            delivery_workers: 2,
            claim_batch: 64,
            max_attempts: 8,
            backoff_base_ms: 500,
            backoff_max_ms: 5 * 60 * 1000,
            claim_lease_ms: 60_000,
            poll_ms: 250,
            submit_batch: 512,
            retain_delivered_days: 0,
        }
    }
}

impl TellOnceConfig {
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.max(1))
    }

    /// Whether a notification keeps its data once its department has it.
    pub fn keeps_delivered_data(&self) -> bool {
        self.retain_delivered_days > 0
    }

    /// How often data past its retention is looked for.
    pub fn retention_sweep(&self) -> Duration {
        self.poll() * 40
    }
}
