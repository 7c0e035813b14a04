//! OpenTelemetry traces over OTLP/HTTP (JSON), off unless
//! `[telemetry] otlp_endpoint` is set.
//!
//! The hub's `tracing` spans are the trace: `request` (one per HTTP
//! request, continuing a client's W3C `traceparent`), `plan_node` (one per
//! fetch of the query plan) and `subgraph_call` (one per call on the wire,
//! whose context goes to the subgraph as `traceparent`). The plan and call
//! spans are at `debug` level, so with traces off and the default log
//! filter they are never built.
//!
//! Spans leave in batches from the SDK's own thread, so exporting never
//! blocks a request; a full queue drops spans rather than grow.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::TelemetryConfig;

/// Whether spans are exported, so that the hot paths skip context work
/// when they are not.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Why traces could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot export traces to {endpoint}: {source}")]
pub struct TracesError {
    endpoint: String,
    #[source]
    source: opentelemetry_otlp::ExporterBuildError,
}

/// Keeps the exporter running; dropping it sends the spans still queued.
#[must_use = "traces stop being exported when this is dropped"]
#[derive(Default)]
pub struct Traces {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            EXPORTING.store(false, Ordering::Relaxed);
            if let Err(error) = provider.shutdown() {
                eprintln!("warning: the last traces were not all sent: {error}");
            }
        }
    }
}

/// The layer that turns the hub's spans into OpenTelemetry spans, and the
/// guard that keeps it exporting; `None` when traces are off.
pub(super) fn layer<S>(
    config: &TelemetryConfig,
) -> Result<Option<(impl Layer<S> + Send + Sync, Traces)>, TracesError>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    let Some(endpoint) = &config.otlp_endpoint else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(endpoint.as_str())
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|source| TracesError {
            endpoint: endpoint.to_string(),
            source,
        })?;
    let batches = BatchConfigBuilder::default()
        .with_scheduled_delay(Duration::from_millis(config.otlp_export_ms.max(1)))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(
            BatchSpanProcessor::builder(exporter)
                .with_batch_config(batches)
                .build(),
        )
        // A client's sampling decision stands; new traces are sampled at
        // the configured ratio.
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.trace_sample_ratio.get(),
        ))))
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("tellonce");
    EXPORTING.store(true, Ordering::Relaxed);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(Targets::new().with_target("tellonce", tracing::Level::DEBUG));
    Ok(Some((
        layer,
        Traces {
            provider: Some(provider),
        },
    )))
}

/// Makes `span` continue the trace the request's `traceparent` (and
/// `tracestate`) names, when traces are exported and the header is valid.
pub fn continue_client_trace(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    if !EXPORTING.load(Ordering::Relaxed) || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&RequestHeaders(headers));
    let _ = span.set_parent(parent);
}

/// The W3C trace headers that carry the current span to a subgraph; none
/// when traces are not exported.
pub fn trace_headers() -> Vec<(&'static str, String)> {
    if !EXPORTING.load(Ordering::Relaxed) {
        return Vec::new();
    }
    let mut headers = OutgoingHeaders(Vec::with_capacity(1));
    TraceContextPropagator::new().inject_context(&tracing::Span::current().context(), &mut headers);
    headers.0
}

struct RequestHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

struct OutgoingHeaders(Vec<(&'static str, String)>);

impl Injector for OutgoingHeaders {
    fn set(&mut self, key: &str, value: String) {
        // The W3C propagator sets only these two.
        let name = match key {
            "traceparent" => "traceparent",
            "tracestate" => "tracestate",
            _ => return,
        };
        self.0.push((name, value));
    }
}
