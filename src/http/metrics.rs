//! `GET /metrics` (or the configured path): the Prometheus text format.

use actix_web::{web, HttpResponse};

use super::HttpState;
use crate::telemetry::{render_metrics, ScrapeSources};

pub async fn get(state: web::Data<HttpState>) -> HttpResponse {
    let sources = ScrapeSources {
        gateway: state.gateway.clone(),
        ledger: state.ledger.clone(),
    };
    // Scrape-time gauges read the database.
    match web::block(move || render_metrics(&sources)).await {
        Ok(Some(page)) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(page),
        Ok(None) => HttpResponse::NotFound().body("metrics are not recorded in this process\n"),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
