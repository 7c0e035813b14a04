//! Request deduplication through the hub's HTTP surface. Inbound: identical
//! queries in flight together share one execution; different credentials or
//! a switched-off setting do not. Outbound: identical subgraph requests of
//! queries in flight share one call, whatever the inbound setting.

mod gateway_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gateway_support::{shop_sdl, start_slow, start_subgraph, subgraphs};
use serde_json::{json, Value};
use tellonce::config::Config;
use tellonce::server::RunningHub;

/// A products subgraph that counts its calls and answers after a pause long
/// enough for every concurrent client to arrive.
fn start_counting_products(calls: Arc<AtomicUsize>) -> String {
    start_slow(
        Duration::from_millis(1500),
        r#"{"data":{"topProducts":[{"name":"Shared"}]}}"#,
        calls,
    )
}

/// Which of the two deduplications the hub runs with.
#[derive(Clone, Copy)]
struct Dedup {
    inbound: bool,
    outbound: bool,
}

const INBOUND_ONLY: Dedup = Dedup {
    inbound: true,
    outbound: false,
};
const OUTBOUND_ONLY: Dedup = Dedup {
    inbound: false,
    outbound: true,
};
const NEITHER: Dedup = Dedup {
    inbound: false,
    outbound: false,
};

fn assert_every_answer_is_the_shared_one(answers: &[Value]) {
    for answer in answers {
        assert_eq!(
            answer["data"]["topProducts"][0]["name"], "Shared",
            "{answer}"
        );
    }
}

async fn start_hub(dedup: Dedup, calls: Arc<AtomicUsize>, dir: &std::path::Path) -> RunningHub {
    let mut urls = HashMap::new();
    urls.insert("accounts", start_subgraph(subgraphs::accounts()).0);
    urls.insert("products", start_counting_products(calls));
    urls.insert("reviews", start_subgraph(subgraphs::reviews()).0);
    urls.insert("inventory", start_subgraph(subgraphs::inventory()).0);
    let file = dir.join("supergraph.graphql");
    std::fs::write(&file, shop_sdl(&urls)).expect("write");
    let mut config = Config {
        supergraph: Some(file),
        data_dir: dir.to_owned(),
        ..Config::default()
    };
    config.gateway.inbound_dedup = dedup.inbound;
    config.gateway.outbound_dedup = dedup.outbound;
    config.authorization.public = vec!["Query.*".into()];
    let store = tellonce::store::Store::open(&config.database_url()).expect("database");
    for name in [
        "same", "client-0", "client-1", "client-2", "client-3", "client-4", "client-5",
    ] {
        tellonce::auth::api_keys::add_with_key(
            &store,
            tellonce::auth::api_keys::NewPrincipal {
                name: name.into(),
                kind: tellonce::auth::PrincipalKind::Frontend,
                scopes: Default::default(),
                department: None,
                nino: None,
            },
            key(name),
        )
        .expect("add a principal");
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    tellonce::server::start_on(&config, listener)
        .await
        .expect("hub starts")
}

/// The API key of test principal `name`.
fn key(name: &str) -> String {
    format!("tok_{name}-0123456789abcdefghij")
}

fn bearer(name: &str) -> String {
    format!("Bearer {}", key(name))
}

/// Sends `clients` identical requests at once; `authorization(i)` may vary credentials.
async fn send_together(
    hub: &RunningHub,
    clients: usize,
    authorization: impl Fn(usize) -> String,
) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let request = client
            .post(hub.graphql_url())
            .header("authorization", authorization(i))
            .json(&json!({ "query": "{ topProducts { name } }" }));
        tasks.push(tokio::spawn(async move {
            request
                .send()
                .await
                .expect("POST")
                .json::<Value>()
                .await
                .expect("JSON")
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("client task"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_queries_in_flight_share_one_execution() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = Arc::new(AtomicUsize::new(0));
    let hub = start_hub(INBOUND_ONLY, calls.clone(), dir.path()).await;
    let answers = send_together(&hub, 8, |_| bearer("same")).await;
    assert_every_answer_is_the_shared_one(&answers);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one execution served all eight"
    );

    // Once answered, the next identical query executes afresh.
    send_together(&hub, 1, |_| bearer("same")).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_credentials_are_never_shared() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = Arc::new(AtomicUsize::new(0));
    // Outbound sharing off: the hub forwards no credentials to this
    // subgraph, so its calls would rightly be shared.
    let hub = start_hub(INBOUND_ONLY, calls.clone(), dir.path()).await;
    send_together(&hub, 3, |i| bearer(&format!("client-{i}"))).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_every_request_executes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = Arc::new(AtomicUsize::new(0));
    let hub = start_hub(NEITHER, calls.clone(), dir.path()).await;
    send_together(&hub, 4, |_| bearer("same")).await;
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_subgraph_requests_in_flight_share_one_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let calls = Arc::new(AtomicUsize::new(0));
    let hub = start_hub(OUTBOUND_ONLY, calls.clone(), dir.path()).await;
    // One principal: the hub's identity token (and so the subgraph request)
    // is the same for all six.
    let answers = send_together(&hub, 6, |_| bearer("same")).await;
    assert_every_answer_is_the_shared_one(&answers);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "six executions, one products call"
    );

    // Nothing is cached: the next query calls the subgraph again.
    send_together(&hub, 1, |_| bearer("same")).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    hub.stop().await;
}
