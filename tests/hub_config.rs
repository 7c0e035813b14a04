//! Configuration files: every key read, unknown keys refused with their name,
//! and per-subgraph timeouts in force.

mod gateway_support;

use std::collections::HashMap;
use std::time::Duration;

use gateway_support::{shop_sdl, start_faulty, start_subgraph, subgraphs, Fault};
use serde_json::{json, Value};
use tellonce::config::{Config, ConfigError};

#[test]
fn a_file_sets_every_section_and_unknown_keys_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tellonce.toml");
    std::fs::write(
        &path,
        r#"
listen = "127.0.0.1:4999"
data_dir = "/var/lib/tellonce"
database_url = "postgres://hub@db/tellonce"

[gateway]
subgraph_timeout_ms = 1500
inbound_dedup = false
outbound_dedup = false

[gateway.subgraph_timeouts_ms]
dvla = 250

[[subgraphs]]
name = "hmrc"
url = "http://127.0.0.1:4001/graphql"
schema_file = "schema/departments/hmrc.graphql"
"#,
    )
    .expect("write");
    let config = Config::load(Some(&path)).expect("loads");
    assert_eq!(config.listen.port(), 4999);
    assert_eq!(config.database_url(), "postgres://hub@db/tellonce");
    assert_eq!(
        config.gateway.subgraph_timeout(),
        Duration::from_millis(1500)
    );
    assert_eq!(
        config.gateway.subgraph_timeouts().get("dvla"),
        Some(&Duration::from_millis(250))
    );
    assert!(!config.gateway.inbound_dedup);
    assert!(!config.gateway.outbound_dedup);
    let defaults = Config::default();
    assert!(defaults.gateway.inbound_dedup && defaults.gateway.outbound_dedup);
    assert_eq!(config.subgraphs[0].name, "hmrc");

    std::fs::write(&path, "[gateway]\nsubgraph_timout_ms = 5\n").expect("write");
    let error = Config::load(Some(&path)).expect_err("a misspelt key is refused");
    assert!(matches!(error, ConfigError::Parse { .. }));
    assert!(error.to_string().contains("subgraph_timout_ms"), "{error}");

    let missing = Config::load(Some(&dir.path().join("absent.toml"))).expect_err("no file");
    assert!(missing.to_string().contains("absent.toml"), "{missing}");
}

#[test]
fn with_no_file_the_embedded_defaults_apply() {
    let config = Config::default();
    assert!(config.database_url().ends_with("tellonce.db"));
    assert!(config.supergraph.is_none() && config.subgraphs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_subgraph_timeout_overrides_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = HashMap::new();
    urls.insert("accounts", start_subgraph(subgraphs::accounts()).0);
    urls.insert("products", start_subgraph(subgraphs::products()).0);
    urls.insert("reviews", start_subgraph(subgraphs::reviews()).0);
    urls.insert(
        "inventory",
        start_faulty(Fault::Slow(Duration::from_secs(20))),
    );
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, shop_sdl(&urls)).expect("write");
    let mut config = Config {
        supergraph: Some(file),
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    config
        .gateway
        .subgraph_timeouts_ms
        .insert("inventory".into(), 300);
    // The shop is no one's personal data: anyone may read it.
    config.authorization.public = vec!["Query.*".into()];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hub = tellonce::server::start_on(&config, listener)
        .await
        .expect("hub starts");
    let answer: Value = reqwest::Client::new()
        .post(hub.graphql_url())
        .json(&json!({ "query": "{ topProducts(first: 1) { name inStock } }" }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let codes: Vec<&str> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert!(codes.contains(&"TIMEOUT"), "{answer}");
    assert!(
        answer["data"].is_object() || answer["data"].is_null(),
        "{answer}"
    );
    hub.stop().await;
}
