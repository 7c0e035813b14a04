//! Tell-us-once throughput with the example departments running locally:
//! life events accepted per second (receipt returned over HTTP) and
//! notifications delivered per second, on SQLite and on PostgreSQL.
//!
//! `cargo bench --bench tellonce` (PostgreSQL at
//! postgres://postgres@127.0.0.1:5432/test; skipped if unreachable).
//! `TELLONCE_BENCH_EVENTS` (default 10000) and `TELLONCE_BENCH_CONCURRENCY`
//! (default 64) tune the run. Acceptance runs with delivery off; delivery
//! is then measured by a second hub over the same database.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use serde_json::json;
use tellonce::config::{Config, SubgraphConfig};

mod support;

/// The allocator the `tellonce` binary uses, so figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REGISTRAR_KEY: &str = "tok_bench-registrar-0123456789abcdef";
const TELL: &str = "mutation Tell($event: LifeEventInput!, $key: String!) { tellUsOnce(event: $event, idempotencyKey: $key) { eventId ledgerSeq } }";

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn delivered(url: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let Ok(store) = tellonce::store::Store::open(url) else {
        return -1;
    };
    let Ok(mut conn) = store.get() else { return -1 };
    diesel::sql_query("SELECT COUNT(*) AS n FROM tellonce_outbox WHERE status = 'DELIVERED'")
        .load::<N>(&mut *conn)
        .ok()
        .and_then(|rows| rows.first().map(|r| r.n))
        .unwrap_or(-1)
}

async fn run(backend: &str, url: String, dir: &std::path::Path, subgraphs: Vec<SubgraphConfig>) {
    let events = env_number("TELLONCE_BENCH_EVENTS", 10_000);
    let concurrency = env_number("TELLONCE_BENCH_CONCURRENCY", 64);
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(url.clone()),
        subgraphs,
        ..Config::default()
    };
    config.tellonce.delivery_workers = 0;
    config.rate_limit.enabled = false;
    let store = tellonce::store::Store::open(&url).expect("open the database");
    tellonce::auth::api_keys::add_with_key(
        &store,
        tellonce::auth::api_keys::NewPrincipal {
            name: "bench-registrar".into(),
            kind: tellonce::auth::PrincipalKind::Registrar,
            scopes: Default::default(),
            department: None,
            nino: None,
        },
        REGISTRAR_KEY.into(),
    )
    .expect("add the registrar");
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("hub starts");
    let endpoint = hub.graphql_url();
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, endpoint, next) = (client.clone(), endpoint.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        return;
                    }
                    let nino = format!("TC{:06}A", n % 1_000_000);
                    let body = json!({ "query": TELL, "variables": {
                        "key": format!("bench-{n}"),
                        "event": { "death": { "nino": nino, "givenNames": "Alex",
                            "familyName": "Example", "dateOfDeath": "2026-10-01" } } } });
                    let response: serde_json::Value = client
                        .post(&endpoint)
                        .header("authorization", format!("Bearer {REGISTRAR_KEY}"))
                        .json(&body)
                        .send()
                        .await
                        .expect("POST")
                        .json()
                        .await
                        .expect("JSON");
                    assert!(
                        response["data"]["tellUsOnce"]["eventId"].is_string(),
                        "{response}"
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("client task");
    }
    let accept_secs = started.elapsed().as_secs_f64();
    hub.stop().await;

    config.tellonce.delivery_workers = 4;
    config.tellonce.claim_batch = 256;
    // One notification per department the built-in rules tell of a death.
    let told = include_str!("../schema/routes/death.toml")
        .matches("event = \"death\"")
        .count() as i64;
    let total = i64::from(events) * told;
    let started = Instant::now();
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("delivering hub starts");
    loop {
        let url = url.clone();
        let done = tokio::task::spawn_blocking(move || delivered(&url))
            .await
            .unwrap_or(-1);
        if done >= total {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            println!("{backend}: gave up with {done} of {total} delivered");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deliver_secs = started.elapsed().as_secs_f64();
    hub.stop().await;
    println!(
        "{backend:<10} accepted {events} events in {accept_secs:.2} s = {:.0} events/s ({concurrency} concurrent clients); delivered {total} notifications in {deliver_secs:.2} s = {:.0} notifications/s",
        f64::from(events) / accept_secs,
        total as f64 / deliver_secs,
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let departments = support::start_departments().await;
    let only = std::env::var("TELLONCE_BENCH_BACKEND").ok();
    if only.as_deref() != Some("postgres") {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir
            .path()
            .join("tellonce.db")
            .to_string_lossy()
            .into_owned();
        run("sqlite", url, dir.path(), departments.subgraphs.clone()).await;
    }
    if only.as_deref() != Some("sqlite") {
        match support::PgDatabase::create("tellonce_bench") {
            Ok(database) => {
                let dir = tempfile::tempdir().expect("temp dir");
                run(
                    "postgres",
                    database.url.clone(),
                    dir.path(),
                    departments.subgraphs.clone(),
                )
                .await;
            }
            Err(error) => println!("postgres: skipped ({error})"),
        }
    }
    departments.stop().await;
}
