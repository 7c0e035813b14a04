//! The WebSocket protocols' rules against a real hub: each bad message gets
//! the protocol's answer (graphql-transport-ws close codes, the legacy
//! protocol's error messages), and a refused operation leaves the connection
//! usable.

mod tellonce_support;
mod ws_client;

use std::net::TcpListener;
use std::time::Duration;

use serde_json::json;
use tellonce_support::*;
use ws_client::WsClient;

async fn hub() -> (tellonce::server::RunningHub, TestDb) {
    let db = TestDb::sqlite();
    let config = hub_config(&db, Vec::new());
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    (hub, db)
}

const CHECKPOINTS: &str = "subscription { ledgerCheckpoints { treeSize } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_transport_ws_refuses_what_the_protocol_refuses() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();

    let mut early = WsClient::open(&url, "graphql-transport-ws").await;
    early.subscribe("1", CHECKPOINTS, json!({})).await;
    assert_eq!(
        early.closed().await.0,
        4401,
        "subscribe before connection_init"
    );

    let mut unknown = WsClient::connect(&url, OPERATOR_KEY).await;
    unknown.send(json!({ "type": "shout" })).await;
    let (code, reason) = unknown.closed().await;
    assert_eq!(code, 4400);
    assert!(reason.contains("shout"), "{reason}");

    let mut twice = WsClient::connect(&url, OPERATOR_KEY).await;
    twice.send(json!({ "type": "connection_init" })).await;
    assert_eq!(twice.closed().await.0, 4429, "a second connection_init");

    let mut duplicate = WsClient::connect(&url, OPERATOR_KEY).await;
    duplicate.subscribe("same", CHECKPOINTS, json!({})).await;
    duplicate.subscribe("same", CHECKPOINTS, json!({})).await;
    let (code, reason) = duplicate.closed().await;
    assert_eq!(code, 4409);
    assert!(reason.contains("same"), "{reason}");

    let mut forged = WsClient::open(&url, "graphql-transport-ws").await;
    forged
        .send(json!({ "type": "connection_init", "payload": { "x-api-key": "tok_not-a-key-0123456789abcdef" } }))
        .await;
    assert_eq!(forged.closed().await.0, 4403, "a bad credential");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_operation_leaves_the_connection_usable() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();
    let mut client = WsClient::connect(&url, OPERATOR_KEY).await;
    client
        .subscribe("bad", "subscription { noSuchField }", json!({}))
        .await;
    let error = client.message(Duration::from_secs(10)).await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "bad");
    assert_eq!(
        error["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{error}"
    );

    for n in 0..100 {
        client
            .subscribe(&format!("s{n}"), CHECKPOINTS, json!({}))
            .await;
    }
    client
        .subscribe("one-too-many", CHECKPOINTS, json!({}))
        .await;
    let refused = client.message(Duration::from_secs(10)).await;
    assert_eq!(refused["id"], "one-too-many", "{refused}");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");

    client.send(json!({ "type": "ping" })).await;
    client.send(json!({ "id": "s0", "type": "complete" })).await;
    client.subscribe("q", "{ __typename }", json!({})).await;
    let answer = client.next_payload("q").await;
    assert_eq!(answer["data"]["__typename"], "Query", "{answer}");
    client.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_protocol_answers_errors_as_messages() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url();
    let mut client = WsClient::open(&url, "graphql-ws").await;
    client
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {OPERATOR_KEY}") } }))
        .await;
    let ack = client.message(Duration::from_secs(10)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let ka = client.message(Duration::from_secs(10)).await;
    assert_eq!(ka["type"], "ka", "{ka}");
    client.send(json!({ "type": "shout", "id": "x" })).await;
    let error = client.message(Duration::from_secs(10)).await;
    assert_eq!(error["type"], "error", "{error}");
    client
        .send(json!({ "id": "1", "type": "start", "payload": { "query": "{ __typename }" } }))
        .await;
    let data = client.message(Duration::from_secs(10)).await;
    assert_eq!(data["type"], "data", "{data}");
    assert_eq!(data["payload"]["data"]["__typename"], "Query");
    let complete = client.message(Duration::from_secs(10)).await;
    assert_eq!(complete, json!({ "id": "1", "type": "complete" }));
    client.close().await;
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_without_a_graphql_subprotocol_is_refused() {
    let (hub, _db) = hub().await;
    let url = hub.graphql_url().replacen("http", "ws", 1);
    let refused = tokio_tungstenite::connect_async(url).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400)
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    hub.stop().await;
}
