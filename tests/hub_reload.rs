//! Hot reload of a supergraph file: a change is served, an invalid file is
//! refused while the old supergraph keeps serving, and requests in flight
//! finish on the supergraph they started with.

mod gateway_support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use gateway_support::{closed_port_url, shop_sdl, start_slow, start_subgraph, subgraphs};
use serde_json::{json, Value};
use tellonce::config::Config;
use tellonce::server::RunningHub;

fn shop_urls() -> HashMap<&'static str, String> {
    let mut urls = HashMap::new();
    urls.insert("accounts", start_subgraph(subgraphs::accounts()).0);
    urls.insert("products", start_subgraph(subgraphs::products()).0);
    urls.insert("reviews", start_subgraph(subgraphs::reviews()).0);
    urls.insert("inventory", start_subgraph(subgraphs::inventory()).0);
    urls
}

async fn start_hub(supergraph: &Path, data_dir: &Path) -> RunningHub {
    let mut config = Config {
        supergraph: Some(supergraph.to_owned()),
        data_dir: data_dir.to_owned(),
        ..Config::default()
    };
    config.gateway.reload_poll_ms = 50;
    // The shop is no one's personal data: anyone may read it.
    config.authorization.public = vec!["Query.*".into()];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    tellonce::server::start_on(&config, listener)
        .await
        .expect("hub starts")
}

async fn query(hub: &RunningHub, query: &str) -> Value {
    reqwest::Client::new()
        .post(hub.graphql_url())
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON")
}

async fn ready_hash(hub: &RunningHub) -> String {
    let ready: Value = reqwest::get(format!("http://{}/ready", hub.addr))
        .await
        .expect("GET /ready")
        .json()
        .await
        .expect("JSON");
    ready["supergraphHash"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits (bounded) until the hub serves a supergraph other than `old_hash`.
async fn wait_for_reload(hub: &RunningHub, old_hash: &str) -> String {
    for _ in 0..200 {
        let hash = ready_hash(hub).await;
        if hash != old_hash {
            return hash;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the hub did not reload within 5 s");
}

/// Rewrites a file so its modification time surely moves on.
fn rewrite(path: &Path, contents: &str) {
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(path, contents).expect("write supergraph");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_served_and_an_invalid_one_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("supergraph.graphql");
    let original = shop_sdl(&shop_urls());
    std::fs::write(&file, &original).expect("write");
    let hub = start_hub(&file, dir.path()).await;
    let first_hash = ready_hash(&hub).await;

    let hidden = query(&hub, "{ topProducts { internalCode } }").await;
    assert_eq!(
        hidden["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "@inaccessible hides the field: {hidden}"
    );

    // The new supergraph makes the field public.
    let exposed = original.replace(
        "@join__field(graph: PRODUCTS) @inaccessible",
        "@join__field(graph: PRODUCTS)",
    );
    assert_ne!(exposed, original);
    rewrite(&file, &exposed);
    let second_hash = wait_for_reload(&hub, &first_hash).await;
    let visible = query(&hub, "{ topProducts(first: 1) { internalCode } }").await;
    assert!(visible.get("errors").is_none(), "{visible}");
    assert!(
        visible["data"]["topProducts"][0]["internalCode"].is_string(),
        "{visible}"
    );

    // A broken file is refused; the last good supergraph keeps serving.
    rewrite(&file, "type Query { this is not a supergraph");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ready_hash(&hub).await, second_hash);
    let still = query(&hub, "{ topProducts(first: 1) { internalCode name } }").await;
    assert!(still.get("errors").is_none(), "{still}");

    // Fixing the file is picked up again.
    rewrite(&file, &original);
    let third_hash = wait_for_reload(&hub, &second_hash).await;
    assert_eq!(third_hash, first_hash, "same SDL, same hash");
    hub.stop().await;
}

/// A products subgraph that answers `topProducts` after a pause.
fn start_slow_products(delay: Duration) -> String {
    start_slow(
        delay,
        r#"{"data":{"topProducts":[{"name":"Started before the reload"}]}}"#,
        Default::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_finish_on_the_supergraph_they_started_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("supergraph.graphql");
    let mut urls = shop_urls();
    urls.insert("products", start_slow_products(Duration::from_millis(1500)));
    std::fs::write(&file, shop_sdl(&urls)).expect("write");
    let hub = start_hub(&file, dir.path()).await;
    let old_hash = ready_hash(&hub).await;

    let url = hub.graphql_url();
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({ "query": "{ topProducts { name } }" }))
            .send()
            .await
            .expect("POST")
            .json::<Value>()
            .await
            .expect("JSON")
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The new supergraph sends products to a port where nothing listens.
    urls.insert("products", closed_port_url());
    rewrite(&file, &shop_sdl(&urls));
    wait_for_reload(&hub, &old_hash).await;

    let after = query(&hub, "{ topProducts { name } }").await;
    assert_eq!(
        after["errors"][0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE",
        "new requests use the new supergraph: {after}"
    );
    let finished = in_flight.await.expect("request task");
    assert_eq!(
        finished["data"]["topProducts"][0]["name"], "Started before the reload",
        "{finished}"
    );
    hub.stop().await;
}
