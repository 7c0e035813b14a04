//! A subgraph that is down, slow, answers invalid JSON or HTTP 500: the
//! gateway answers with partial data and coded errors, and records health.

mod gateway_support;

use std::time::Duration;

use gateway_support::{as_json, closed_port_url, codes, data, start_faulty, Fault, Shop};
use serde_json::json;

const QUERY: &str = r#"{ product(upc: "p1") { upc name inStock } }"#;

async fn assert_partial(shop: &Shop, code: &str) {
    let response = shop.run(QUERY).await;
    assert!(!response.is_request_error());
    // inStock is non-null, so the product becomes null; the other data stays.
    assert_eq!(
        data(&response),
        json!({"product": null}),
        "{:?}",
        as_json(&response)
    );
    assert!(
        codes(&response).iter().any(|c| c == code),
        "{:?}",
        as_json(&response)
    );
    let other = shop.run(r#"{ product(upc: "p1") { upc name } }"#).await;
    assert_eq!(
        data(&other),
        json!({"product": {"upc": "p1", "name": "Table"}})
    );
    assert!(other.errors.is_empty());
}

#[tokio::test]
async fn subgraph_down() {
    let shop = Shop::start_with(Some(closed_port_url()), Duration::from_secs(5)).await;
    assert_partial(&shop, "SUBGRAPH_UNAVAILABLE").await;
    let health = shop.gateway.subgraph_health();
    let inventory = health.iter().find(|s| s.name == "inventory").unwrap();
    assert!(!inventory.healthy);
    assert!(inventory.last_error.is_some());
    let products = health.iter().find(|s| s.name == "products").unwrap();
    assert!(products.healthy);
}

#[tokio::test]
async fn subgraph_url_that_does_not_parse_is_named() {
    let shop = Shop::start_with(Some("not a url".into()), Duration::from_secs(5)).await;
    assert_partial(&shop, "SUBGRAPH_UNAVAILABLE").await;
    let health = shop.gateway.subgraph_health();
    let inventory = health.iter().find(|s| s.name == "inventory").unwrap();
    let error = inventory.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("\"not a url\" is not a valid URL"),
        "{error}"
    );
}

#[tokio::test]
async fn subgraph_slow_times_out() {
    let url = start_faulty(Fault::Slow(Duration::from_secs(5)));
    let shop = Shop::start_with(Some(url), Duration::from_millis(200)).await;
    assert_partial(&shop, "TIMEOUT").await;
}

#[tokio::test]
async fn subgraph_answers_invalid_json() {
    let url = start_faulty(Fault::InvalidJson);
    let shop = Shop::start_with(Some(url), Duration::from_secs(5)).await;
    assert_partial(&shop, "SUBGRAPH_ERROR").await;
}

#[tokio::test]
async fn subgraph_answers_http_500() {
    let url = start_faulty(Fault::Status500);
    let shop = Shop::start_with(Some(url), Duration::from_secs(5)).await;
    assert_partial(&shop, "SUBGRAPH_ERROR").await;
}

#[tokio::test]
async fn root_subgraph_down_nulls_only_its_fields() {
    let shop = Shop::start_with(Some(closed_port_url()), Duration::from_secs(5)).await;
    let response = shop
        .run(r#"{ me { name } product(upc: "p2") { inStock } }"#)
        .await;
    assert_eq!(
        data(&response),
        json!({"me": {"name": "Ada Lovelace"}, "product": null})
    );
}
