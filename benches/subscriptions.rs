//! Subscribers one hub holds over WebSocket (graphql-transport-ws,
//! `lifeEvents`), the time from `tellUsOnce` returning to the event arriving
//! at every subscriber, and the hub's memory per subscriber; then the same
//! through Redis with two hub processes on one PostgreSQL database.
//!
//! `cargo bench --bench subscriptions`. `SUBSCRIPTION_BENCH_SUBSCRIBERS`
//! (default 10000) and `SUBSCRIPTION_BENCH_EVENTS` (default 20) tune the run.
//! The hubs run as `tellonce serve` processes, so their memory is theirs
//! alone and the client sockets do not share their file limit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

mod support;

const REGISTRAR_KEY: &str = "tok_bench-registrar-0123456789abcdef";
/// Subscribers per department principal: under the per-principal limit.
const PER_PRINCIPAL: usize = 500;
const TELL: &str = "mutation Tell($event: LifeEventInput!, $key: String!) { tellUsOnce(event: $event, idempotencyKey: $key) { eventId ledgerSeq } }";
const FOLLOW: &str = "subscription { lifeEvents { eventId ledgerSeq } }";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn subscriber_key(n: usize) -> String {
    format!("tok_bench-hmrc-{n:04}-0123456789abcdef")
}

fn add_principals(url: &str, subscribers: usize) {
    use tellonce::auth::api_keys::{add_with_key, NewPrincipal};
    use tellonce::auth::PrincipalKind;
    let store = tellonce::store::Store::open(url).expect("open the database");
    let mut principals = vec![(
        "bench-registrar".to_string(),
        PrincipalKind::Registrar,
        None,
        REGISTRAR_KEY.to_string(),
    )];
    for n in 0..subscribers.div_ceil(PER_PRINCIPAL) {
        principals.push((
            format!("bench-hmrc-{n}"),
            PrincipalKind::Department,
            Some("hmrc".to_string()),
            subscriber_key(n),
        ));
    }
    for (name, kind, department, key) in principals {
        add_with_key(
            &store,
            NewPrincipal {
                name,
                kind,
                scopes: Default::default(),
                department,
                nino: None,
            },
            key,
        )
        .expect("add a principal");
    }
}

/// A `tellonce serve` process.
struct Hub {
    child: Child,
    url: String,
}

impl Hub {
    fn start(
        dir: &std::path::Path,
        name: &str,
        database: &str,
        redis: Option<&str>,
        subgraphs: &[tellonce::config::SubgraphConfig],
    ) -> Hub {
        let mut toml = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\ndatabase_url = {database:?}\n\n[tellonce]\ndelivery_workers = 0\n\n[rate_limit]\nenabled = false\n",
            dir.display().to_string()
        );
        if let Some(redis) = redis {
            toml.push_str(&format!(
                "\n[events]\nredis_url = {redis:?}\npoll_interval_ms = 60000\n"
            ));
        }
        for s in subgraphs {
            toml.push_str(&format!(
                "\n[[subgraphs]]\nname = {:?}\nurl = {:?}\nschema_file = {:?}\n",
                s.name,
                s.url,
                s.schema_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
        }
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, toml).expect("write the config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tellonce"))
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tellonce");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the hub's first line");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("the hub did not start: {line:?}"))
            .to_owned();
        Hub { child, url }
    }

    /// Resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Arrival times: `arrivals[event][subscriber]`.
type Arrivals = Arc<Mutex<Vec<Vec<Instant>>>>;

/// Opens one subscriber and records when each event reaches it.
async fn subscriber(url: String, key: String, arrivals: Arrivals, ready: Arc<AtomicUsize>) {
    let mut request = url
        .replacen("http", "ws", 1)
        .into_client_request()
        .expect("URL");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {key}")}});
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": FOLLOW}});
    let mut counted = false;
    let mut seen = 0usize;
    while let Some(Ok(frame)) = socket.next().await {
        let Message::Text(text) = frame else { continue };
        let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match message["type"].as_str() {
            Some("connection_ack") => {
                socket
                    .send(Message::Text(subscribe.to_string().into()))
                    .await
                    .expect("subscribe");
                if !counted {
                    counted = true;
                    ready.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some("ping") => {
                let _ = socket
                    .send(Message::Text(json!({"type": "pong"}).to_string().into()))
                    .await;
            }
            Some("next") => {
                let now = Instant::now();
                if let Ok(mut arrivals) = arrivals.lock() {
                    if let Some(slot) = arrivals.get_mut(seen) {
                        slot.push(now);
                    }
                }
                seen += 1;
            }
            Some("error") | Some("complete") => {
                eprintln!("subscriber ended: {message}");
                return;
            }
            _ => {}
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Connects `subscribers` spread over `hubs`, tells `events` deaths to the
/// first hub one at a time and reports latency and memory.
async fn measure(label: &str, hubs: &[Hub], subscribers: usize, events: usize) {
    let client = reqwest::Client::new();
    let rss_before: Vec<u64> = hubs.iter().map(Hub::rss_kib).collect();
    let arrivals: Arrivals = Arc::new(Mutex::new(vec![Vec::new(); events]));
    let ready = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(subscribers);
    for n in 0..subscribers {
        let url = hubs[n % hubs.len()].url.clone();
        tasks.push(tokio::spawn(subscriber(
            url,
            subscriber_key(n / PER_PRINCIPAL),
            arrivals.clone(),
            ready.clone(),
        )));
        if n % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    while ready.load(Ordering::Relaxed) < subscribers {
        if started.elapsed() > Duration::from_secs(300) {
            println!(
                "{label}: only {} of {subscribers} subscribers connected",
                ready.load(Ordering::Relaxed)
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connected = ready.load(Ordering::Relaxed);
    // Let the subscriptions open on the hub.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after: Vec<u64> = hubs.iter().map(Hub::rss_kib).collect();
    let mut latencies = Vec::with_capacity(subscribers * events);
    let mut complete = 0;
    for k in 0..events {
        let body = json!({ "query": TELL, "variables": {
            "key": format!("{label}-{k}"),
            "event": { "death": { "nino": format!("TC{:06}A", 900_000 + k), "givenNames": "Alex",
                "familyName": "Example", "dateOfDeath": "2026-10-01" } } } });
        let response: Value = client
            .post(&hubs[0].url)
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
        let told = Instant::now();
        let deadline = told + Duration::from_secs(30);
        loop {
            let arrived = arrivals.lock().map(|a| a[k].len()).unwrap_or(0);
            if arrived >= connected || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let arrivals = arrivals.lock().expect("arrivals");
        if arrivals[k].len() >= connected {
            complete += 1;
        }
        latencies.extend(
            arrivals[k]
                .iter()
                .map(|t| t.saturating_duration_since(told).as_secs_f64() * 1000.0),
        );
    }
    latencies.sort_by(f64::total_cmp);
    let grown: u64 = rss_after
        .iter()
        .zip(&rss_before)
        .map(|(a, b)| a.saturating_sub(*b))
        .sum();
    println!(
        "{label}: {connected} subscribers on {} hub(s), {events} events ({complete} reached every subscriber): latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; hub memory {:.1} KB per subscriber (RSS {:?} -> {:?} KiB)",
        hubs.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        grown as f64 * 1.024 / connected.max(1) as f64,
        rss_before,
        rss_after,
    );
    for task in tasks {
        task.abort();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let subscribers = env_number("SUBSCRIPTION_BENCH_SUBSCRIBERS", 10_000);
        let events = env_number("SUBSCRIPTION_BENCH_EVENTS", 20);
        let departments = support::start_departments().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = dir.path().join("bench.db").display().to_string();
        add_principals(&sqlite, subscribers);
        {
            let hub = Hub::start(dir.path(), "one", &sqlite, None, &departments.subgraphs);
            measure(
                "one instance (SQLite, in process broker)",
                &[hub],
                subscribers,
                events,
            )
            .await;
        }
        match support::PgDatabase::create("bench_subscriptions") {
            Ok(db) => {
                add_principals(&db.url, subscribers);
                let redis = "redis://127.0.0.1:6379";
                let hubs = [
                    Hub::start(
                        dir.path(),
                        "first",
                        &db.url,
                        Some(redis),
                        &departments.subgraphs,
                    ),
                    Hub::start(
                        dir.path(),
                        "second",
                        &db.url,
                        Some(redis),
                        &departments.subgraphs,
                    ),
                ];
                measure(
                    "two instances (PostgreSQL, Redis)",
                    &hubs,
                    subscribers,
                    events,
                )
                .await;
            }
            Err(error) => println!("two instances: skipped, PostgreSQL unreachable: {error}"),
        }
        departments.stop().await;
    });
}
