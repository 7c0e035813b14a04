//! The actix-web application: `/graphql` (POST and GET, GraphQL over HTTP),
//! GraphiQL for browsers, `/health`, `/ready` and the ledger's `/ledger/checkpoint`.

mod dedup;
mod graphiql;
mod graphql;
pub mod ledger;
mod media;

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use crate::gateway::reload::LiveGateway;
use crate::ledger::Ledger;

pub use dedup::InboundDedup;

/// What the HTTP handlers share.
pub struct HttpState {
    pub gateway: Arc<LiveGateway>,
    pub ledger: Arc<Ledger>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Shares one execution among identical queries in flight; `None` turns it off.
    pub inbound_dedup: Option<dedup::InboundDedup>,
}

/// Registers every route of the hub on an actix-web app.
pub fn configure(cfg: &mut web::ServiceConfig, state: web::Data<HttpState>) {
    let max_body_bytes = state.max_body_bytes;
    cfg.app_data(web::Data::new(state.ledger.clone()))
        .configure(ledger::configure)
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .route(web::get().to(graphql::get))
                .route(web::route().to(graphql::method_not_allowed)),
        )
        .route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready));
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
