//! The hub's log lines on standard error: plain text, coloured only on a
//! terminal, or one JSON object per line for log collectors. Every line
//! written while a request runs carries its `request_id` (from the
//! request's span).

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use super::traces::{self, Traces, TracesError};
use super::TelemetryConfig;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines; colour only when standard error is a terminal.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the process's log subscriber. `RUST_LOG` filters the log
/// lines (default `info`, with actix's server chatter at `warn`); with
/// `telemetry` naming an OTLP endpoint, the hub's spans are exported as
/// traces too, for as long as the returned guard lives.
pub fn init_logging(
    format: LogFormat,
    telemetry: Option<&TelemetryConfig>,
) -> Result<Traces, TracesError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let (spans, traces) = match telemetry {
        Some(config) => traces::layer(config)?.unzip(),
        None => (None, None),
    };
    // A second subscriber (a test harness's) is left in place.
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(spans)
        .try_init();
    Ok(traces.unwrap_or_default())
}
