//! The gateway's sections of `tellonce.toml`: `[gateway]` (execution
//! settings) and `[[subgraphs]]` (the departments to compose).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One department subgraph registered with the hub.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    pub name: String,
    /// The subgraph's GraphQL endpoint.
    pub url: String,
    /// Its SDL file; when absent the hub asks the subgraph for `_service { sdl }`.
    pub schema_file: Option<PathBuf>,
}

/// Execution settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// How long one subgraph call may take, in milliseconds.
    pub subgraph_timeout_ms: u64,
    /// Per-subgraph overrides of `subgraph_timeout_ms`, by subgraph name.
    pub subgraph_timeouts_ms: std::collections::HashMap<String, u64>,
    /// How often the supergraph file is checked for changes, in milliseconds.
    pub reload_poll_ms: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Identical queries in flight at once share one execution.
    pub inbound_dedup: bool,
    /// Identical subgraph requests of queries in flight share one call.
    pub outbound_dedup: bool,
    /// Identical subscriptions share one run while none has yielded yet.
    pub subscription_dedup: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            subgraph_timeout_ms: 30_000,
            subgraph_timeouts_ms: std::collections::HashMap::new(),
            reload_poll_ms: 1_000,
            max_body_bytes: 2 * 1024 * 1024,
            inbound_dedup: true,
            outbound_dedup: true,
            subscription_dedup: true,
        }
    }
}

impl GatewayConfig {
    pub fn subgraph_timeout(&self) -> Duration {
        Duration::from_millis(self.subgraph_timeout_ms)
    }

    /// The per-subgraph timeouts that differ from the default.
    pub fn subgraph_timeouts(&self) -> std::collections::HashMap<String, Duration> {
        self.subgraph_timeouts_ms
            .iter()
            .map(|(name, ms)| (name.clone(), Duration::from_millis(*ms)))
            .collect()
    }
}
