//! The actix-web application: `/graphql` (POST and GET, GraphQL over HTTP;
//! Server-Sent Events and multipart HTTP for subscriptions; WebSocket
//! handshakes reach [`serve_upgrade`] before the application),
//! `/graphql/stream` (graphql-sse), GraphiQL for browsers, `/health`,
//! `/ready`, Prometheus `/metrics`, the ledger's `/ledger/checkpoint` and
//! tiles, and the ledger explorer at `/ledger`.

// Request errors travel on the cold path; boxing them would only add noise.
#![allow(clippy::result_large_err)]

mod dedup;
mod graphiql;
mod graphql;
mod graphql_ws;
pub mod ledger;
mod ledger_explorer;
mod media;
mod metrics;
mod multipart;
mod sse;
mod subscription_limits;
mod upgrade;

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::hub_token::HubIdentity;
use crate::auth::rate_limit::{RateLimitError, RateLimiter};
use crate::auth::{AuthError, Authenticator, Credential};
use crate::error_code::ErrorCode;
use crate::gateway::reload::LiveGateway;
use crate::gateway::trusted_documents::{DocumentRefusalCode, TrustedDocuments};
use crate::gateway::{
    GraphQLError, GraphQLRequest, GraphQLResponse, RequestContext, RequestLimits,
};
use crate::ledger::Ledger;

pub use dedup::InboundDedup;
pub use graphiql::GraphiqlSettings;
pub use graphql::Refusal;
pub use sse::SseStreams;
pub use subscription_limits::SubscriptionLimits;
pub use upgrade::serve as serve_upgrade;

/// What the HTTP handlers share.
pub struct HttpState {
    pub gateway: Arc<LiveGateway>,
    pub ledger: Arc<Ledger>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Shares one execution among identical queries in flight; `None` turns it off.
    pub inbound_dedup: Option<dedup::InboundDedup>,
    pub authenticator: Arc<Authenticator>,
    pub rate_limiter: Arc<RateLimiter>,
    pub trusted_documents: Arc<TrustedDocuments>,
    pub limits: Arc<RequestLimits>,
    /// Client headers some rule forwards: part of what makes two queries the same.
    pub propagated_headers: Vec<String>,
    /// The hub's identity key, whose JWKS is served at `/.well-known/jwks.json`.
    pub identity: Option<Arc<HubIdentity>>,
    /// What GraphiQL opens with (e.g. the demo's example operation and credential).
    pub graphiql: graphiql::GraphiqlSettings,
    /// Operations open over the streaming transports, per principal.
    pub subscription_limits: Arc<SubscriptionLimits>,
    /// graphql-sse single connection mode: the streams reserved or open.
    pub sse_streams: Arc<SseStreams>,
    /// Where Prometheus metrics are served; `None`: not served.
    pub metrics_path: Option<String>,
}

impl HttpState {
    /// Authenticates the request and spends one unit of its principal's
    /// rate budget: the context it runs in, or why it is refused.
    pub async fn context_for(&self, request: &HttpRequest) -> Result<RequestContext, Refusal> {
        let text = |name: header::HeaderName| {
            request
                .headers()
                .get(name)
                .map(|v| {
                    v.to_str().map_err(|_| {
                        unauthenticated("the credential header is not ASCII text".into())
                    })
                })
                .transpose()
        };
        let authorization = text(header::AUTHORIZATION)?;
        let api_key = text(header::HeaderName::from_static("x-api-key"))?;
        let mut context = self
            .context_for_credential(
                authorization,
                api_key,
                request.peer_addr().map(|addr| addr.ip()),
            )
            .await?;
        // Only headers a rule forwards can matter downstream: copying the
        // others would cost every request for nothing.
        if !self.propagated_headers.is_empty() {
            context.client_headers = request
                .headers()
                .iter()
                .filter(|(name, _)| self.propagated_headers.iter().any(|p| p == name.as_str()))
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                })
                .collect::<Vec<_>>()
                .into();
        }
        Ok(context)
    }

    /// Authenticates a credential given as header values (from HTTP headers,
    /// or a WebSocket's `connection_init` payload) and spends one unit of the
    /// principal's rate budget.
    pub async fn context_for_credential(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
        peer: Option<std::net::IpAddr>,
    ) -> Result<RequestContext, Refusal> {
        let credential = Credential::from_headers(authorization, api_key).map_err(auth_refusal)?;
        let principal = self
            .authenticator
            .authenticate(credential)
            .await
            .map_err(auth_refusal)?;
        let anonymous = principal.is_anonymous();
        let key = if anonymous {
            peer.map(|ip| ip.to_string())
                .unwrap_or_else(|| "unknown".into())
        } else {
            principal.id.clone()
        };
        if let Err(error) = self.rate_limiter.check(&key, anonymous).await {
            return Err(match error {
                RateLimitError::Limited(refusal) => {
                    crate::telemetry::measure::refused("rate_limit");
                    let seconds = refusal.retry_after.as_secs_f64().ceil().max(1.0) as u64;
                    Refusal {
                        status: StatusCode::TOO_MANY_REQUESTS,
                        message: format!("rate limit reached; retry after {seconds} s"),
                        code: ErrorCode::RateLimited,
                        headers: vec![(header::RETRY_AFTER, seconds.to_string())],
                    }
                }
                other => {
                    tracing::warn!(error = %other, "rate limit could not be checked");
                    Refusal {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        message: "the hub cannot check rate limits right now; retry shortly".into(),
                        code: ErrorCode::RateLimited,
                        headers: vec![(header::RETRY_AFTER, "1".into())],
                    }
                }
            });
        }
        let context = RequestContext::new(principal, self.limits.clone());
        tracing::Span::current().record("request_id", &*context.request_id);
        Ok(context)
    }

    /// Fills in a persisted document's text, or refuses the request.
    pub fn resolve_document(&self, request: &mut GraphQLRequest) -> Result<(), GraphQLResponse> {
        self.trusted_documents.resolve(request).map_err(|refusal| {
            let code = match refusal.code {
                DocumentRefusalCode::NotFound => ErrorCode::PersistedQueryNotFound,
                DocumentRefusalCode::NotTrusted => ErrorCode::Forbidden,
                DocumentRefusalCode::HashMismatch | DocumentRefusalCode::Unsupported => {
                    ErrorCode::BadUserInput
                }
            };
            GraphQLResponse::request_error(GraphQLError::new(refusal.message, code))
        })
    }
}

fn unauthenticated(message: String) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        message,
        code: ErrorCode::Unauthenticated,
        headers: vec![(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"tellonce\", error=\"invalid_token\"".into(),
        )],
    }
}

fn auth_refusal(error: AuthError) -> Refusal {
    match error {
        AuthError::Unauthenticated(message) => unauthenticated(message),
        AuthError::Unavailable(message) => {
            tracing::warn!(%message, "credentials could not be checked");
            Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "credentials cannot be checked right now; retry shortly".into(),
                code: ErrorCode::InternalServerError,
                headers: vec![(header::RETRY_AFTER, "1".into())],
            }
        }
    }
}

/// Registers every route of the hub on an actix-web app.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<HttpState>) {
    if let Some(path) = &state.metrics_path {
        cfg.route(path, web::get().to(metrics::get));
    }
    cfg.app_data(web::Data::new(state.ledger.clone()))
        .configure(ledger::configure)
        .configure(ledger_explorer::configure)
        .app_data(state)
        .route("/.well-known/jwks.json", web::get().to(jwks))
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .route(
                    web::get()
                        .guard(actix_web::guard::fn_guard(|ctx| {
                            sse::is_event_stream_get(ctx.head().headers())
                        }))
                        .to(sse::get),
                )
                .route(web::get().to(graphql::get))
                .route(web::route().to(graphql::method_not_allowed)),
        )
        // graphql-sse's own path, every mode; single connection mode's
        // reservations (PUT) and stops (DELETE) are only here.
        .service(
            web::resource("/graphql/stream")
                .route(web::post().to(graphql::post))
                .route(web::get().to(sse::get))
                .route(web::put().to(sse::reserve))
                .route(web::delete().to(sse::stop))
                .route(web::route().to(graphql::method_not_allowed)),
        )
        .route("/graphiql/{file}", web::get().to(graphiql::asset))
        .route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready));
}

/// The hub's identity key, for departments checking its tokens.
async fn jwks(state: web::Data<HttpState>) -> HttpResponse {
    match &state.identity {
        Some(identity) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "max-age=300"))
            .json(identity.jwks()),
        None => HttpResponse::NotFound().json(serde_json::json!({ "keys": [] })),
    }
}

/// Liveness: the process answers.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: a supergraph is loaded and requests can be served.
async fn ready(state: web::Data<HttpState>) -> HttpResponse {
    match state.gateway.current() {
        Some(gateway) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ready",
            "supergraphHash": gateway.supergraph().hash(),
        })),
        None => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "no supergraph loaded",
        })),
    }
}
