//! Identical subscriptions share one run, against a real hub over
//! WebSocket: subscribers that ask the same thing before it has yielded
//! anything are served by one subgraph stream and each get every event; a
//! subscriber arriving after a run has yielded gets a run of its own, with
//! its own catch-up; another principal never shares; and a run ends with
//! its last subscriber. Alone in its binary, so the metrics it reads are
//! its own.

mod tellonce_support;
mod ws_client;

use std::time::Duration;

use serde_json::{json, Value};
use tellonce_support::*;
use ws_client::WsClient;

const FOLLOW: &str = "subscription Follow($after: String) {
  lifeEvents(after: $after) { eventId ledgerSeq type }
}";

async fn streams_open(base: &str) -> f64 {
    sample(
        &scrape(base).await,
        "tellonce_subscription_streams_open",
        &[],
    )
    .unwrap_or(0.0)
}

async fn streams_become(base: &str, wanted: f64) {
    eventually(
        &format!("{wanted} subscription runs open"),
        Duration::from_secs(10),
        || async { (streams_open(base).await == wanted).then_some(()) },
    )
    .await;
}

async fn next_event(client: &mut WsClient, id: &str) -> Value {
    let payload = client.next_payload(id).await;
    assert!(payload.get("errors").is_none(), "{payload}");
    payload["data"]["lifeEvents"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_subscriptions_share_one_run_and_each_gets_every_event() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let hub = start_hub_on(&hub_config(&db, departments.subgraphs(|_, url| url))).await;
    let (url, base) = (hub.graphql_url(), hub.base_url());
    let first = tell(&url, death(700), "share-0").await;
    let second = tell(&url, death(701), "share-1").await;
    let hmrc = department_key("hmrc");

    // A run that has yielded (its catch-up) is not joined: the second
    // subscriber gets its own run and its own catch-up.
    let mut early = WsClient::connect(&url, &hmrc).await;
    early.subscribe("a", FOLLOW, json!({})).await;
    assert_eq!(
        next_event(&mut early, "a").await["eventId"],
        first["eventId"]
    );
    let caught_up = next_event(&mut early, "a").await;
    assert_eq!(caught_up["eventId"], second["eventId"]);
    let mut late = WsClient::connect(&url, &hmrc).await;
    late.subscribe("a", FOLLOW, json!({})).await;
    assert_eq!(
        next_event(&mut late, "a").await["eventId"],
        first["eventId"]
    );
    assert_eq!(
        next_event(&mut late, "a").await["eventId"],
        second["eventId"]
    );
    streams_become(&base, 2.0).await;

    // Three subscribers from the latest cursor: nothing to catch up, so
    // they share one run, on one connection or on several.
    let after = caught_up["ledgerSeq"].to_string();
    let mut sharing = WsClient::connect(&url, &hmrc).await;
    sharing
        .subscribe("x", FOLLOW, json!({ "after": after }))
        .await;
    sharing
        .subscribe("y", FOLLOW, json!({ "after": after }))
        .await;
    let mut another = WsClient::connect(&url, &hmrc).await;
    another
        .subscribe("z", FOLLOW, json!({ "after": after }))
        .await;
    // Another principal asking the same never shares a run with HMRC.
    let mut dwp = WsClient::connect(&url, &department_key("dwp")).await;
    dwp.subscribe("d", FOLLOW, json!({ "after": after })).await;
    streams_become(&base, 4.0).await;

    let third = tell(&url, death(702), "share-2").await;
    for (client, id) in [
        (&mut early, "a"),
        (&mut late, "a"),
        (&mut another, "z"),
        (&mut dwp, "d"),
    ] {
        let event = next_event(client, id).await;
        assert_eq!(event["eventId"], third["eventId"], "{id}: {event}");
    }
    // Two operations of one connection: each gets it, in either order.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let message = sharing.message(Duration::from_secs(30)).await;
        assert_eq!(message["type"], "next", "{message}");
        let event = &message["payload"]["data"]["lifeEvents"];
        assert_eq!(event["eventId"], third["eventId"], "{message}");
        ids.push(message["id"].as_str().unwrap_or_default().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["x", "y"]);

    // The shared run ends with its last subscriber, not before.
    sharing.close().await;
    let fourth = tell(&url, death(703), "share-3").await;
    assert_eq!(
        next_event(&mut another, "z").await["eventId"],
        fourth["eventId"]
    );
    streams_become(&base, 4.0).await;
    another.close().await;
    streams_become(&base, 3.0).await;
    for (client, id) in [(&mut early, "a"), (&mut late, "a"), (&mut dwp, "d")] {
        assert_eq!(next_event(client, id).await["eventId"], fourth["eventId"]);
    }
    for client in [early, late, dwp] {
        client.close().await;
    }
    hub.stop().await;
}
