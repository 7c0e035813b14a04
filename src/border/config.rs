//! The `[border]` section of `tellonce.toml`: where the agencies and places
//! files are, the URL of each agency subgraph, and how agencies are asked
//! and retried.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BorderConfig {
    /// The agencies file; `None` means the one built in from `schema/border/agencies.toml`.
    /// A configured file is read again when it changes (and refused whole if it is not valid).
    pub agencies_file: Option<PathBuf>,
    /// The ports and posts file; `None` means the built-in `schema/border/places.toml`.
    pub places_file: Option<PathBuf>,
    /// Agency subgraph name → its GraphQL URL. An agency whose subgraph is
    /// not here is not connected.
    pub subgraphs: BTreeMap<String, String>,
    /// How long one agency has to answer, in milliseconds.
    pub assessment_timeout_ms: u64,
    /// The first retry of an agency that did not answer waits about this long
    /// (doubling each attempt, with jitter).
    pub backoff_base_ms: u64,
    /// No retry waits longer than this.
    pub backoff_max_ms: u64,
    /// How long an asker holds an assessment before another may ask again.
    pub claim_lease_ms: u64,
    /// How often the retry worker looks for assessments due.
    pub poll_ms: u64,
    /// Assessments the retry worker takes at a time.
    pub claim_batch: usize,
}

impl Default for BorderConfig {
    fn default() -> Self {
        BorderConfig {
            agencies_file: None,
            places_file: None,
            subgraphs: BTreeMap::new(),
            assessment_timeout_ms: 2_000,
            backoff_base_ms: 500,
            backoff_max_ms: 60_000,
            claim_lease_ms: 10_000,
            poll_ms: 250,
            claim_batch: 64,
        }
    }
}

impl BorderConfig {
    pub fn assessment_timeout(&self) -> Duration {
        Duration::from_millis(self.assessment_timeout_ms.max(1))
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.max(1))
    }

    /// The wait before retry number `attempt`, as tell-us-once delivery waits.
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::tellonce::delivery::backoff_between(
            self.backoff_base_ms,
            self.backoff_max_ms,
            attempt,
        )
    }
}
