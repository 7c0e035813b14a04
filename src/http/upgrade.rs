//! Requests that ask for a WebSocket. The HTTP/1 dispatcher hands each one
//! over whole, request and socket, so an open WebSocket keeps nothing of the
//! HTTP machinery (no dispatcher and its fixed read and write buffers, no
//! streamed response body): only the socket, the WebSocket codec's small
//! buffers and the GraphQL protocol's state. At ten thousand subscribers
//! that is most of what a connection costs.
//!
//! Only `/graphql` speaks WebSocket; a bad handshake is answered with an
//! HTTP error naming what is wrong, as any other refused request.

use actix_codec::Framed;
use actix_http::body::BodySize;
use actix_http::{h1, Request, Response, StatusCode};
use actix_server::GracefulShutdownSignal;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, HttpMessage};
use bytes::Bytes;
use futures::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::graphql_ws::{self, Protocol};
use super::HttpState;
use crate::error_code::ErrorCode;
use crate::gateway::{GraphQLError, GraphQLResponse, ResponseBody};

/// Why a WebSocket handshake is refused.
struct Refusal {
    status: StatusCode,
    message: &'static str,
}

const fn refuse(status: StatusCode, message: &'static str) -> Refusal {
    Refusal { status, message }
}

/// Serves one upgrade request, for as long as its WebSocket stays open.
pub async fn serve(
    state: web::Data<HttpState>,
    shutdown: GracefulShutdownSignal,
    request: Request,
    mut framed: Framed<TcpStream, h1::Codec>,
) -> Result<(), actix_web::Error> {
    let (accept, protocol) = match handshake(&request) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            answer(&mut framed, refusal).await;
            return Ok(());
        }
    };
    let mut response = Response::build(StatusCode::SWITCHING_PROTOCOLS);
    response
        .upgrade("websocket")
        .insert_header((header::SEC_WEBSOCKET_ACCEPT, accept))
        .insert_header((header::SEC_WEBSOCKET_PROTOCOL, protocol.name()));
    let response = response.finish().drop_body();
    if framed
        .send(h1::Message::Item((response, BodySize::None)))
        .await
        .is_err()
    {
        return Ok(());
    }
    // Whatever the client sent after its handshake is already WebSocket.
    // The rest (the dispatcher's read and write buffers, the request) is
    // dropped here, not kept for the life of the connection.
    let (io, early) = {
        let parts = framed.into_parts();
        (parts.io, parts.read_buf.to_vec())
    };
    let connection = {
        let socket = WebSocketStream::from_partially_read(
            io,
            early,
            Role::Server,
            Some(graphql_ws::socket_config()),
        )
        .await;
        graphql_ws::Connection::new(
            protocol,
            socket,
            state,
            request.headers(),
            request.peer_addr(),
        )
    };
    drop(request);
    connection.run(shutdown).await;
    Ok(())
}

/// The `Sec-WebSocket-Accept` value and the protocol, or why not.
fn handshake(request: &Request) -> Result<(String, Protocol), Refusal> {
    if request.path() != "/graphql" {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "only /graphql speaks WebSocket",
        ));
    }
    if request.method() != actix_http::Method::GET {
        return Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake is a GET request",
        ));
    }
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(token))
    };
    if !has_token(header::CONNECTION, "upgrade") {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake says Connection: Upgrade",
        ));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "only WebSocket version 13 is spoken (Sec-WebSocket-Version: 13)",
        ));
    }
    let Some(key) = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|key| !key.is_empty())
    else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake carries a Sec-WebSocket-Key",
        ));
    };
    let Some(protocol) = chosen_protocol(headers) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "ask for the WebSocket subprotocol graphql-transport-ws (or the legacy graphql-ws)",
        ));
    };
    Ok((derive_accept_key(key.as_bytes()), protocol))
}

fn chosen_protocol(headers: &HeaderMap) -> Option<Protocol> {
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    if offered.contains(&"graphql-transport-ws") {
        Some(Protocol::Modern)
    } else if offered.contains(&"graphql-ws") {
        Some(Protocol::Legacy)
    } else {
        None
    }
}

/// Answers a refused handshake with a GraphQL error body and closes.
async fn answer(framed: &mut Framed<TcpStream, h1::Codec>, refusal: Refusal) {
    let refused =
        GraphQLResponse::request_error(GraphQLError::new(refusal.message, ErrorCode::BadUserInput));
    let body = Bytes::from(ResponseBody::of(&refused).json);
    let mut response = Response::build(refusal.status);
    response
        .force_close()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::SEC_WEBSOCKET_VERSION, "13"));
    let response = response.finish().drop_body();
    let size = BodySize::Sized(body.len() as u64);
    if framed
        .send(h1::Message::Item((response, size)))
        .await
        .is_ok()
    {
        let _ = framed.send(h1::Message::Chunk(Some(body))).await;
        let _ = framed.send(h1::Message::Chunk(None)).await;
    }
}
