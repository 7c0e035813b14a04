//! Serves one department's schema over HTTP (POST /graphql, GET /health) on a bound listener.

use crate::Department;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{guard, web, App, HttpResponse, HttpServer};
use async_graphql::Executor;
use async_graphql_actix_web::GraphQL;
use std::io;
use std::net::{SocketAddr, TcpListener};
use tokio::task::JoinHandle;

/// A department serving HTTP. Call [`RunningDepartment::stop`] to shut it down gracefully.
#[derive(Debug)]
pub struct RunningDepartment {
    pub department: Department,
    pub addr: SocketAddr,
    handle: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

impl RunningDepartment {
    /// The GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`.
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// Stop accepting connections, let in-flight requests finish, and wait for the server.
    pub async fn stop(self) -> io::Result<()> {
        self.handle.stop(true).await;
        match self.task.await {
            Ok(result) => result,
            Err(join_error) => Err(io::Error::other(join_error)),
        }
    }
}

/// Serve `executor` on `listener` (already bound) from a task on the current tokio runtime.
pub(crate) fn serve<E: Executor>(
    department: Department,
    executor: E,
    listener: TcpListener,
) -> io::Result<RunningDepartment> {
    let addr = listener.local_addr()?;
    let server: Server = HttpServer::new(move || {
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
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningDepartment {
        department,
        addr,
        handle,
        task,
    })
}
