//! The hub's own subscriptions over WebSocket, against real hubs: a
//! department's life events resumed from a cursor with no gap and no
//! duplicate, a life event's progress until everyone is told, new signed
//! checkpoints, and two hub processes on one PostgreSQL and one Redis, each
//! with a subscriber that receives every event once, in ledger order; and a
//! subscriber too slow to keep up, closed and resumed from its cursor.

mod tellonce_support;
mod ws_client;

use std::net::TcpListener;
use std::time::Duration;

use serde_json::{json, Value};
use tellonce_support::*;
use ws_client::WsClient;

const LIFE_EVENTS: &str = "subscription Follow($after: String) {
  lifeEvents(after: $after) { eventId ledgerSeq type data }
}";

/// Reads `n` life events from subscription `id`, in the order they come.
async fn life_events(client: &mut WsClient, id: &str, n: usize) -> Vec<Value> {
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let payload = client.next_payload(id).await;
        assert!(payload.get("errors").is_none(), "{payload}");
        items.push(payload["data"]["lifeEvents"].clone());
    }
    items
}

/// Waits for the one result and the completion of query `id`.
async fn answered(client: &mut WsClient, id: &str) {
    let answer = client.next_payload(id).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let complete = client.message(Duration::from_secs(10)).await;
    assert_eq!(complete, json!({ "id": id, "type": "complete" }));
}

fn event_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["eventId"].as_str().expect("an event id").to_owned())
        .collect()
}

async fn a_department_resumes_its_life_events_from_a_cursor(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    // HMRC is pushed its notifications: keep their data after delivery, so
    // the stream still shows it.
    config.tellonce.retain_delivered_days = 1;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let mut told = Vec::new();
    for n in 0..3 {
        told.push(tell(&url, death(500 + n), &format!("resume-{n}")).await);
    }
    let hmrc = department_key("hmrc");
    let mut client = WsClient::connect(&url, &hmrc).await;
    client.subscribe("1", LIFE_EVENTS, json!({})).await;
    let mut seen = life_events(&mut client, "1", 3).await;
    for n in 3..5 {
        told.push(tell(&url, death(500 + n), &format!("resume-{n}")).await);
    }
    seen.extend(life_events(&mut client, "1", 2).await);
    assert_eq!(
        seen[0]["data"]["nino"], "TC000500A",
        "HMRC is told the NINO: {}",
        seen[0]
    );
    let cursor = seen[4]["ledgerSeq"].to_string();
    client.close().await;

    // Missed while away, then live: each once, in ledger order.
    told.push(tell(&url, death(505), "resume-5").await);
    let mut client = WsClient::connect(&url, &hmrc).await;
    client
        .subscribe("again", LIFE_EVENTS, json!({ "after": cursor }))
        .await;
    seen.extend(life_events(&mut client, "again", 1).await);
    told.push(tell(&url, death(506), "resume-6").await);
    seen.extend(life_events(&mut client, "again", 1).await);
    let expected: Vec<String> = told
        .iter()
        .map(|r| r["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(event_ids(&seen), expected, "every event once, in order");
    let seqs: Vec<i64> = seen
        .iter()
        .map(|i| i["ledgerSeq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "ledger order: {seqs:?}"
    );
    client.close().await;
    hub.stop().await;
}
both_backends!(
    life_events_resume,
    a_department_resumes_its_life_events_from_a_cursor
);

async fn a_life_event_is_followed_until_everyone_is_told(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.ledger.checkpoint_every_entries = 1;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let mut checkpoints = WsClient::connect(&url, OPERATOR_KEY).await;
    checkpoints
        .subscribe(
            "cp",
            "subscription { ledgerCheckpoints { treeSize note } }",
            json!({}),
        )
        .await;
    // The subscription is open once the server has seen it; a query on the
    // same connection answers after it.
    checkpoints
        .subscribe("q", "{ __typename }", json!({}))
        .await;
    answered(&mut checkpoints, "q").await;

    let receipt = tell(&url, death(600), "status-0").await;
    let id = receipt["eventId"].as_str().unwrap().to_owned();
    let mut watcher = WsClient::connect(&url, OPERATOR_KEY).await;
    watcher
        .subscribe(
            "s",
            "subscription S($id: ID!) { lifeEventStatus(id: $id) { id notifications { department status } } }",
            json!({ "id": id }),
        )
        .await;
    let mut last = Value::Null;
    loop {
        let message = watcher.message(Duration::from_secs(60)).await;
        match message["type"].as_str() {
            Some("next") => {
                assert!(message["payload"].get("errors").is_none(), "{message}");
                last = message["payload"]["data"]["lifeEventStatus"].clone();
            }
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }
    let notifications = last["notifications"].as_array().expect("notifications");
    assert!(!notifications.is_empty());
    assert!(
        notifications.iter().all(|n| n["status"] == "DELIVERED"),
        "the stream ends when every department is told: {last}"
    );

    let checkpoint = checkpoints.next_payload("cp").await;
    let size = checkpoint["data"]["ledgerCheckpoints"]["treeSize"]
        .as_i64()
        .expect("a tree size");
    assert!(size > 0, "{checkpoint}");
    assert!(checkpoint["data"]["ledgerCheckpoints"]["note"]
        .as_str()
        .is_some_and(|n| n.contains(&format!("\n{size}\n"))));
    hub.stop().await;
}
both_backends!(
    life_event_status,
    a_life_event_is_followed_until_everyone_is_told
);

/// Two hub processes on the local PostgreSQL and Redis: events submitted to
/// both reach a subscriber on each, once each, in ledger order; every
/// notification is delivered once; the ledger verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hubs_share_life_events_through_redis() {
    const EVENTS: u32 = 12;
    let db = TestDb::postgres();
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.events.redis_url = Some("redis://127.0.0.1:6379".into());
    // Long enough that only Redis explains a prompt delivery.
    config.events.poll_interval_ms = 60_000;
    let first = HubProcess::start(&config, db.dir.path());
    let second = HubProcess::start(&config, db.dir.path());
    let hmrc = department_key("hmrc");
    let mut on_first = WsClient::connect(&first.url, &hmrc).await;
    let mut on_second = WsClient::connect(&second.url, &hmrc).await;
    for client in [&mut on_first, &mut on_second] {
        client.subscribe("hmrc", LIFE_EVENTS, json!({})).await;
        client.subscribe("ready", "{ __typename }", json!({})).await;
        answered(client, "ready").await;
    }
    let mut told = Vec::new();
    for n in 0..EVENTS {
        let url = if n % 2 == 0 { &first.url } else { &second.url };
        told.push(tell(url, death(700 + n), &format!("scale-{n}")).await);
    }
    let mut expected: Vec<(i64, String)> = told
        .iter()
        .map(|r| {
            (
                r["ledgerSeq"].as_i64().unwrap(),
                r["eventId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    for client in [&mut on_first, &mut on_second] {
        let seen = life_events(client, "hmrc", EVENTS as usize).await;
        assert_eq!(event_ids(&seen), expected, "once each, in ledger order");
    }
    let total = i64::from(EVENTS) * departments_told_of_a_death();
    eventually(
        "every notification delivered",
        Duration::from_secs(60),
        || async {
            (db.count("SELECT COUNT(*) AS n FROM tellonce_outbox WHERE status = 'DELIVERED'")
                == total)
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.delivered'"
        ),
        total,
        "each notification delivered once"
    );
    drop((first, second));
    verify_ledger(&db);
}

/// Redis away and back: each hub keeps serving its own subscribers, and once
/// Redis returns the other hub catches up from the ledger, missing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_going_away_loses_nothing() {
    let db = TestDb::postgres();
    let departments = Departments::start().await;
    let redis = TcpProxy::start("127.0.0.1:6379").await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.events.redis_url = Some(format!("redis://127.0.0.1:{}", redis.port));
    config.events.poll_interval_ms = 60_000;
    let start = || tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap());
    let (first, second) = (
        start().await.expect("hub one"),
        start().await.expect("hub two"),
    );
    let hmrc = department_key("hmrc");
    let mut on_first = WsClient::connect(&first.graphql_url(), &hmrc).await;
    let mut on_second = WsClient::connect(&second.graphql_url(), &hmrc).await;
    for client in [&mut on_first, &mut on_second] {
        client.subscribe("hmrc", LIFE_EVENTS, json!({})).await;
    }
    let before = tell(&first.graphql_url(), death(900), "redis-0").await;
    for client in [&mut on_first, &mut on_second] {
        let seen = life_events(client, "hmrc", 1).await;
        assert_eq!(event_ids(&seen), [before["eventId"].as_str().unwrap()]);
    }

    redis.cut();
    let during = tell(&first.graphql_url(), death(901), "redis-1").await;
    let seen = life_events(&mut on_first, "hmrc", 1).await;
    assert_eq!(
        event_ids(&seen),
        [during["eventId"].as_str().unwrap()],
        "local subscribers are served without Redis"
    );
    redis.restore();
    let seen = life_events(&mut on_second, "hmrc", 1).await;
    assert_eq!(
        event_ids(&seen),
        [during["eventId"].as_str().unwrap()],
        "the other hub catches up once Redis is back"
    );
    let after = tell(&second.graphql_url(), death(902), "redis-2").await;
    for client in [&mut on_first, &mut on_second] {
        let seen = life_events(client, "hmrc", 1).await;
        assert_eq!(event_ids(&seen), [after["eventId"].as_str().unwrap()]);
    }
    on_first.close().await;
    on_second.close().await;
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_too_slow_to_keep_up_is_closed_and_resumes_from_its_cursor() {
    const EVENTS: u32 = 40;
    const SUBSCRIPTIONS: usize = 100;
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    // Keep the data HMRC is pushed, so every message is as large as asked.
    config.tellonce.retain_delivered_days = 1;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let hmrc = department_key("hmrc");
    let mut prompt = WsClient::connect(&url, &hmrc).await;
    prompt.subscribe("prompt", LIFE_EVENTS, json!({})).await;
    // Every subscription a connection may hold, each event's data many
    // times over, on a connection that stops reading with a small window:
    // the buffers between hub and client fill within a few events.
    let heavy = format!(
        "subscription {{ lifeEvents {{ eventId ledgerSeq {} }} }}",
        (0..25)
            .map(|n| format!("d{n}: data"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut slow = WsClient::connect_with_receive_buffer(&url, &hmrc, 4096).await;
    for n in 0..SUBSCRIPTIONS {
        slow.subscribe(&format!("s{n}"), &heavy, json!({})).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut told = Vec::new();
    for n in 0..EVENTS {
        let receipt = tell(&url, death(700 + n), &format!("slow-{n}")).await;
        told.push(receipt["eventId"].as_str().unwrap().to_owned());
    }
    // The prompt subscriber is served all along.
    let seen = life_events(&mut prompt, "prompt", EVENTS as usize).await;
    assert_eq!(
        event_ids(&seen),
        told,
        "the prompt subscriber has every event"
    );

    // Long enough for the hub to give up on the slow one.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let (messages, code, reason) = slow.drain_until_closed().await;
    assert_eq!(code, 1013, "closed as too slow: {reason}");
    assert!(
        reason.contains("cursor"),
        "the reason says how to resume: {reason}"
    );
    let got: Vec<&Value> = messages
        .iter()
        .filter(|m| m["id"] == "s0" && m["type"] == "next")
        .map(|m| &m["payload"]["data"]["lifeEvents"])
        .collect();
    assert!(
        got.len() < EVENTS as usize,
        "the slow subscriber was closed before it had everything ({} of {EVENTS})",
        got.len()
    );
    let mut ids: Vec<String> = got
        .iter()
        .map(|i| i["eventId"].as_str().unwrap().to_owned())
        .collect();
    let cursor = got.last().map(|i| i["ledgerSeq"].to_string());

    // It resumes from its last cursor: the rest, once each, in order.
    let mut again = WsClient::connect(&url, &hmrc).await;
    again
        .subscribe("again", LIFE_EVENTS, json!({ "after": cursor }))
        .await;
    let rest = life_events(&mut again, "again", EVENTS as usize - ids.len()).await;
    ids.extend(event_ids(&rest));
    assert_eq!(ids, told, "every event once, in ledger order");
    again.close().await;
    prompt.close().await;
    hub.stop().await;
}
