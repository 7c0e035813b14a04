//! Subgraph health as the executor last saw it: healthy or not, and the last
//! error. Shared by every request; the hub's status query reads it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// One subgraph's status for reporting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubgraphStatus {
    pub name: String,
    pub url: String,
    pub healthy: bool,
    pub last_error: Option<String>,
}

struct Entry {
    url: String,
    healthy: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// The registry, keyed by subgraph name, in `join__Graph` order for reports.
pub struct SubgraphHealth {
    order: Vec<String>,
    entries: HashMap<String, Entry>,
}

impl SubgraphHealth {
    /// Every subgraph starts healthy with no error.
    pub fn new<'a>(subgraphs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut order = Vec::new();
        let mut entries = HashMap::new();
        for (name, url) in subgraphs {
            order.push(name.to_string());
            entries.insert(
                name.to_string(),
                Entry {
                    url: url.to_string(),
                    healthy: AtomicBool::new(true),
                    last_error: Mutex::new(None),
                },
            );
        }
        SubgraphHealth { order, entries }
    }

    /// A call succeeded (cheap when nothing changes).
    pub fn record_success(&self, name: &str) {
        if let Some(entry) = self.entries.get(name) {
            entry.healthy.store(true, Ordering::Relaxed);
        }
    }

    /// A call failed at the transport level.
    pub fn record_failure(&self, name: &str, error: &str) {
        tracing::warn!(subgraph = name, error, "subgraph call failed");
        if let Some(entry) = self.entries.get(name) {
            entry.healthy.store(false, Ordering::Relaxed);
            let mut last = entry.last_error.lock().unwrap_or_else(|p| p.into_inner());
            *last = Some(error.to_string());
        }
    }

    pub fn snapshot(&self) -> Vec<SubgraphStatus> {
        self.order
            .iter()
            .filter_map(|name| {
                let entry = self.entries.get(name)?;
                let last_error = entry
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                Some(SubgraphStatus {
                    name: name.clone(),
                    url: entry.url.clone(),
                    healthy: entry.healthy.load(Ordering::Relaxed),
                    last_error,
                })
            })
            .collect()
    }
}
