//! What the hub tells the people running it: Prometheus metrics (every
//! `tellonce_*` name is in [`measure`]), OpenTelemetry traces over OTLP
//! when configured, its logs (plain text on a terminal, without colour
//! codes elsewhere, or JSON lines) and the progress of long commands on a
//! terminal.
//!
//! Metrics go to one process-wide recorder, installed on first use: every
//! hub in a process (tests start several) reports into it, and `/metrics`
//! renders it with the gauges read at scrape time added.

mod config;
mod exporter;
mod logs;
pub mod measure;
mod progress;
mod traces;

pub use config::{OtlpEndpoint, SampleRatio, TelemetryConfig};
pub use exporter::{install_metrics, render_metrics, ScrapeSources};
pub use logs::{init_logging, LogFormat};
pub use progress::{progress_bar, reporter, spinner};
pub use traces::{request_root, trace_headers, Traces, TracesError};
