//! The `[events]` section.

use serde::{Deserialize, Serialize};

/// How ledger changes reach subscribers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Redis pub/sub shared by every hub instance (`--redis`); unset: this
    /// instance only.
    pub redis_url: Option<String>,
    /// How often the tail looks at the ledger when no doorbell rang.
    pub poll_interval_ms: u64,
    /// Batches buffered per subscriber; one that falls further behind is
    /// closed (it can resume from its cursor).
    pub subscriber_buffer: usize,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            redis_url: None,
            poll_interval_ms: 1000,
            subscriber_buffer: 256,
        }
    }
}
