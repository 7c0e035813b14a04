//! Plain-HTTP ledger endpoints: `GET /ledger/checkpoint` serves the latest
//! signed checkpoint note (C2SP tlog-checkpoint, with witness cosignature
//! lines) as `text/plain`; 404 before the first checkpoint.

use std::sync::Arc;

use actix_web::{web, HttpResponse};

use crate::ledger::Ledger;

/// Adds the ledger routes; the app must hold `web::Data<Arc<Ledger>>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ledger/checkpoint", web::get().to(latest_checkpoint));
}

async fn latest_checkpoint(ledger: web::Data<Arc<Ledger>>) -> HttpResponse {
    let ledger = Arc::clone(ledger.get_ref());
    match web::block(move || ledger.latest_checkpoint()).await {
        Ok(Ok(Some(cp))) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(cp.note_with_cosignatures()),
        Ok(Ok(None)) => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no checkpoint has been issued yet\n"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "reading the latest checkpoint failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("the ledger is unavailable\n")
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
