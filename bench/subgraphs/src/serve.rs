//! Serves one subgraph schema over HTTP: POST /graphql and GET /health.

use std::io;
use std::net::SocketAddr;

use actix_web::dev::Server;
use actix_web::{guard, web, App, HttpResponse, HttpServer};
use async_graphql::Executor;
use async_graphql_actix_web::GraphQL;

/// An HTTP server for `executor` on `addr` with `workers` threads.
pub fn serve<E: Executor>(executor: E, addr: SocketAddr, workers: usize) -> io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .service(
                web::resource("/graphql")
                    .guard(guard::Post())
                    .to(GraphQL::new(executor.clone())),
            )
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
    })
    .workers(workers)
    .backlog(4096)
    .disable_signals()
    .bind(addr)?
    .run())
}
