//! Border coordination with the six example agencies running locally:
//! declarations per second end to end (each answered with its complete
//! plan over HTTP), the p50/p99 time from declaration to a complete plan,
//! and, beside it, the slowest agency's own p99 answering `assessRisk` at
//! the same concurrency, on SQLite and on PostgreSQL.
//!
//! `cargo bench --bench border` (PostgreSQL at
//! postgres://postgres@127.0.0.1:5432/test; skipped if unreachable).
//! `BORDER_BENCH_DECLARATIONS` (default 5000) and `BORDER_BENCH_CONCURRENCY`
//! (clients per run, a comma-separated list; default 16,32,64) tune it;
//! `BORDER_BENCH_BACKEND` picks one backend.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tellonce::config::{Config, SubgraphConfig};
use tellonce_departments::{Agency, RunningDepartment};

mod support;

/// The allocator the `tellonce` binary uses, so figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DECLARE: &str = "mutation D($d: ConsignmentDeclarationInput!, $k: String!) { declareConsignment(declaration: $d, idempotencyKey: $k) { id status saving { inspectionsAvoided } } }";
const ASSESS: &str = "query A($c: ConsignmentAssessmentInput!) { assessRisk(consignment: $c) { riskLevel checks { kind } } }";
const DECLARANT_KEY: &str = "tok_bench-declarant-0123456789abcdef";

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Three kinds in turn: live animals (five agencies, one joint inspection),
/// plants for planting, and low-risk manufactured goods.
fn declaration(n: u32, arrives: &str) -> Value {
    let (commodity, origin, description, ched) = match n % 3 {
        0 => (
            "0102291000",
            "FR",
            "Live bovine animals",
            Some("CHEDA.GB.2026.1234567"),
        ),
        1 => (
            "06029050",
            "NL",
            "Potted trees for planting",
            Some("CHEDPP.GB.2026.7654321"),
        ),
        _ => ("84713000", "DE", "Portable computers", None),
    };
    json!({
        "declarant": "GB351608216000", "importer": "GB351608216000",
        "originCountry": origin, "dispatchCountry": origin, "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/DVRDOVDVR", "portOfEntry": "GBDOV", "borderControlPost": "GBSEV1",
        "arrivesAt": arrives, "transportMode": "ROAD", "chedReference": ched,
        "items": [{ "commodityCode": commodity, "description": description, "quantity": 10,
            "netMassKg": 1000.0, "grossMassKg": 1200.0, "valueGbp": 20000.0 }]
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// `requests` POSTs of `body(n)` to `url` from `concurrency` clients: (seconds, sorted latencies).
async fn drive(
    url: &str,
    key: Option<&str>,
    requests: u32,
    concurrency: u32,
    body: Arc<dyn Fn(u32) -> Value + Send + Sync>,
    check: fn(&Value) -> bool,
) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU32::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(requests as usize)));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, next, latencies, body) = (
                client.clone(),
                url.to_owned(),
                next.clone(),
                latencies.clone(),
                body.clone(),
            );
            let key = key.map(str::to_owned);
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        return;
                    }
                    let mut request = client.post(&url).json(&body(n));
                    if let Some(key) = &key {
                        request = request.header("authorization", format!("Bearer {key}"));
                    }
                    let sent = Instant::now();
                    let response: Value = request
                        .send()
                        .await
                        .expect("POST")
                        .json()
                        .await
                        .expect("JSON");
                    let took = sent.elapsed();
                    assert!(check(&response), "{response}");
                    latencies.lock().expect("latencies").push(took);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("client task");
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *latencies.lock().expect("latencies"));
    latencies.sort();
    (seconds, latencies)
}

async fn run(
    backend: &str,
    url: String,
    dir: &std::path::Path,
    subgraphs: Vec<SubgraphConfig>,
    agencies: &[RunningDepartment],
) {
    let declarations = env_number("BORDER_BENCH_DECLARATIONS", 5_000);
    let levels = concurrency_levels();
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(url.clone()),
        subgraphs,
        ..Config::default()
    };
    config.border.subgraphs = agencies
        .iter()
        .map(|a| (a.name().to_owned(), a.url()))
        .collect();
    config.rate_limit.enabled = false;
    config.tellonce.delivery_workers = 0;
    let store = tellonce::store::Store::open(&url).expect("open the database");
    tellonce::auth::api_keys::add_with_key(
        &store,
        tellonce::auth::api_keys::NewPrincipal {
            name: "bench-declarant".into(),
            kind: tellonce::auth::PrincipalKind::Frontend,
            scopes: ["border:declare".to_string()].into(),
            department: None,
            nino: None,
        },
        DECLARANT_KEY.into(),
    )
    .expect("add the declarant");
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").expect("bind"))
        .await
        .expect("hub starts");
    let arrives = (chrono::Utc::now() + chrono::Duration::hours(6))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let complete = |r: &Value| {
        r["data"]["declareConsignment"]["status"]
            .as_str()
            .is_some_and(|s| s != "PROVISIONAL")
    };
    let mut runs = Vec::new();
    for &concurrency in &levels {
        // Keys of their own per level: a replayed key would be answered
        // from the first declaration, not processed.
        let body = {
            let arrives = arrives.clone();
            Arc::new(
                move |n: u32| json!({ "query": DECLARE, "variables": { "d": declaration(n, &arrives), "k": format!("bench-{concurrency}-{n}") } }),
            )
        };
        let (seconds, latencies) = drive(
            &hub.graphql_url(),
            Some(DECLARANT_KEY),
            declarations,
            concurrency,
            body,
            complete,
        )
        .await;
        runs.push((concurrency, seconds, latencies));
    }
    hub.stop().await;

    for (concurrency, seconds, latencies) in runs {
        let slowest = slowest_agency(agencies, &arrives, declarations.min(3000), concurrency).await;
        println!(
            "{backend:<10} {declarations} declarations in {seconds:.2} s = {:.0} declarations/s ({concurrency} concurrent clients), each answered with its complete plan; declaration to complete plan p50 {:.1} ms, p99 {:.1} ms; slowest agency alone ({}) p50 {:.1} ms, p99 {:.1} ms; p99 beyond it {:.1} ms",
            f64::from(declarations) / seconds,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            slowest.0,
            slowest.1,
            slowest.2,
            percentile(&latencies, 0.99) - slowest.2,
        );
    }
}

/// The concurrent clients of each run: `BORDER_BENCH_CONCURRENCY`, a
/// comma-separated list (default 16, 32 and 64), so the report shows how
/// latency grows with load at each throughput.
fn concurrency_levels() -> Vec<u32> {
    let levels: Vec<u32> = std::env::var("BORDER_BENCH_CONCURRENCY")
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .filter(|n| *n > 0)
                .collect()
        })
        .unwrap_or_default();
    if levels.is_empty() {
        vec![16, 32, 64]
    } else {
        levels
    }
}

/// Each agency alone at `concurrency`: the slowest one's name, p50 and p99
/// (its own time, which a plan cannot beat).
async fn slowest_agency(
    agencies: &[RunningDepartment],
    arrives: &str,
    requests: u32,
    concurrency: u32,
) -> (String, f64, f64) {
    let mut slowest = (String::new(), 0.0f64, 0.0f64);
    for agency in agencies {
        let arrives = arrives.to_owned();
        let body = Arc::new(move |n: u32| {
            let mut consignment = declaration(n, &arrives);
            consignment["reference"] = json!(format!("c-{n}"));
            consignment["traderFlags"] = json!([]);
            consignment["items"][0]["line"] = json!(1);
            json!({ "query": ASSESS, "variables": { "c": consignment } })
        });
        let answered = |r: &Value| r["data"]["assessRisk"]["riskLevel"].is_string();
        let (_, own) = drive(&agency.url(), None, requests, concurrency, body, answered).await;
        let p99 = percentile(&own, 0.99);
        if p99 > slowest.2 {
            slowest = (agency.name().to_owned(), percentile(&own, 0.5), p99);
        }
    }
    slowest
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let departments = support::start_departments().await;
    let mut agencies = Vec::new();
    for agency in Agency::all() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        agencies.push(
            tellonce_departments::start_agency(*agency, listener, Default::default())
                .await
                .expect("agency"),
        );
    }
    let only = std::env::var("BORDER_BENCH_BACKEND").ok();
    if only.as_deref() != Some("postgres") {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir
            .path()
            .join("tellonce.db")
            .to_string_lossy()
            .into_owned();
        run(
            "sqlite",
            url,
            dir.path(),
            departments.subgraphs.clone(),
            &agencies,
        )
        .await;
    }
    if only.as_deref() != Some("sqlite") {
        match support::PgDatabase::create("tellonce_border_bench") {
            Ok(database) => {
                let dir = tempfile::tempdir().expect("temp dir");
                run(
                    "postgres",
                    database.url.clone(),
                    dir.path(),
                    departments.subgraphs.clone(),
                    &agencies,
                )
                .await;
            }
            Err(error) => println!("postgres: skipped ({error})"),
        }
    }
    for agency in agencies {
        let _ = agency.stop().await;
    }
    departments.stop().await;
}
