//! GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol
//! (subprotocol `graphql-transport-ws`, as the graphql-ws library speaks it)
//! and the legacy subscriptions-transport-ws (subprotocol `graphql-ws`).
//!
//! The credential comes with `connection_init` (or the handshake's own
//! headers) and is checked as on every request; each operation runs through
//! [`Gateway::subscribe`](crate::gateway::Gateway::subscribe), bounded per
//! connection and per principal. One task per connection serves the client
//! and every operation on it, writing each response straight to the socket
//! ([`super::upgrade`] hands the socket over): the only outgoing buffer is
//! the socket's own, and a client that stops reading is closed, and resumes
//! from its cursor.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_server::GracefulShutdownSignal;
use actix_web::http::header::HeaderMap;
use actix_web::web;
use futures::future::{AbortHandle, Abortable, Aborted, BoxFuture};
use futures::stream::{self, BoxStream, FuturesUnordered, SelectAll};
use futures::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as SocketError, Message};
use tokio_tungstenite::WebSocketStream;

use super::subscription_limits::{SubscriptionPlace, MAX_PER_CONNECTION};
use super::HttpState;
use crate::error_code::ErrorCode;
use crate::gateway::{
    GraphQLError, GraphQLRequest, GraphQLResponse, RequestContext, ResponseBody, ResponseStream,
};

/// Which of the two protocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// graphql-transport-ws.
    Modern,
    /// subscriptions-transport-ws.
    Legacy,
}

impl Protocol {
    pub(super) fn name(self) -> &'static str {
        match self {
            Protocol::Modern => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
    fn next_type(self) -> &'static str {
        match self {
            Protocol::Modern => "next",
            Protocol::Legacy => "data",
        }
    }
}

const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long one message may wait for room in the socket before the client
/// counts as too slow.
const SLOW_CONSUMER: Duration = Duration::from_secs(5);
/// The largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// What the socket reads at a time. Clients send a few small messages; a
/// larger one reserves what its frame header announces, up to
/// [`MAX_MESSAGE_BYTES`].
const READ_CHUNK_BYTES: usize = 1024;
/// The most a close frame's reason may hold (RFC 6455, 5.5).
const MAX_CLOSE_REASON_BYTES: usize = 123;

/// The WebSocket codec's settings for a client connection.
pub(super) fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_CHUNK_BYTES)
        // Each message goes out as it is sent: the socket is the buffer.
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

type Socket = WebSocketStream<TcpStream>;

/// An operation's id, and the same as JSON text, encoded once for every
/// message that names it.
struct OperationId {
    id: String,
    json: String,
}

/// What an operation's stream yields on its connection: its id with the
/// next response, or with `None` when it has ended.
type OperationItem = (Arc<OperationId>, Option<ResponseBody>);

/// An operation whose subscription was being opened.
struct Opened {
    id: String,
    outcome: Result<Result<(ResponseStream, SubscriptionPlace), Vec<GraphQLError>>, Aborted>,
}

/// One WebSocket client: its protocol state and every operation it has open.
/// The connection's one task reads the client, polls its operations' streams
/// and writes each response straight to the socket.
pub(super) struct Connection {
    protocol: Protocol,
    socket: Socket,
    state: web::Data<HttpState>,
    handshake_credential: (Option<String>, Option<String>),
    peer: Option<std::net::IpAddr>,
    /// Set once `connection_init` is accepted.
    context: Option<RequestContext>,
    /// Every operation opening or open, by id; aborting one ends it.
    operations: HashMap<String, AbortHandle>,
    opening: FuturesUnordered<BoxFuture<'static, Opened>>,
    running: SelectAll<BoxStream<'static, OperationItem>>,
}

/// Why the server ends a connection.
struct Close(u16, String);

fn too_slow() -> Close {
    Close(
        1013,
        "consumer too slow; resubscribe from your last cursor".into(),
    )
}

/// What woke the connection.
enum Wake {
    Client(Option<Result<Message, SocketError>>),
    Opened(Opened),
    Operation(OperationItem),
    InitTimeout,
    KeepAlive,
    Shutdown,
}

impl Connection {
    pub(super) fn new(
        protocol: Protocol,
        socket: Socket,
        state: web::Data<HttpState>,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Connection {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Connection {
            protocol,
            socket,
            state,
            handshake_credential: (text("authorization"), text("x-api-key")),
            peer: peer.map(|a| a.ip()),
            context: None,
            operations: HashMap::new(),
            opening: FuturesUnordered::new(),
            running: SelectAll::new(),
        }
    }

    /// Serves the client until it leaves, breaks the protocol, is too slow
    /// or the hub shuts down.
    pub(super) async fn run(mut self, shutdown: GracefulShutdownSignal) {
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        let outcome: Option<Close> = loop {
            let wake = tokio::select! {
                message = self.socket.next() => Wake::Client(message),
                Some(opened) = self.opening.next(), if !self.opening.is_empty() => Wake::Opened(opened),
                Some(item) = self.running.next(), if !self.running.is_empty() => Wake::Operation(item),
                _ = &mut init_deadline, if self.context.is_none() => Wake::InitTimeout,
                _ = keep_alive.tick() => Wake::KeepAlive,
                _ = shutdown.notified() => Wake::Shutdown,
            };
            let step = match wake {
                Wake::Client(message) => match message {
                    Some(Ok(Message::Text(text))) => self.on_text(&text).await,
                    Some(Ok(Message::Binary(_))) => {
                        Err(Close(4400, "messages are JSON text, not binary".into()))
                    }
                    // The codec answers pings itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(()),
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(SocketError::Capacity(error))) => Err(Close(1009, error.to_string())),
                    Some(Err(SocketError::Protocol(error))) => {
                        Err(Close(4400, format!("invalid frame: {error}")))
                    }
                    Some(Err(_)) => break None,
                },
                Wake::Opened(opened) => self.on_opened(opened).await,
                Wake::Operation((id, Some(body))) => self.send_next(&id.json, &body).await,
                Wake::Operation((id, None)) => {
                    self.operations.remove(&id.id);
                    let complete = format!("{{\"id\":{},\"type\":\"complete\"}}", id.json);
                    self.send_text(complete).await
                }
                Wake::InitTimeout => Err(Close(4408, "Connection initialisation timeout".into())),
                Wake::KeepAlive => {
                    let beat = match (self.protocol, self.context.is_some()) {
                        (Protocol::Modern, _) => Some(r#"{"type":"ping"}"#),
                        (Protocol::Legacy, true) => Some(r#"{"type":"ka"}"#),
                        (Protocol::Legacy, false) => None,
                    };
                    match beat {
                        Some(beat) => self.send_text(beat.to_string()).await,
                        None => Ok(()),
                    }
                }
                Wake::Shutdown => Err(Close(
                    1001,
                    "the hub is shutting down; reconnect and resume from your last cursor".into(),
                )),
            };
            if let Err(close) = step {
                break Some(close);
            }
        };
        // Ending the operations now gives back their places and leaves
        // their shared runs before the close handshake's wait.
        drop(std::mem::take(&mut self.running));
        drop(std::mem::take(&mut self.opening));
        let frame = outcome.map(|Close(code, reason)| CloseFrame {
            code: CloseCode::from(code),
            reason: close_reason(reason).into(),
        });
        // A client that reads nothing cannot take even the close frame: give
        // up on it after a while, dropping the connection. One that does
        // answers the close, and only then is the socket closed.
        let socket = &mut self.socket;
        let _ = tokio::time::timeout(SLOW_CONSUMER, async move {
            if socket.close(frame).await.is_ok() {
                while let Some(Ok(_)) = socket.next().await {}
            }
        })
        .await;
    }

    /// Writes one message, waiting at most [`SLOW_CONSUMER`] for room.
    async fn send_text(&mut self, text: String) -> Result<(), Close> {
        match tokio::time::timeout(SLOW_CONSUMER, self.socket.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Close(1000, "closed".into())),
            Err(_) => Err(too_slow()),
        }
    }

    /// An operation's next response, framed without re-encoding its JSON.
    async fn send_next(&mut self, id_json: &str, body: &ResponseBody) -> Result<(), Close> {
        let mut text = String::with_capacity(body.json.len() + id_json.len() + 32);
        text.push_str("{\"id\":");
        text.push_str(id_json);
        text.push_str(",\"type\":\"");
        text.push_str(self.protocol.next_type());
        text.push_str("\",\"payload\":");
        text.push_str(&String::from_utf8_lossy(&body.json));
        text.push('}');
        self.send_text(text).await
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        self.send_text(message.to_string()).await
    }

    /// One client message; `Err` closes the connection.
    async fn on_text(&mut self, text: &str) -> Result<(), Close> {
        let message: Value = serde_json::from_str(text)
            .map_err(|e| Close(4400, format!("the message is not JSON: {e}")))?;
        let kind = message.get("type").and_then(Value::as_str).unwrap_or("");
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        match (self.protocol, kind) {
            (_, "connection_init") => self.on_init(message.get("payload")).await,
            (Protocol::Modern, "ping") => {
                let mut pong = serde_json::json!({ "type": "pong" });
                if let Some(payload) = message.get("payload") {
                    pong["payload"] = payload.clone();
                }
                self.send(pong).await
            }
            (Protocol::Modern, "pong") => Ok(()),
            (Protocol::Modern, "subscribe") | (Protocol::Legacy, "start") => {
                let Some(id) = id else {
                    return self
                        .refuse(None, "the message has no id", ErrorCode::BadUserInput, 4400)
                        .await;
                };
                self.on_subscribe(id, message.get("payload")).await
            }
            (Protocol::Modern, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(operation) = id.and_then(|id| self.operations.remove(&id)) {
                    operation.abort();
                }
                Ok(())
            }
            (Protocol::Legacy, "connection_terminate") => Err(Close(1000, "terminated".into())),
            (_, other) => {
                self.refuse(
                    id,
                    &format!("unknown message type {other:?}"),
                    ErrorCode::BadUserInput,
                    4400,
                )
                .await
            }
        }
    }

    /// A protocol error: graphql-transport-ws closes with `code`; the legacy
    /// protocol answers an `error` message and goes on.
    async fn refuse(
        &mut self,
        id: Option<String>,
        message: &str,
        code: ErrorCode,
        close: u16,
    ) -> Result<(), Close> {
        match self.protocol {
            Protocol::Modern => Err(Close(close, message.to_string())),
            Protocol::Legacy => {
                let mut error = serde_json::json!({ "type": "error", "payload": {
                    "message": message, "extensions": { "code": code.as_str() } } });
                if let Some(id) = id {
                    error["id"] = Value::String(id);
                }
                self.send(error).await
            }
        }
    }

    async fn on_init(&mut self, payload: Option<&Value>) -> Result<(), Close> {
        if self.context.is_some() {
            return self
                .refuse(
                    None,
                    "Too many initialisation requests",
                    ErrorCode::BadUserInput,
                    4429,
                )
                .await;
        }
        let field = |names: &[&str]| {
            names.iter().find_map(|name| {
                payload?
                    .get(*name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        };
        let mut authorization = field(&["Authorization", "authorization"]);
        let mut api_key = field(&["x-api-key", "X-Api-Key", "X-API-Key"]);
        if authorization.is_none() && api_key.is_none() {
            (authorization, api_key) = self.handshake_credential.clone();
        }
        match self
            .state
            .context_for_credential(authorization.as_deref(), api_key.as_deref(), self.peer)
            .await
        {
            Ok(context) => {
                self.context = Some(context);
                self.send(serde_json::json!({ "type": "connection_ack" }))
                    .await?;
                if self.protocol == Protocol::Legacy {
                    self.send(serde_json::json!({ "type": "ka" })).await?;
                }
                Ok(())
            }
            Err(refusal) => match self.protocol {
                Protocol::Modern => Err(Close(4403, format!("Forbidden: {}", refusal.message))),
                Protocol::Legacy => {
                    self.send(serde_json::json!({ "type": "connection_error", "payload": {
                        "message": refusal.message, "extensions": { "code": refusal.code.as_str() } } }))
                        .await?;
                    Err(Close(4403, "Forbidden".into()))
                }
            },
        }
    }

    async fn on_subscribe(&mut self, id: String, payload: Option<&Value>) -> Result<(), Close> {
        let Some(context) = self.context.clone() else {
            return self
                .refuse(Some(id), "Unauthorized", ErrorCode::Unauthenticated, 4401)
                .await;
        };
        if self.operations.contains_key(&id) {
            return self
                .refuse(
                    Some(id.clone()),
                    &format!("Subscriber for {id} already exists"),
                    ErrorCode::BadUserInput,
                    4409,
                )
                .await;
        }
        let protocol = self.protocol;
        let refused = |errors: Vec<GraphQLError>| refusal(protocol, &id, errors);
        if self.operations.len() >= MAX_PER_CONNECTION {
            crate::telemetry::measure::refused("subscriptions_per_connection");
            return self
                .send(refused(vec![GraphQLError::new(
                    format!(
                        "this connection already has {MAX_PER_CONNECTION} operations open (the most one may have)"
                    ),
                    ErrorCode::RateLimited,
                )]))
                .await;
        }
        let Some(place) = self
            .state
            .subscription_limits
            .take(&context.principal.id, "websocket")
        else {
            let limit = self.state.subscription_limits.limit();
            return self
                .send(refused(vec![GraphQLError::new(
                    format!("you already have {limit} operations open (the most one principal may have)"),
                    ErrorCode::RateLimited,
                )]))
                .await;
        };
        let mut request: GraphQLRequest = match payload.cloned().map(serde_json::from_value) {
            Some(Ok(request)) => request,
            Some(Err(error)) => {
                return self
                    .send(refused(vec![GraphQLError::new(
                        format!("the subscribe payload is not a GraphQL request: {error}"),
                        ErrorCode::BadUserInput,
                    )]))
                    .await
            }
            None => {
                return self
                    .send(refused(vec![GraphQLError::new(
                        "the subscribe message has no payload",
                        ErrorCode::BadUserInput,
                    )]))
                    .await
            }
        };
        if let Err(response) = self.state.resolve_document(&mut request) {
            return self.send(refused(response.errors)).await;
        }
        let Some(gateway) = self.state.gateway.current() else {
            return self
                .send(refused(vec![GraphQLError::new(
                    "no supergraph is loaded yet; retry shortly",
                    ErrorCode::SubgraphUnavailable,
                )]))
                .await;
        };
        let context = RequestContext {
            request_id: Arc::from(uuid::Uuid::now_v7().to_string()),
            ..context
        };
        let (handle, registration) = AbortHandle::new_pair();
        self.operations.insert(id.clone(), handle);
        let open = async move {
            match gateway.subscribe(request, context).await {
                Ok(responses) => Ok((responses, place)),
                Err(GraphQLResponse { errors, .. }) => Err(errors),
            }
        };
        self.opening.push(
            Abortable::new(open, registration)
                .map(move |outcome| Opened { id, outcome })
                .boxed(),
        );
        Ok(())
    }

    /// An operation's subscription opened (its responses now flow) or was
    /// refused.
    async fn on_opened(&mut self, Opened { id, outcome }: Opened) -> Result<(), Close> {
        match outcome {
            // The client completed it while it was opening.
            Err(Aborted) => Ok(()),
            Ok(Err(errors)) => {
                self.operations.remove(&id);
                let refused = refusal(self.protocol, &id, errors);
                self.send(refused).await
            }
            Ok(Ok((responses, place))) => {
                let (handle, registration) = AbortHandle::new_pair();
                self.operations.insert(id.clone(), handle);
                let json = Value::String(id.clone()).to_string();
                let id = Arc::new(OperationId { id, json });
                let ended = id.clone();
                let tagged = responses
                    .map(move |body| (id.clone(), Some(body)))
                    // The place is given back when the operation ends, or
                    // with the stream when it is completed or the client goes.
                    .chain(stream::once(async move {
                        drop(place);
                        (ended, None)
                    }));
                self.running
                    .push(Abortable::new(tagged, registration).boxed());
                Ok(())
            }
        }
    }
}

/// An operation's `error` message.
fn refusal(protocol: Protocol, id: &str, errors: Vec<GraphQLError>) -> Value {
    let payload = match protocol {
        Protocol::Modern => serde_json::to_value(&errors).unwrap_or(Value::Null),
        // The legacy protocol carries one error object.
        Protocol::Legacy => errors
            .first()
            .and_then(|e| serde_json::to_value(e).ok())
            .unwrap_or(Value::Null),
    };
    serde_json::json!({ "id": id, "type": "error", "payload": payload })
}

/// `reason` cut to what a close frame may carry, at a character boundary.
fn close_reason(mut reason: String) -> String {
    if reason.len() > MAX_CLOSE_REASON_BYTES {
        let mut end = MAX_CLOSE_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}
