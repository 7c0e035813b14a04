//! The hub driven by the JavaScript clients frontends use: the `graphql-ws`
//! library over WebSocket and the `graphql-sse` library over Server-Sent
//! Events (both of its modes). The packages are installed with `npm ci` (the
//! versions in tests/npm_clients/package-lock.json) into a folder the test
//! owns.

mod npm_support;
mod tellonce_support;

use std::net::TcpListener;
use std::path::Path;

use npm_support::run_script;
use serde_json::{json, Value};
use tellonce_support::*;

/// A folder with the client packages installed and the scripts beside them.
fn installed_clients() -> tempfile::TempDir {
    npm_support::installed(
        "tests/npm_clients",
        &[
            "package.json",
            "package-lock.json",
            "graphql_ws_client.mjs",
            "graphql_sse_client.mjs",
        ],
    )
}

fn run_client(dir: &Path, args: &[&str]) -> Value {
    run_script(dir, "graphql_ws_client.mjs", args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_graphql_ws_library_follows_life_events_and_runs_queries() {
    let clients = installed_clients();
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let ws_url = url.replacen("http", "ws", 1);
    let first = tell(&url, death(800), "npm-0").await;
    let second = tell(&url, death(801), "npm-1").await;

    let dir = clients.path().to_path_buf();
    let hmrc = department_key("hmrc");
    let follow = {
        let (dir, ws_url, hmrc) = (dir.clone(), ws_url.clone(), hmrc.clone());
        tokio::task::spawn_blocking(move || {
            run_client(
                &dir,
                &[
                    &ws_url,
                    &hmrc,
                    "3",
                    "subscription { lifeEvents { eventId ledgerSeq } }",
                ],
            )
        })
    };
    // The third arrives live, after the client has caught up.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let third = tell(&url, death(802), "npm-2").await;
    let results = follow.await.expect("the client ran");
    let ids: Vec<&str> = results
        .as_array()
        .expect("a list of results")
        .iter()
        .map(|r| {
            r["data"]["lifeEvents"]["eventId"]
                .as_str()
                .expect("an event id")
        })
        .collect();
    assert_eq!(
        ids,
        [&first, &second, &third].map(|r| r["eventId"].as_str().unwrap()),
        "{results}"
    );

    let answered = tokio::task::spawn_blocking(move || {
        run_client(&dir, &[&ws_url, &hmrc, "1", "{ hub { supergraphHash } }"])
    })
    .await
    .expect("the client ran");
    assert!(
        answered[0]["data"]["hub"]["supergraphHash"].is_string(),
        "{answered}"
    );
    assert_eq!(answered, json!([answered[0].clone()]));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_graphql_sse_library_follows_life_events_in_both_modes() {
    let clients = installed_clients();
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("the hub starts");
    let url = hub.graphql_url();
    let stream_url = format!("{url}/stream");
    let first = tell(&url, death(810), "sse-0").await;
    let hmrc = department_key("hmrc");
    for mode in ["distinct", "single"] {
        let (dir, stream_url, hmrc) = (
            clients.path().to_path_buf(),
            stream_url.clone(),
            hmrc.clone(),
        );
        let results = tokio::task::spawn_blocking(move || {
            run_script(
                &dir,
                "graphql_sse_client.mjs",
                &[
                    &stream_url,
                    &hmrc,
                    mode,
                    "1",
                    "subscription { lifeEvents { eventId ledgerSeq } }",
                ],
            )
        })
        .await
        .expect("the client ran");
        assert_eq!(
            results[0]["data"]["lifeEvents"]["eventId"], first["eventId"],
            "{mode}: {results}"
        );
    }
    hub.stop().await;
}
