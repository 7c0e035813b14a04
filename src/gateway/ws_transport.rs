//! Subscriptions on HTTP subgraphs: the client side of graphql-transport-ws.
//!
//! [`open`] connects to the subgraph's GraphQL URL (http→ws, https→wss) with
//! subprotocol `graphql-transport-ws`, sending the request's headers (among
//! them the hub's identity token) on the handshake and again as the
//! `connection_init` payload, waits for `connection_ack` within the
//! subgraph's timeout, and subscribes with the request body. A task owns the
//! socket: it answers `ping`, forwards each `next` payload as one event, turns
//! `error` into one `{"errors": …}` event, ends on `complete` or a normal close,
//! and reports a connection lost otherwise (no close frame, or a close such as
//! 1001 going away) as `Unavailable`. Dropping
//! the events sends `complete` and closes the socket.

use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, SplitSink, SplitStream, StreamExt};
use futures::SinkExt;
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::transport::{SubgraphEvents, SubgraphRequest, TransportError};

/// The subprotocol spoken.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// The largest message (and frame) accepted from a subgraph.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The id of the one operation each connection carries.
const OPERATION_ID: &str = "1";

/// Events buffered between the socket's task and the subscription.
const EVENT_BUFFER: usize = 16;

/// Handshake headers the WebSocket client sets itself; a forwarded header
/// of one of these names would break the upgrade.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "content-length",
    "content-type",
    "accept",
    "transfer-encoding",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The WebSocket URL of a subgraph's HTTP GraphQL URL.
pub fn websocket_url(url: &reqwest::Url) -> Result<String, String> {
    let text = url.as_str();
    if let Some(rest) = text.strip_prefix("https://") {
        Ok(format!("wss://{rest}"))
    } else if let Some(rest) = text.strip_prefix("http://") {
        Ok(format!("ws://{rest}"))
    } else {
        Err(format!(
            "the subgraph URL {text:?} is neither http nor https, so has no WebSocket URL"
        ))
    }
}

/// Opens one subscription on subgraph `subgraph` at `url` (its HTTP URL).
pub async fn open(
    subgraph: &str,
    url: &reqwest::Url,
    request: SubgraphRequest,
    timeout: Duration,
) -> Result<SubgraphEvents, TransportError> {
    let unavailable = |reason: String| TransportError::Unavailable {
        subgraph: subgraph.to_string(),
        reason,
    };
    let payload: Value = serde_json::from_slice(&request.body)
        .map_err(|e| unavailable(format!("the subscription request is not JSON: {e}")))?;
    let ws_url = websocket_url(url).map_err(unavailable)?;
    let mut handshake = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| unavailable(format!("cannot build the WebSocket request: {e}")))?;
    let mut init = Map::new();
    {
        let headers = handshake.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        for (name, value) in &request.headers {
            init.insert(name.clone(), Value::String(value.clone()));
            if RESERVED_HEADERS
                .iter()
                .any(|reserved| name.eq_ignore_ascii_case(reserved))
            {
                continue;
            }
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(n, v);
            }
        }
        if let Some(id) = &request.request_id {
            if let Ok(v) = HeaderValue::from_str(id) {
                headers.insert("x-request-id", v);
            }
        }
    }
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let opening = async {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(handshake, Some(config), true)
                .await
                .map_err(|e| unavailable(format!("WebSocket connection failed: {e}")))?;
        let (mut sink, mut source) = socket.split();
        send(
            &mut sink,
            json!({"type": "connection_init", "payload": Value::Object(init)}),
        )
        .await
        .map_err(unavailable)?;
        await_ack(&mut sink, &mut source)
            .await
            .map_err(unavailable)?;
        send(
            &mut sink,
            json!({"id": OPERATION_ID, "type": "subscribe", "payload": payload}),
        )
        .await
        .map_err(unavailable)?;
        Ok::<_, TransportError>((sink, source))
    };
    let (sink, source) =
        tokio::time::timeout(timeout, opening)
            .await
            .map_err(|_| TransportError::Timeout {
                subgraph: subgraph.to_string(),
                millis: timeout.as_millis() as u64,
            })??;
    let (events, receiver) = mpsc::channel(EVENT_BUFFER);
    tokio::spawn(pump(subgraph.to_string(), sink, source, events));
    Ok(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (event, receiver))
    })
    .boxed())
}

async fn send(sink: &mut SplitSink<Socket, Message>, message: Value) -> Result<(), String> {
    sink.send(Message::Text(message.to_string().into()))
        .await
        .map_err(|e| format!("WebSocket send failed: {e}"))
}

/// Reads until `connection_ack`, answering pings.
async fn await_ack(
    sink: &mut SplitSink<Socket, Message>,
    source: &mut SplitStream<Socket>,
) -> Result<(), String> {
    loop {
        let frame = match source.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(format!("WebSocket connection failed: {e}")),
            None => return Err("the connection closed before connection_ack".into()),
        };
        match frame {
            Message::Text(text) => {
                let message: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the subgraph sent a message that is not JSON: {e}"))?;
                match message["type"].as_str() {
                    Some("connection_ack") => return Ok(()),
                    Some("ping") => send(sink, json!({"type": "pong"})).await?,
                    Some("pong") => {}
                    other => {
                        return Err(format!(
                            "the subgraph sent {} before connection_ack",
                            other.unwrap_or("a message without a type")
                        ))
                    }
                }
            }
            Message::Close(close) => {
                return Err(match close {
                    Some(frame) => format!(
                        "the subgraph refused the connection: {} {}",
                        u16::from(frame.code),
                        frame.reason
                    ),
                    None => "the subgraph closed the connection before connection_ack".into(),
                })
            }
            _ => {}
        }
    }
}

/// What one frame means for the subscription.
enum Step {
    Event(Bytes),
    /// The last event, then the end.
    Last(Bytes),
    End,
    /// The subgraph went away without completing the operation.
    Lost(String),
    Ignore,
    Pong,
}

fn step(frame: Message) -> Step {
    match frame {
        Message::Text(text) => {
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                return Step::Ignore;
            };
            let for_us = message
                .get("id")
                .and_then(Value::as_str)
                .is_none_or(|id| id == OPERATION_ID);
            match message["type"].as_str() {
                Some("next") if for_us => Step::Event(Bytes::from(message["payload"].to_string())),
                Some("error") if for_us => Step::Last(Bytes::from(
                    json!({"errors": message["payload"].clone()}).to_string(),
                )),
                Some("complete") if for_us => Step::End,
                Some("ping") => Step::Pong,
                _ => Step::Ignore,
            }
        }
        Message::Close(None) => Step::End,
        Message::Close(Some(frame)) if frame.code == CloseCode::Normal => Step::End,
        Message::Close(Some(frame)) => Step::Lost(format!(
            "the subgraph closed the connection mid-subscription: {} {}",
            u16::from(frame.code),
            frame.reason
        )),
        _ => Step::Ignore,
    }
}

/// Owns the socket until the subscription ends or its events are dropped.
async fn pump(
    subgraph: String,
    mut sink: SplitSink<Socket, Message>,
    mut source: SplitStream<Socket>,
    events: mpsc::Sender<Result<Bytes, TransportError>>,
) {
    let lost = |reason: String| TransportError::Unavailable {
        subgraph: subgraph.clone(),
        reason,
    };
    loop {
        let frame = tokio::select! {
            _ = events.closed() => {
                // The client left: tell the subgraph, then close.
                let _ = send(&mut sink, json!({"id": OPERATION_ID, "type": "complete"})).await;
                break;
            }
            frame = source.next() => frame,
        };
        let frame = match frame {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                let _ = events
                    .send(Err(lost(format!("the connection was lost: {e}"))))
                    .await;
                break;
            }
            None => {
                let _ = events
                    .send(Err(lost("the connection closed mid-subscription".into())))
                    .await;
                break;
            }
        };
        match step(frame) {
            Step::Event(body) => {
                if events.send(Ok(body)).await.is_err() {
                    let _ = send(&mut sink, json!({"id": OPERATION_ID, "type": "complete"})).await;
                    break;
                }
            }
            Step::Last(body) => {
                let _ = events.send(Ok(body)).await;
                break;
            }
            Step::End => break,
            Step::Lost(reason) => {
                let _ = events.send(Err(lost(reason))).await;
                break;
            }
            Step::Pong => {
                if send(&mut sink, json!({"type": "pong"})).await.is_err() {
                    let _ = events
                        .send(Err(lost("the connection was lost".into())))
                        .await;
                    break;
                }
            }
            Step::Ignore => {}
        }
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls() {
        let url = |s: &str| reqwest::Url::parse(s).expect("a URL");
        assert_eq!(
            websocket_url(&url("http://127.0.0.1:4001/graphql")).as_deref(),
            Ok("ws://127.0.0.1:4001/graphql")
        );
        assert_eq!(
            websocket_url(&url("https://dvla.example/graphql")).as_deref(),
            Ok("wss://dvla.example/graphql")
        );
        assert!(websocket_url(&url("ftp://x/graphql")).is_err());
    }

    #[test]
    fn frames() {
        let text = |v: Value| Message::Text(v.to_string().into());
        assert!(matches!(
            step(text(json!({"id": "1", "type": "next", "payload": {"data": {}}}))),
            Step::Event(b) if b == r#"{"data":{}}"#
        ));
        assert!(matches!(
            step(text(json!({"id": "1", "type": "error", "payload": [{"message": "no"}]}))),
            Step::Last(b) if b == r#"{"errors":[{"message":"no"}]}"#
        ));
        assert!(matches!(
            step(text(json!({"id": "1", "type": "complete"}))),
            Step::End
        ));
        assert!(matches!(step(text(json!({"type": "ping"}))), Step::Pong));
        assert!(matches!(
            step(text(json!({"id": "2", "type": "next", "payload": {}}))),
            Step::Ignore
        ));
    }
}
