//! The `[telemetry]` section.

use serde::{Deserialize, Serialize};

/// How the hub reports on itself.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Serve Prometheus metrics at `metrics_path`.
    pub metrics: bool,
    /// Where the metrics are served.
    pub metrics_path: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            metrics: true,
            metrics_path: "/metrics".into(),
        }
    }
}
