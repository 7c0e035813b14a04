//! What the hub tells the people running it, through its public surface:
//! the Prometheus page moves with requests, subgraph calls, caches,
//! refusals, deliveries and subscriptions; log lines carry no colour codes
//! off a terminal, come as JSON lines on request, and carry the request id.

mod tellonce_support;
mod ws_client;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use tellonce_departments::Department;
use tellonce_support::*;
use ws_client::WsClient;

/// The value of the sample `name` whose labels include every pair of `labels`.
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let has = |(key, wanted): &(&str, &str)| {
                rest.split(',')
                    .any(|pair| pair == format!("{key}=\"{wanted}\""))
            };
            labels.iter().all(has).then(|| value.parse().ok())?
        })
}

async fn scrape(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics");
    assert!(response.status().is_success(), "{}", response.status());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("the page")
}

/// `after - before` for one sample (a sample not yet there counts as 0).
fn moved(before: &str, after: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(after, name, labels).unwrap_or(0.0) - sample(before, name, labels).unwrap_or(0.0)
}

const PERSON: &str = r#"{ taxpayer(nino: "JK528194C") { name drivingLicence { licenceNumber } } }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_metrics_page_moves_with_what_the_hub_does() {
    let db = TestDb::sqlite();
    let mut departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();
    let base = hub.base_url();
    let before = scrape(&base).await;

    // A federated query twice (the second finds its document cached), then
    // spelt otherwise (a new document with the same plan).
    let respelt = PERSON.replace(' ', "  ");
    for query in [PERSON, PERSON, &respelt] {
        let body = graphql(&url, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    // Refused for its depth, before it is parsed.
    let nested = "{ ".to_string() + &"a { ".repeat(20) + "b" + &" }".repeat(20) + " }";
    let refused = graphql(&url, &nested, json!({})).await;
    // A department that is down.
    departments.stop(Department::Dvla).await;
    let partial = graphql(&url, PERSON, json!({})).await;
    assert!(partial.get("errors").is_some(), "{partial}");
    departments.restart(Department::Dvla).await;
    // A death, told to every department.
    let receipt = tell(&url, death(901), "metrics-death").await;
    all_notifications(&url, receipt["eventId"].as_str().unwrap(), "DELIVERED").await;
    // One subscription open.
    let mut client = WsClient::connect(&url, &department_key("hmrc")).await;
    client
        .subscribe("1", "subscription { lifeEvents { eventId } }", json!({}))
        .await;
    let during = eventually("the subscription counted", Duration::from_secs(10), || {
        let base = base.clone();
        let before = before.clone();
        async move {
            let page = scrape(&base).await;
            (moved(
                &before,
                &page,
                "tellonce_subscriptions_open",
                &[("transport", "websocket")],
            ) >= 1.0)
                .then_some(page)
        }
    })
    .await;
    client.close().await;

    let query = [("operation_type", "query")];
    assert!(
        moved(
            &before,
            &during,
            "tellonce_requests_total",
            &[query[0], ("outcome", "ok")]
        ) >= 2.0,
        "{during}"
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_requests_total",
            &[query[0], ("outcome", "errors")]
        ) >= 1.0
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_requests_total",
            &[("outcome", "refused")]
        ) >= 1.0,
        "{refused}"
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_request_duration_seconds_count",
            &query
        ) >= 3.0,
        "latency histogram: {during}"
    );
    assert!(sample(
        &during,
        "tellonce_request_duration_seconds_bucket",
        &[query[0], ("le", "+Inf")]
    )
    .is_some());
    assert!(
        moved(
            &before,
            &during,
            "tellonce_subgraph_requests_total",
            &[("subgraph", "dvla"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_subgraph_requests_total",
            &[("subgraph", "dvla"), ("outcome", "unavailable")]
        ) >= 1.0,
        "{during}"
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_subgraph_request_duration_seconds_count",
            &[("subgraph", "hmrc")]
        ) >= 2.0
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_cache_lookups_total",
            &[("cache", "plan"), ("result", "hit")]
        ) >= 1.0
    );
    assert!(
        moved(
            &before,
            &during,
            "tellonce_cache_lookups_total",
            &[("cache", "document"), ("result", "miss")]
        ) >= 1.0
    );
    assert!(sample(&during, "tellonce_cache_entries", &[("cache", "plan")]).unwrap_or(0.0) >= 1.0);
    assert!(
        moved(
            &before,
            &during,
            "tellonce_refused_requests_total",
            &[("limit", "max_depth")]
        ) >= 1.0,
        "{refused}"
    );
    for department in ["hmrc", "dwp", "local-council", "veterans-uk"] {
        assert!(
            moved(
                &before,
                &during,
                "tellonce_deliveries_total",
                &[("department", department), ("outcome", "delivered")]
            ) >= 1.0,
            "{department}: {during}"
        );
    }
    assert_eq!(
        sample(&during, "tellonce_outbox_depth", &[("department", "hmrc")]).unwrap_or(0.0),
        0.0
    );
    assert!(
        sample(&during, "tellonce_ledger_entries", &[]).unwrap_or(0.0) >= 8.0,
        "{during}"
    );

    // Closed: the subscription is no longer counted.
    eventually(
        "the subscription uncounted",
        Duration::from_secs(10),
        || {
            let base = base.clone();
            let before = before.clone();
            async move {
                let page = scrape(&base).await;
                (moved(
                    &before,
                    &page,
                    "tellonce_subscriptions_open",
                    &[("transport", "websocket")],
                ) == 0.0)
                    .then_some(())
            }
        },
    )
    .await;
    hub.stop().await;
}

/// Runs the hub binary with `args` until it prints its address, makes one
/// request to a department that is down, and returns what it logged.
async fn logs_of_a_failing_request(args: &[&str]) -> String {
    let db = TestDb::sqlite();
    let mut departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let config_file = db.dir.path().join("hub.toml");
    std::fs::write(&config_file, config_toml(&config, "127.0.0.1:0")).unwrap();
    let log_file = db.dir.path().join("hub.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tellonce"))
        .args(["serve", "--config"])
        .arg(&config_file)
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("TELLONCE_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .expect("start the hub");
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line.trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned()
    })
    .await
    .unwrap();
    assert!(url.starts_with("http://"), "{url}");
    departments.stop(Department::Dvla).await;
    let body = graphql(&url, PERSON, json!({})).await;
    assert!(body.get("errors").is_some(), "{body}");
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(&log_file).unwrap()
}

#[tokio::test]
async fn log_lines_are_plain_off_a_terminal_and_carry_the_request_id() {
    let text = logs_of_a_failing_request(&[]).await;
    assert!(!text.contains('\u{1b}'), "no colour codes: {text}");
    let failed = text
        .lines()
        .find(|line| line.contains("subgraph call failed"))
        .unwrap_or_else(|| panic!("the failure is logged: {text}"));
    assert!(failed.contains("request{request_id="), "{failed}");
    assert!(
        failed.contains("subgraph=\"dvla\"") || failed.contains("subgraph=dvla"),
        "{failed}"
    );

    let json_lines = logs_of_a_failing_request(&["--log-format", "json"]).await;
    let lines: Vec<Value> = json_lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    assert!(!lines.is_empty());
    let failed = lines
        .iter()
        .find(|line| line["fields"]["message"] == "subgraph call failed")
        .unwrap_or_else(|| panic!("the failure is logged: {json_lines}"));
    assert_eq!(failed["level"], "WARN");
    assert_eq!(failed["fields"]["subgraph"], "dvla");
    let id = failed["span"]["request_id"]
        .as_str()
        .expect("the request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}
