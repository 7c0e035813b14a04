//! OpenTelemetry traces over OTLP/HTTP (JSON), off unless
//! `[telemetry] otlp_endpoint` is set.
//!
//! The hub's `tracing` spans are the trace: `request` (one per HTTP
//! request, continuing a client's W3C `traceparent`), `plan_node` (one per
//! fetch of the query plan) and `subgraph_call` (one per call on the wire,
//! whose context goes to the subgraph as `traceparent`).
//!
//! Whether a request is traced is decided once, when its `request` span is
//! made: a client's sampled flag stands, otherwise `trace_sample_ratio`
//! decides. The OpenTelemetry layer sees only the spans of traced requests
//! (its filter lets a span through when a traced span encloses it), so an
//! untraced request costs one coin toss; the plan and call spans are at
//! `debug` level, so with traces off and the default log filter they are
//! never built at all.
//!
//! Spans leave in batches from the SDK's own thread, so exporting never
//! blocks a request; a full queue drops spans rather than grow.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::TelemetryConfig;

/// Whether spans are exported, so that the hot paths skip context work
/// when they are not.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// The share of new traces kept (an `f64`'s bits).
static SAMPLE_RATIO: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set while a request's root span is made: whether it is traced.
    static ROOT_TRACED: Cell<Option<bool>> = const { Cell::new(None) };
}

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
        // Sampled before any span is made (see the module comment).
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("tellonce");
    SAMPLE_RATIO.store(config.trace_sample_ratio.get().to_bits(), Ordering::Relaxed);
    EXPORTING.store(true, Ordering::Relaxed);
    // What each span carries is what it says; code locations, threads and
    // busy/idle timings would cost every traced request for little.
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
        .with_filter(TracedRequests);
    Ok(Some((
        layer,
        Traces {
            provider: Some(provider),
        },
    )))
}

/// Makes a request's root span with `make`: traced when the client's
/// `traceparent` says it is sampled (the span then continues that trace)
/// or, without one, at the configured ratio.
pub fn request_root(
    headers: &actix_web::http::header::HeaderMap,
    make: impl FnOnce() -> tracing::Span,
) -> tracing::Span {
    if !EXPORTING.load(Ordering::Relaxed) {
        return make();
    }
    let client = headers
        .contains_key("traceparent")
        .then(|| TraceContextPropagator::new().extract(&RequestHeaders(headers)))
        .filter(|cx| cx.span().span_context().is_valid());
    let traced = match &client {
        Some(cx) => cx.span().span_context().is_sampled(),
        None => {
            let ratio = f64::from_bits(SAMPLE_RATIO.load(Ordering::Relaxed));
            ratio >= 1.0 || fastrand::f64() < ratio
        }
    };
    ROOT_TRACED.with(|root| root.set(Some(traced)));
    let span = make();
    ROOT_TRACED.with(|root| root.set(None));
    if let (true, Some(cx)) = (traced, client) {
        let _ = span.set_parent(cx);
    }
    span
}

/// What the OpenTelemetry layer sees: the root span of a traced request,
/// the hub's spans inside one, and warnings and errors logged inside one.
struct TracedRequests;

impl<S> Filter<S> for TracedRequests
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    fn enabled(&self, meta: &tracing::Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if meta.is_span() {
            if let Some(traced) = ROOT_TRACED.with(Cell::get) {
                return traced;
            }
        }
        // Only the innermost span is looked at (the context is this
        // filter's: a span it did not let through is not found), so an
        // untraced request costs one lookup per span, not a walk.
        cx.current_span()
            .id()
            .is_some_and(|id| cx.span(id).is_some())
    }

    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        let ours = meta.target().starts_with("tellonce");
        if ours && (meta.is_span() || *meta.level() <= tracing::Level::WARN) {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::DEBUG)
    }
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
