//! Subscribers one hub holds over WebSocket (graphql-transport-ws,
//! `lifeEvents`), the time from `tellUsOnce` returning to the event arriving
//! at every subscriber, and the hub's memory per subscriber; then the same
//! through Redis with two hub processes on one PostgreSQL database.
//!
//! `cargo bench --bench subscriptions`. `SUBSCRIPTION_BENCH_SUBSCRIBERS`
//! (default 10000) and `SUBSCRIPTION_BENCH_EVENTS` (default 20) tune the run;
//! `SUBSCRIPTION_BENCH_DEDUP=false` runs the hubs with `[gateway]
//! subscription_dedup = false`, every subscription on a run of its own;
//! `SUBSCRIPTION_BENCH_HUB_BIN=PATH` measures another build of `tellonce`
//! (an earlier commit, side by side).
//! The hubs run as `tellonce serve` processes, so their memory is theirs
//! alone and the client sockets do not share their file limit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
        if std::env::var("SUBSCRIPTION_BENCH_DEDUP").is_ok_and(|v| v == "false") {
            toml.push_str("\n[gateway]\nsubscription_dedup = false\n");
        }
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
        // Another build of the hub may be measured side by side with this one.
        let binary = std::env::var("SUBSCRIPTION_BENCH_HUB_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_tellonce").to_string());
        let mut child = Command::new(binary)
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

/// How many subscribers each event has reached so far.
type Reached = Arc<Vec<AtomicUsize>>;

/// One subscriber: connects and is acknowledged (counted in `connected`),
/// subscribes when `go` opens, and returns when each of the `events` events
/// arrived. It does as little as it can per message, so that the machine's
/// time goes to the hub.
async fn subscriber(
    url: String,
    key: String,
    events: usize,
    connected: Arc<AtomicUsize>,
    mut go: tokio::sync::watch::Receiver<bool>,
    reached: Reached,
) -> Vec<Instant> {
    let mut request = url
        .replacen("http", "ws", 1)
        .into_client_request()
        .expect("URL");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let mut arrivals = Vec::with_capacity(events);
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        eprintln!("a subscriber could not connect");
        return arrivals;
    };
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {key}")}});
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": FOLLOW}});
    if socket
        .send(Message::Text(init.to_string().into()))
        .await
        .is_err()
    {
        return arrivals;
    }
    loop {
        let Some(Ok(frame)) = socket.next().await else {
            return arrivals;
        };
        let Message::Text(text) = frame else { continue };
        if text.starts_with("{\"id\":\"1\",\"type\":\"next\"") {
            let now = Instant::now();
            if let Some(count) = reached.get(arrivals.len()) {
                count.fetch_add(1, Ordering::Relaxed);
            }
            arrivals.push(now);
            if arrivals.len() == events {
                return arrivals;
            }
            continue;
        }
        let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match message["type"].as_str() {
            Some("connection_ack") => {
                connected.fetch_add(1, Ordering::Relaxed);
                if go.wait_for(|go| *go).await.is_err() {
                    return arrivals;
                }
                if socket
                    .send(Message::Text(subscribe.to_string().into()))
                    .await
                    .is_err()
                {
                    return arrivals;
                }
            }
            Some("ping") => {
                let _ = socket
                    .send(Message::Text(json!({"type": "pong"}).to_string().into()))
                    .await;
            }
            _ => {
                eprintln!("subscriber ended: {message}");
                return arrivals;
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Connects `subscribers` spread over `hubs`, has them subscribe, tells
/// `events` deaths to the first hub one at a time and reports latency and
/// memory (per connection, then per subscription on top).
async fn measure(label: &str, hubs: &[Hub], subscribers: usize, events: usize) {
    let client = reqwest::Client::new();
    let rss = || hubs.iter().map(Hub::rss_kib).collect::<Vec<u64>>();
    let grown = |after: &[u64], before: &[u64]| -> f64 {
        let kib: u64 = after
            .iter()
            .zip(before)
            .map(|(a, b)| a.saturating_sub(*b))
            .sum();
        kib as f64 * 1.024
    };
    let rss_before = rss();
    let reached: Reached = Arc::new((0..events).map(|_| AtomicUsize::new(0)).collect());
    let connected = Arc::new(AtomicUsize::new(0));
    let (go, going) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(subscribers);
    for n in 0..subscribers {
        let url = hubs[n % hubs.len()].url.clone();
        tasks.push(tokio::spawn(subscriber(
            url,
            subscriber_key(n / PER_PRINCIPAL),
            events,
            connected.clone(),
            going.clone(),
            reached.clone(),
        )));
        if n % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    while connected.load(Ordering::Relaxed) < subscribers {
        if started.elapsed() > Duration::from_secs(300) {
            println!(
                "{label}: only {} of {subscribers} subscribers connected",
                connected.load(Ordering::Relaxed)
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connected = connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = rss();
    let _ = go.send(true);
    // Let the subscriptions open on the hub.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_subscribed = rss();
    let mut told_at = Vec::with_capacity(events);
    let mut complete = 0;
    // Per event, when the last subscriber had it (5 ms resolution).
    let mut everyone_after = Vec::with_capacity(events);
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
        told_at.push(told);
        let deadline = told + Duration::from_secs(30);
        while reached[k].load(Ordering::Relaxed) < connected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if reached[k].load(Ordering::Relaxed) >= connected {
            complete += 1;
            everyone_after.push(told.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let mut latencies = Vec::with_capacity(subscribers * events);
    for task in tasks {
        task.abort();
        if let Ok(arrivals) = task.await {
            latencies.extend(
                arrivals
                    .iter()
                    .zip(&told_at)
                    .map(|(at, told)| at.saturating_duration_since(*told).as_secs_f64() * 1000.0),
            );
        }
    }
    latencies.sort_by(f64::total_cmp);
    let rounded: Vec<String> = everyone_after.iter().map(|ms| format!("{ms:.0}")).collect();
    println!(
        "{label}: each event reached every subscriber after (ms): {}",
        rounded.join(" ")
    );
    let per = connected.max(1) as f64;
    println!(
        "{label}: {connected} subscribers on {} hub(s), {events} events ({complete} reached every subscriber): latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; hub memory {:.1} KB per subscriber ({:.1} KB per acknowledged connection, {:.1} KB per subscription on it; RSS {:?} -> {:?} -> {:?} KiB)",
        hubs.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        grown(&rss_subscribed, &rss_before) / per,
        grown(&rss_connected, &rss_before) / per,
        grown(&rss_subscribed, &rss_connected) / per,
        rss_before,
        rss_connected,
        rss_subscribed,
    );
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
