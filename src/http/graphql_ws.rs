//! GraphQL over WebSocket on `/graphql`: the graphql-transport-ws protocol
//! (subprotocol `graphql-transport-ws`, as the graphql-ws library speaks it)
//! and the legacy subscriptions-transport-ws (subprotocol `graphql-ws`).
//!
//! The credential comes with `connection_init` (or the handshake's own
//! headers) and is checked as on every request; each operation runs through
//! [`Gateway::subscribe`](crate::gateway::Gateway::subscribe) as its own task,
//! bounded per connection and per principal. The outgoing buffer is bounded:
//! a client that stops reading is closed, and resumes from its cursor.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use super::subscription_limits::MAX_PER_CONNECTION;
use super::HttpState;
use crate::error_code::ErrorCode;
use crate::gateway::{GraphQLError, GraphQLRequest, GraphQLResponse, RequestContext};

/// Which of the two protocols a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// graphql-transport-ws.
    Modern,
    /// subscriptions-transport-ws.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
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
/// How long one message may wait for room in the outgoing buffer before
/// the client counts as too slow.
const SLOW_CONSUMER: Duration = Duration::from_secs(5);
/// The largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

fn chosen_protocol(request: &HttpRequest) -> Option<Protocol> {
    let offered = request
        .headers()
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

/// GET /graphql with `Upgrade: websocket`.
pub async fn upgrade(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(protocol) = chosen_protocol(&request) else {
        return HttpResponse::BadRequest().json(serde_json::json!({ "errors": [{
            "message": "ask for the WebSocket subprotocol graphql-transport-ws (or the legacy graphql-ws)",
            "extensions": { "code": ErrorCode::BadUserInput.as_str() },
        }]}));
    };
    let (mut response, session, stream) = match actix_ws::handle(&request, body) {
        Ok(parts) => parts,
        Err(error) => return error.error_response(),
    };
    response.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol.name()),
    );
    let text = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let connection = Connection {
        protocol,
        session,
        state,
        handshake_credential: (text("authorization"), text("x-api-key")),
        peer: request.peer_addr().map(|a| a.ip()),
        context: None,
        operations: HashMap::new(),
    };
    let stream = stream
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    actix_web::rt::spawn(connection.run(stream));
    response
}

struct Connection {
    protocol: Protocol,
    session: Session,
    state: web::Data<HttpState>,
    handshake_credential: (Option<String>, Option<String>),
    peer: Option<std::net::IpAddr>,
    /// Set once `connection_init` is accepted.
    context: Option<RequestContext>,
    operations: HashMap<String, actix_web::rt::task::JoinHandle<()>>,
}

/// Why the server ends a connection.
struct Close(u16, String);

/// What an operation's task tells its connection when it stops.
enum OperationEnd {
    Finished(String),
    /// A message waited [`SLOW_CONSUMER`] for room in the outgoing buffer.
    TooSlow,
}

fn too_slow() -> Close {
    Close(
        1013,
        "consumer too slow; resubscribe from your last cursor".into(),
    )
}

impl Connection {
    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream) {
        let (finished_tx, mut finished) = mpsc::unbounded_channel::<OperationEnd>();
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        let outcome: Option<Close> = loop {
            tokio::select! {
                message = stream.recv() => match message {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        if let Err(close) = self.on_text(&text, &finished_tx).await {
                            break Some(close);
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if self.session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        break Some(Close(4400, "messages are JSON text, not binary".into()));
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => break None,
                    Some(Err(error)) => break Some(Close(4400, format!("invalid frame: {error}"))),
                },
                _ = &mut init_deadline, if self.context.is_none() => {
                    break Some(Close(4408, "Connection initialisation timeout".into()));
                }
                _ = keep_alive.tick() => {
                    let beat = match (self.protocol, self.context.is_some()) {
                        (Protocol::Modern, _) => Some(r#"{"type":"ping"}"#),
                        (Protocol::Legacy, true) => Some(r#"{"type":"ka"}"#),
                        (Protocol::Legacy, false) => None,
                    };
                    if let Some(beat) = beat {
                        match tokio::time::timeout(SLOW_CONSUMER, self.session.text(beat)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => break None,
                            Err(_) => break Some(too_slow()),
                        }
                    }
                }
                Some(end) = finished.recv() => match end {
                    OperationEnd::Finished(id) => {
                        if self.operations.get(&id).is_some_and(|task| task.is_finished()) {
                            self.operations.remove(&id);
                        }
                    }
                    OperationEnd::TooSlow => break Some(too_slow()),
                },
            }
        };
        for (_, task) in self.operations.drain() {
            task.abort();
        }
        let reason = outcome.map(|Close(code, description)| CloseReason {
            code: CloseCode::Other(code),
            description: Some(description),
        });
        // A client that reads nothing cannot take even the close frame: give
        // up on it after a while, dropping the connection and its buffers.
        let _ = tokio::time::timeout(SLOW_CONSUMER, self.session.close(reason)).await;
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        self.session
            .text(message.to_string())
            .await
            .map_err(|_| Close(1000, "closed".into()))
    }

    /// One client message; `Err` closes the connection.
    async fn on_text(
        &mut self,
        text: &str,
        finished: &mpsc::UnboundedSender<OperationEnd>,
    ) -> Result<(), Close> {
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
                self.on_subscribe(id, message.get("payload"), finished)
                    .await
            }
            (Protocol::Modern, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(task) = id.and_then(|id| self.operations.remove(&id)) {
                    task.abort();
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

    async fn on_subscribe(
        &mut self,
        id: String,
        payload: Option<&Value>,
        finished: &mpsc::UnboundedSender<OperationEnd>,
    ) -> Result<(), Close> {
        let Some(context) = self.context.clone() else {
            return self
                .refuse(Some(id), "Unauthorized", ErrorCode::Unauthenticated, 4401)
                .await;
        };
        if self
            .operations
            .get(&id)
            .is_some_and(|task| !task.is_finished())
        {
            return self
                .refuse(
                    Some(id.clone()),
                    &format!("Subscriber for {id} already exists"),
                    ErrorCode::BadUserInput,
                    4409,
                )
                .await;
        }
        self.operations.retain(|_, task| !task.is_finished());
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
        let task_id_for_errors = id.clone();
        let context = RequestContext {
            request_id: std::sync::Arc::from(uuid::Uuid::now_v7().to_string()),
            ..context
        };
        let mut session = self.session.clone();
        let finished = finished.clone();
        let task_id = id.clone();
        let refused =
            move |errors: Vec<GraphQLError>| refusal(protocol, &task_id_for_errors, errors);
        let task = actix_web::rt::spawn(async move {
            let _place = place;
            let id_json = Value::String(task_id.clone()).to_string();
            match gateway.subscribe(request, context).await {
                Err(GraphQLResponse { errors, .. }) => {
                    let _ = session.text(refused(errors).to_string()).await;
                }
                Ok(mut responses) => {
                    while let Some(body) = responses.next().await {
                        let mut text = String::with_capacity(body.json.len() + 48);
                        text.push_str("{\"id\":");
                        text.push_str(&id_json);
                        text.push_str(",\"type\":\"");
                        text.push_str(protocol.next_type());
                        text.push_str("\",\"payload\":");
                        text.push_str(&String::from_utf8_lossy(&body.json));
                        text.push('}');
                        match tokio::time::timeout(SLOW_CONSUMER, session.text(text)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => return,
                            // The connection closes it, with every other operation.
                            Err(_) => {
                                let _ = finished.send(OperationEnd::TooSlow);
                                return;
                            }
                        }
                    }
                    let complete = format!("{{\"id\":{id_json},\"type\":\"complete\"}}");
                    let _ = session.text(complete).await;
                }
            }
            let _ = finished.send(OperationEnd::Finished(task_id));
        });
        self.operations.insert(id, task);
        Ok(())
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
