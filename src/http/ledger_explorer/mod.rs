//! The ledger explorer at `/ledger`: a page, served from the binary with its
//! script and style, that shows the latest checkpoint and its witnesses,
//! finds entries by sequence, kind or subject hash, and checks an entry's
//! inclusion proof against the signed checkpoint in the browser. It reads
//! only the public ledger API (`/ledger/checkpoint`, `/ledger/key`, the
//! `ledgerEntries`, `ledgerEntry` and `inclusionProof` queries).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::ledger::Ledger;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("explorer.js");
const STYLE: &str = include_str!("explorer.css");

/// Only the hub: the page's own script and style, and requests to the hub.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds the explorer's routes; the app must hold `web::Data<Arc<Ledger>>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ledger", web::get().to(page))
        .route("/ledger/explorer.js", web::get().to(script))
        .route("/ledger/explorer.css", web::get().to(style))
        .route("/ledger/key", web::get().to(verifier_key));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PAGE)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

/// The C2SP note verifier key the hub signs checkpoints with
/// (`name+keyhash+base64`), as `tellonce ledger key` prints it.
async fn verifier_key(ledger: web::Data<Arc<Ledger>>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", ledger.verifier().to_vkey()))
}
