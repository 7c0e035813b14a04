//! Serves one subgraph's schema (a department's or an agency's) over HTTP (POST /graphql,
//! GET /health) and graphql-transport-ws (GET /graphql with `Upgrade: websocket`, for
//! subscriptions) on a bound listener.
//!
//! Each request's hub identity token ([`HUB_TOKEN_HEADER`]) is verified before the request
//! runs, and the outcome is put in the request's data (see [`crate::hub_identity`]). On a
//! WebSocket the token comes in the `connection_init` payload (a key named like the header),
//! or else on the handshake's headers, and is verified when the connection is initialised.

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
use async_graphql::{Data, Executor};
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse, GraphQLSubscription};
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
            .service(
                web::resource("/graphql")
                    .guard(guard::Get())
                    .guard(guard::fn_guard(|ctx| {
                        ctx.head()
                            .headers()
                            .get("upgrade")
                            .and_then(|value| value.to_str().ok())
                            .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
                    }))
                    .to(graphql_ws::<E>),
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

/// GET /graphql with `Upgrade: websocket`: graphql-transport-ws (or the legacy graphql-ws),
/// authenticating the hub's token when the client sends `connection_init`.
async fn graphql_ws<E: Executor>(
    endpoint: web::Data<Endpoint<E>>,
    http_request: HttpRequest,
    payload: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let on_handshake = token_in_headers(&http_request);
    let executor = endpoint.executor.clone();
    GraphQLSubscription::new(executor)
        .on_connection_init(move |init: serde_json::Value| async move {
            let sent = match token_in_payload(&init) {
                TokenSent::None => on_handshake,
                sent => sent,
            };
            let authentication = verify(sent, endpoint.verifier.as_ref()).await;
            let mut data = Data::default();
            data.insert(endpoint.policy);
            if let HubAuthentication::Verified(caller) = &authentication {
                data.insert(caller.clone());
            }
            data.insert(authentication);
            Ok(data)
        })
        .start(&http_request, payload)
}

/// The hub token a request or connection carries, before verification.
enum TokenSent {
    None,
    Repeated,
    NotText,
    One(String),
}

fn token_in_headers(http_request: &HttpRequest) -> TokenSent {
    let mut values = http_request.headers().get_all(HUB_TOKEN_HEADER);
    let Some(value) = values.next() else {
        return TokenSent::None;
    };
    if values.next().is_some() {
        return TokenSent::Repeated;
    }
    match value.to_str() {
        Ok(token) => TokenSent::One(token.to_string()),
        Err(_) => TokenSent::NotText,
    }
}

/// The token in a `connection_init` payload: the key named like the header (any case).
fn token_in_payload(init: &serde_json::Value) -> TokenSent {
    let Some(object) = init.as_object() else {
        return TokenSent::None;
    };
    let mut values = object
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(HUB_TOKEN_HEADER))
        .map(|(_, value)| value);
    let Some(value) = values.next() else {
        return TokenSent::None;
    };
    if values.next().is_some() {
        return TokenSent::Repeated;
    }
    match value.as_str() {
        Some(token) => TokenSent::One(token.to_string()),
        None => TokenSent::NotText,
    }
}

/// What the request's hub identity token establishes.
async fn authenticate(
    http_request: &HttpRequest,
    verifier: Option<&HubTokenVerifier>,
) -> HubAuthentication {
    verify(token_in_headers(http_request), verifier).await
}

async fn verify(sent: TokenSent, verifier: Option<&HubTokenVerifier>) -> HubAuthentication {
    let Some(verifier) = verifier else {
        return HubAuthentication::CannotVerify;
    };
    let token = match sent {
        TokenSent::None => return HubAuthentication::NoToken,
        TokenSent::Repeated => return HubAuthentication::Rejected(HubTokenRejection::Repeated),
        TokenSent::NotText => return HubAuthentication::Rejected(HubTokenRejection::NotText),
        TokenSent::One(token) => token,
    };
    match verifier.verify(token.trim()).await {
        Ok(claims) => HubAuthentication::Verified(claims.into()),
        Err(rejection) => HubAuthentication::Rejected(rejection),
    }
}
