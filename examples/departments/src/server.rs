//! Serves one subgraph's schema (a department's or an agency's) over HTTP (POST /graphql,
//! GET /health) on a bound listener.
//!
//! Each request's hub identity token ([`HUB_TOKEN_HEADER`]) is verified before the request
//! runs, and the outcome is put in the request's data (see [`crate::hub_identity`]).

use crate::hub_identity::{
    HubAuthentication, HubPolicy, HubTokenRejection, HubTokenVerifier, HUB_TOKEN_HEADER,
};
use crate::subgraph::Subgraph;
use crate::DepartmentOptions;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::StatusCode;
use actix_web::{guard, web, App, HttpRequest, HttpResponse, HttpServer, Responder};
use async_graphql::futures_util::StreamExt;
use async_graphql::http::{create_multipart_mixed_stream, is_accept_multipart_mixed};
use async_graphql::Executor;
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A department or agency serving HTTP. Call [`RunningDepartment::stop`] to shut it down
/// gracefully.
#[derive(Debug)]
pub struct RunningDepartment {
    /// Which subgraph this is (compares equal to its [`crate::Department`] or
    /// [`crate::Agency`]).
    pub department: Subgraph,
    pub addr: SocketAddr,
    handle: ServerHandle,
    task: JoinHandle<io::Result<()>>,
}

impl RunningDepartment {
    /// The subgraph name, e.g. `dvla` or `port-health`.
    pub fn name(&self) -> &'static str {
        self.department.name()
    }

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

/// What every request of one subgraph shares.
struct Endpoint<E> {
    executor: E,
    /// `None` when the subgraph was started without the hub's JWKS URL.
    verifier: Option<HubTokenVerifier>,
    policy: HubPolicy,
}

/// Serve `executor` on `listener` (already bound) from a task on the current tokio runtime,
/// verifying hub tokens addressed to `subgraph`'s name.
pub(crate) fn serve<E: Executor>(
    subgraph: impl Into<Subgraph>,
    executor: E,
    listener: TcpListener,
    options: DepartmentOptions,
) -> io::Result<RunningDepartment> {
    let subgraph = subgraph.into();
    let addr = listener.local_addr()?;
    let endpoint = web::Data::from(Arc::new(Endpoint {
        executor,
        verifier: options
            .hub_jwks_url
            .map(|url| HubTokenVerifier::new(url, &options.hub_issuer, subgraph.name())),
        policy: HubPolicy {
            require_hub_token: options.require_hub_token,
        },
    }));
    let server: Server = HttpServer::new(move || {
        App::new()
            .app_data(endpoint.clone())
            .service(
                web::resource("/graphql")
                    .guard(guard::Post())
                    .to(graphql::<E>),
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
        department: subgraph,
        addr,
        handle,
        task,
    })
}

/// POST /graphql: authenticate the hub's token, then execute with the outcome in the data.
async fn graphql<E: Executor>(
    endpoint: web::Data<Endpoint<E>>,
    http_request: HttpRequest,
    request: GraphQLRequest,
) -> HttpResponse {
    let authentication = authenticate(&http_request, endpoint.verifier.as_ref()).await;
    let mut request = request.into_inner().data(endpoint.policy);
    if let HubAuthentication::Verified(caller) = &authentication {
        request = request.data(caller.clone());
    }
    let request = request.data(authentication);
    let multipart = http_request
        .headers()
        .get("accept")
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_accept_multipart_mixed);
    if multipart {
        // As async-graphql-actix-web's own handler does (incremental delivery).
        let stream = endpoint.executor.execute_stream(request, None);
        HttpResponse::build(StatusCode::OK)
            .insert_header(("content-type", "multipart/mixed; boundary=graphql"))
            .streaming(
                create_multipart_mixed_stream(stream, Duration::from_secs(30))
                    .map(Ok::<_, actix_web::Error>),
            )
    } else {
        GraphQLResponse::from(endpoint.executor.execute(request).await).respond_to(&http_request)
    }
}

/// What the request's hub identity token establishes.
async fn authenticate(
    http_request: &HttpRequest,
    verifier: Option<&HubTokenVerifier>,
) -> HubAuthentication {
    let Some(verifier) = verifier else {
        return HubAuthentication::CannotVerify;
    };
    let mut values = http_request.headers().get_all(HUB_TOKEN_HEADER);
    let Some(value) = values.next() else {
        return HubAuthentication::NoToken;
    };
    if values.next().is_some() {
        return HubAuthentication::Rejected(HubTokenRejection::Repeated);
    }
    let Ok(token) = value.to_str() else {
        return HubAuthentication::Rejected(HubTokenRejection::NotText);
    };
    match verifier.verify(token.trim()).await {
        Ok(claims) => HubAuthentication::Verified(claims.into()),
        Err(rejection) => HubAuthentication::Rejected(rejection),
    }
}
