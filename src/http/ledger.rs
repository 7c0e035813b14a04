//! Plain-HTTP ledger endpoints, the C2SP tlog-tiles read API under the
//! prefix `/ledger`: `GET /ledger/checkpoint` serves the latest signed
//! checkpoint note (C2SP tlog-checkpoint, with witness cosignature lines) as
//! `text/plain`, cached for no more than a few seconds; `GET
//! /ledger/tile/<L>/<N>[.p/<W>]` and `/ledger/tile/entries/<N>[.p/<W>]`
//! serve hash tiles and entry bundles, immutable; `POST
//! /ledger/checkpoint/cosignatures` takes witnesses' cosignature lines
//! (C2SP tlog-cosignature) for a checkpoint and answers with the note as
//! now served. A cosignature proves itself (it must verify under a
//! configured witness key), so the endpoint needs no other credential.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::ledger::checkpoint::CheckpointError;
use crate::ledger::tiles::TileId;
use crate::ledger::{Ledger, LedgerError};

/// Largest cosignature request body: a line is under 200 bytes.
const MAX_COSIGNATURE_BODY: usize = 16 * 1024;

/// Adds the ledger routes; the app must hold `web::Data<Arc<Ledger>>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ledger/checkpoint", web::get().to(latest_checkpoint))
        .route("/ledger/tile/{tail:.*}", web::get().to(tile))
        .service(
            web::resource("/ledger/checkpoint/cosignatures")
                .app_data(web::PayloadConfig::new(MAX_COSIGNATURE_BODY))
                .route(web::post().to(add_cosignatures)),
        );
}

fn text(status: actix_web::http::StatusCode, body: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body.into())
}

/// A tile's content for a given width never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn tile(ledger: web::Data<Arc<Ledger>>, tail: web::Path<String>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let id = match TileId::parse(&tail) {
        Ok(id) => id,
        Err(error) => return text(StatusCode::NOT_FOUND, format!("no such tile: {error}\n")),
    };
    let ledger = Arc::clone(ledger.get_ref());
    match web::block(move || ledger.tile(&id)).await {
        Ok(Ok(Some(bytes))) => HttpResponse::Ok()
            .content_type("application/octet-stream")
            .insert_header(("cache-control", IMMUTABLE))
            .body(bytes),
        Ok(Ok(None)) => text(
            StatusCode::NOT_FOUND,
            "the ledger does not hold this tile yet\n",
        ),
        Ok(Err(error)) => {
            tracing::error!(%error, "reading a tile failed");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger is unavailable\n",
            )
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[derive(Debug, Deserialize)]
struct CosignatureQuery {
    /// The checkpoint's tree size [default: the latest checkpoint].
    size: Option<u64>,
}

/// Stores every line of the body as a cosignature of the checkpoint of
/// `?size=` (or the latest), in order. A refused line ends the request and
/// the answer names it; lines before it stay stored, each being a valid
/// cosignature on its own.
async fn add_cosignatures(
    ledger: web::Data<Arc<Ledger>>,
    query: web::Query<CosignatureQuery>,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Ok(body) = std::str::from_utf8(&body) else {
        return text(StatusCode::BAD_REQUEST, "the body must be UTF-8 text\n");
    };
    let lines: Vec<String> = body
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        return text(
            StatusCode::BAD_REQUEST,
            "send one or more cosignature lines (`— <witness name> <base64>`), one per line\n",
        );
    }
    let ledger = Arc::clone(ledger.get_ref());
    let size = query.size;
    let outcome = web::block(move || {
        let size = match size {
            Some(size) => size,
            None => match ledger.latest_checkpoint()? {
                Some(cp) => cp.tree_size,
                None => return Ok(None),
            },
        };
        for (number, line) in lines.iter().enumerate() {
            ledger
                .add_cosignature(size, line)
                .map_err(|error| (number + 1, error))?;
        }
        Ok(ledger.checkpoint_at(size)?)
    })
    .await;
    match outcome {
        Ok(Ok(Some(cp))) => text(StatusCode::OK, cp.note_with_cosignatures()),
        Ok(Ok(None)) => text(
            StatusCode::NOT_FOUND,
            "no checkpoint of that tree size has been issued\n",
        ),
        Ok(Err(CosignatureFailure::Line(number, error))) => {
            let status = match &error {
                LedgerError::NotFound(_) => StatusCode::NOT_FOUND,
                LedgerError::Checkpoint(CheckpointError::UnknownWitness) => StatusCode::FORBIDDEN,
                LedgerError::Storage(_) | LedgerError::Busy { .. } | LedgerError::CommitAborted => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::BAD_REQUEST,
            };
            text(status, format!("line {number}: {error}\n"))
        }
        Ok(Err(CosignatureFailure::Ledger(error))) => {
            tracing::error!(%error, "storing cosignatures failed");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger is unavailable\n",
            )
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// Why cosignatures were not all stored: a line (1-based) was refused, or
/// the ledger could not be read.
enum CosignatureFailure {
    Line(usize, LedgerError),
    Ledger(LedgerError),
}

impl From<(usize, LedgerError)> for CosignatureFailure {
    fn from((number, error): (usize, LedgerError)) -> Self {
        CosignatureFailure::Line(number, error)
    }
}

impl From<LedgerError> for CosignatureFailure {
    fn from(error: LedgerError) -> Self {
        CosignatureFailure::Ledger(error)
    }
}

async fn latest_checkpoint(ledger: web::Data<Arc<Ledger>>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let ledger = Arc::clone(ledger.get_ref());
    match web::block(move || ledger.published_checkpoint()).await {
        Ok(Ok(Some(cp))) => {
            let mut response = text(StatusCode::OK, cp.note_with_cosignatures());
            // The checkpoint moves: clients must not cache it beyond a few seconds.
            response.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("public, max-age=2"),
            );
            response
        }
        Ok(Ok(None)) => text(
            StatusCode::NOT_FOUND,
            "no checkpoint has yet been cosigned by as many witnesses as ledger.witness_quorum asks\n",
        ),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "reading the latest checkpoint failed");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the ledger is unavailable\n",
            )
        }
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
