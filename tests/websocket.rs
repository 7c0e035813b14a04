//! GraphQL over WebSocket on `/graphql`, against a real hub with real frames:
//! the happy paths of both subprotocols (graphql-transport-ws and the legacy
//! graphql-ws), the credential taken from the handshake, the initialisation
//! timeout, malformed messages, and the limits per connection and per
//! principal. `websocket_protocol.rs` has the other refusals (4401, 4409,
//! 4429, 4403, a bad document, HTTP 400 without a subprotocol).

mod tellonce_support;

use std::net::TcpListener;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tellonce_support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A subscription that stays open: checkpoints come rarely in a test.
const CHECKPOINTS: &str = "subscription { ledgerCheckpoints { treeSize } }";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw client: unlike `ws_client`, it shows `pong` messages, so tests can
/// check what the server answers to `ping`.
struct Raw {
    socket: Socket,
}

impl Raw {
    async fn open(http_url: &str, subprotocol: &str, headers: &[(&str, &str)]) -> Raw {
        let mut request = http_url
            .replacen("http", "ws", 1)
            .into_client_request()
            .expect("a WebSocket URL");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            subprotocol.parse().expect("a header value"),
        );
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .expect("a header name"),
                value.parse().expect("a header value"),
            );
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("connect to {http_url}: {e}"));
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(subprotocol),
            "the server echoes the subprotocol it chose"
        );
        Raw { socket }
    }

    /// Opens graphql-transport-ws and has `connection_init` acknowledged.
    async fn acked(http_url: &str) -> Raw {
        let mut client = Raw::open(http_url, "graphql-transport-ws", &[]).await;
        client
            .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {OPERATOR_KEY}") } }))
            .await;
        assert_eq!(client.message().await, json!({ "type": "connection_ack" }));
        client
    }

    async fn send(&mut self, message: Value) {
        self.send_text(message.to_string()).await;
    }

    async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send a frame");
    }

    async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
    }

    /// The next message other than the server's keep-alive `ping` (which it
    /// answers), `pong` included.
    async fn message(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .expect("a message in time")
                .expect("the connection stays open")
                .expect("a frame");
            match frame {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("a JSON message");
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Pings with a payload and waits for its pong: everything sent before
    /// has been handled, since a connection's messages are handled in order.
    async fn round_trip(&mut self, n: u64) {
        self.send(json!({ "type": "ping", "payload": { "n": n } }))
            .await;
        assert_eq!(
            self.message().await,
            json!({ "type": "pong", "payload": { "n": n } })
        );
    }

    /// The close frame the server ends with: its code and reason.
    async fn closed(&mut self, limit: Duration) -> (u16, String) {
        loop {
            let frame = tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("a close in time");
            match frame {
                Some(Ok(Message::Close(Some(close)))) => {
                    return (close.code.into(), close.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a close frame")
                }
                Some(Ok(_)) => {}
            }
        }
    }

    async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

async fn hub() -> (tellonce::server::RunningHub, TestDb) {
    let db = TestDb::sqlite();
    let config = hub_config(&db, Vec::new());
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    (hub, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_transport_ws_answers_next_then_complete_and_pong() {
    let (hub, _db) = hub().await;
    let mut client = Raw::acked(&hub.graphql_url()).await;
    client.round_trip(7).await;

    client.subscribe("q", "{ __typename }").await;
    let next = client.message().await;
    assert_eq!(next["id"], "q", "{next}");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["payload"]["data"]["__typename"], "Query", "{next}");
    assert_eq!(
        client.message().await,
        json!({ "id": "q", "type": "complete" })
    );

    // A subscription must select one field that is not introspection.
    client.subscribe("s", "subscription { __typename }").await;
    let refused = client.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );

    // A completed operation's id is free again (the spec allows reuse).
    client.subscribe("q", "{ __typename }").await;
    assert_eq!(client.message().await["type"], "next");
    assert_eq!(client.message().await["type"], "complete");
    client.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_graphql_ws_acknowledges_streams_stops_and_terminates() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();
    let mut client = Raw::open(&url, "graphql-ws", &[]).await;
    client
        .send(json!({ "type": "connection_init", "payload": { "x-api-key": OPERATOR_KEY } }))
        .await;
    assert_eq!(client.message().await, json!({ "type": "connection_ack" }));
    assert_eq!(client.message().await, json!({ "type": "ka" }));

    client
        .send(json!({ "id": "1", "type": "start", "payload": { "query": "{ __typename }" } }))
        .await;
    let data = client.message().await;
    assert_eq!(data["id"], "1", "{data}");
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["payload"]["data"]["__typename"], "Query");
    assert_eq!(
        client.message().await,
        json!({ "id": "1", "type": "complete" })
    );

    // `stop` ends a long-running operation; nothing more comes for it.
    client
        .send(json!({ "id": "cp", "type": "start", "payload": { "query": CHECKPOINTS } }))
        .await;
    client.send(json!({ "id": "cp", "type": "stop" })).await;
    client
        .send(json!({ "id": "2", "type": "start", "payload": { "query": "{ __typename }" } }))
        .await;
    let data = client.message().await;
    assert_eq!((&data["id"], &data["type"]), (&json!("2"), &json!("data")));

    client.send(json!({ "type": "connection_terminate" })).await;
    let (code, _) = client.closed(Duration::from_secs(10)).await;
    assert_eq!(code, 1000, "connection_terminate closes normally");

    let mut forged = Raw::open(&url, "graphql-ws", &[]).await;
    forged
        .send(json!({ "type": "connection_init", "payload": { "x-api-key": "tok_not-a-key-0123456789abcdef" } }))
        .await;
    let error = forged.message().await;
    assert_eq!(error["type"], "connection_error", "{error}");
    assert_eq!(
        error["payload"]["extensions"]["code"], "UNAUTHENTICATED",
        "{error}"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_may_come_with_the_handshake() {
    let (hub, _db) = hub().await;
    let bearer = format!("Bearer {OPERATOR_KEY}");
    let mut client = Raw::open(
        &hub.graphql_url(),
        "graphql-transport-ws",
        &[("authorization", &bearer)],
    )
    .await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(client.message().await, json!({ "type": "connection_ack" }));
    client.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_and_a_missing_init_close_the_connection() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();

    let mut garbled = Raw::acked(&url).await;
    garbled.send_text("{ not json".into()).await;
    let (code, reason) = garbled.closed(Duration::from_secs(10)).await;
    assert_eq!(code, 4400);
    assert!(reason.contains("JSON"), "{reason}");

    let mut untyped = Raw::acked(&url).await;
    untyped.send(json!({ "id": "1" })).await;
    assert_eq!(untyped.closed(Duration::from_secs(10)).await.0, 4400);

    // The spec's initialisation timeout is 10 s.
    let mut silent = Raw::open(&url, "graphql-transport-ws", &[]).await;
    let (code, reason) = silent.closed(Duration::from_secs(15)).await;
    assert_eq!(code, 4408);
    assert_eq!(reason, "Connection initialisation timeout");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_holds_at_most_100_operations_and_complete_frees_one() {
    let (hub, _db) = hub().await;
    let mut client = Raw::acked(&hub.graphql_url()).await;
    for n in 0..100 {
        client.subscribe(&format!("s{n}"), CHECKPOINTS).await;
    }
    client.subscribe("s100", CHECKPOINTS).await;
    let refused = client.message().await;
    assert_eq!(refused["id"], "s100", "{refused}");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("100")),
        "the message names the limit: {refused}"
    );
    client.round_trip(1).await;

    // Completing one makes room for another.
    client.send(json!({ "id": "s0", "type": "complete" })).await;
    client.subscribe("q", "{ __typename }").await;
    let answer = client.message().await;
    assert_eq!(
        (&answer["id"], &answer["type"]),
        (&json!("q"), &json!("next")),
        "{answer}"
    );
    client.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_holds_at_most_1000_operations_across_connections() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();
    let mut full = Vec::new();
    for c in 0..10 {
        let mut client = Raw::acked(&url).await;
        for n in 0..100 {
            client.subscribe(&format!("c{c}s{n}"), CHECKPOINTS).await;
        }
        // The pong comes after the server has taken the 100 places.
        client.round_trip(c).await;
        full.push(client);
    }
    let mut eleventh = Raw::acked(&url).await;
    eleventh.subscribe("more", CHECKPOINTS).await;
    let refused = eleventh.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1000")),
        "the message names the limit: {refused}"
    );

    // Places are given back when a connection goes.
    if let Some(client) = full.pop() {
        client.close().await;
    }
    eventually("a place freed", Duration::from_secs(10), || {
        let url = url.clone();
        async move {
            let mut client = Raw::acked(&url).await;
            client.subscribe("again", CHECKPOINTS).await;
            client
                .send(json!({ "type": "ping", "payload": { "n": 0 } }))
                .await;
            // The pong first, no error: the operation is open.
            let first = client.message().await;
            client.close().await;
            (first["type"] == "pong").then_some(())
        }
    })
    .await;
    hub.stop().await;
}
