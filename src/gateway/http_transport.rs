//! Subgraph calls over HTTP: pooled keep-alive clients (one per calling
//! thread), a timeout per subgraph, GraphQL-over-HTTP JSON bodies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use tracing::Instrument;

use super::transport::{SubgraphEvents, SubgraphRequest, SubgraphTransport, TransportError};
use crate::telemetry::measure::{SubgraphMeter, SubgraphOutcome};

const ACCEPT_VALUE: &str = "application/graphql-response+json, application/json";

/// The pooled HTTP clients the transports of one gateway share, one per
/// thread that calls subgraphs. A pooled connection's I/O runs on the
/// runtime of the thread that opened it, so one client shared by the
/// server's worker threads hands a call to another thread and back (two
/// cross-thread wake-ups per call, which showed in the profile); a client
/// per thread keeps each call on the thread that makes it.
#[derive(Default)]
pub struct SubgraphClients {
    per_thread: thread_local::ThreadLocal<reqwest::Client>,
}

impl SubgraphClients {
    /// This thread's client, built on first use.
    pub fn client(&self) -> Result<&reqwest::Client, reqwest::Error> {
        self.per_thread.get_or_try(build_client)
    }
}

fn build_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
}

/// One department subgraph reached over HTTP.
pub struct HttpTransport {
    clients: Arc<SubgraphClients>,
    name: String,
    /// Parsed once: parsing a URL on every call showed in the profile. A
    /// URL that does not parse fails each call with the reason.
    url: Result<reqwest::Url, String>,
    timeout: Duration,
    meter: SubgraphMeter,
}

impl HttpTransport {
    pub fn new(clients: Arc<SubgraphClients>, name: &str, url: &str, timeout: Duration) -> Self {
        HttpTransport {
            clients,
            name: name.to_string(),
            url: reqwest::Url::parse(url)
                .map_err(|e| format!("the subgraph URL {url:?} is not a valid URL: {e}")),
            timeout,
            meter: SubgraphMeter::new(name),
        }
    }

    /// One call on the wire, in its own span (debug level: built only when
    /// traces or debug logs want it) whose context the subgraph receives.
    async fn send(&self, request: SubgraphRequest) -> Result<Bytes, TransportError> {
        let span = tracing::debug_span!(
            "subgraph_call",
            subgraph = %self.name,
            otel.kind = "client",
            http.response.status_code = tracing::field::Empty,
        );
        self.send_in_span(request).instrument(span).await
    }

    async fn send_in_span(&self, request: SubgraphRequest) -> Result<Bytes, TransportError> {
        let url = self
            .url
            .clone()
            .map_err(|reason| TransportError::Unavailable {
                subgraph: self.name.clone(),
                reason,
            })?;
        let client = self
            .clients
            .client()
            .map_err(|e| TransportError::Unavailable {
                subgraph: self.name.clone(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        let mut builder = client
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, ACCEPT_VALUE);
        for (name, value) in &request.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                builder = builder.header(n, v);
            }
        }
        if let Some(id) = &request.request_id {
            if let Ok(v) = HeaderValue::from_str(id) {
                builder = builder.header("x-request-id", v);
            }
        }
        for (name, value) in crate::telemetry::trace_headers() {
            builder = builder.header(name, value);
        }
        let unavailable = |e: reqwest::Error| {
            if e.is_timeout() {
                TransportError::Timeout {
                    subgraph: self.name.clone(),
                    millis: self.timeout.as_millis() as u64,
                }
            } else {
                TransportError::Unavailable {
                    subgraph: self.name.clone(),
                    reason: without_url(e).to_string(),
                }
            }
        };
        let started = std::time::Instant::now();
        let sent = async {
            let response = builder
                .body(request.body)
                .send()
                .await
                .map_err(unavailable)?;
            let status = response.status();
            tracing::Span::current().record("http.response.status_code", status.as_u16());
            let body = response.bytes().await.map_err(unavailable)?;
            if status.is_success() {
                Ok(body)
            } else {
                Err(TransportError::Status {
                    subgraph: self.name.clone(),
                    status: status.as_u16(),
                    body,
                })
            }
        }
        .await;
        let outcome = match &sent {
            Ok(_) => SubgraphOutcome::Ok,
            Err(TransportError::Timeout { .. }) => SubgraphOutcome::Timeout,
            Err(TransportError::Status { .. }) => SubgraphOutcome::HttpError,
            Err(_) => SubgraphOutcome::Unavailable,
        };
        self.meter.call(outcome, started.elapsed());
        sent
    }
}

fn without_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

impl SubgraphTransport for HttpTransport {
    fn call(&self, request: SubgraphRequest) -> BoxFuture<'_, Result<Bytes, TransportError>> {
        Box::pin(self.send(request))
    }

    /// Over graphql-transport-ws on the same URL (see [`super::ws_transport`]).
    fn subscribe(
        &self,
        request: SubgraphRequest,
    ) -> BoxFuture<'_, Result<SubgraphEvents, TransportError>> {
        Box::pin(async move {
            let url = self
                .url
                .as_ref()
                .map_err(|reason| TransportError::Unavailable {
                    subgraph: self.name.clone(),
                    reason: reason.clone(),
                })?;
            super::ws_transport::open(&self.name, url, request, self.timeout).await
        })
    }
}
