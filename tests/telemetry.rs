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
    // Each request looks its document up once, however many stages use it.
    let queried = scrape(&base).await;
    let documents = |result| {
        moved(
            &before,
            &queried,
            "tellonce_cache_lookups_total",
            &[("cache", "document"), ("result", result)],
        )
    };
    assert_eq!(
        (documents("miss"), documents("hit")),
        (2.0, 1.0),
        "{queried}"
    );
    // Refused for its depth, before it is parsed.
    let nested = "{ ".to_string() + &"a { ".repeat(20) + "b" + &" }".repeat(20) + " }";
    let refused = graphql(&url, &nested, json!({})).await;
    // …and refused once: its document is not prepared again to execute it.
    let after_refusal = scrape(&base).await;
    assert_eq!(
        moved(
            &queried,
            &after_refusal,
            "tellonce_cache_lookups_total",
            &[("cache", "document"), ("result", "miss")],
        ),
        1.0,
        "{after_refusal}"
    );
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

/// An OTLP/HTTP receiver of our own: it keeps every JSON export it is sent
/// and answers each with success.
struct OtlpReceiver {
    url: String,
    exports: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl OtlpReceiver {
    async fn start() -> OtlpReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
        let exports: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
        let kept = exports.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = serve_exports(stream, kept).await;
                });
            }
        });
        OtlpReceiver { url, exports }
    }

    /// Every span received so far.
    fn spans(&self) -> Vec<Value> {
        let exports = self.exports.lock().unwrap();
        exports
            .iter()
            .flat_map(|export| {
                export["resourceSpans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|resource| {
                resource["scopeSpans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|scope| scope["spans"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// The service name of the first export.
    fn service_name(&self) -> Option<String> {
        let exports = self.exports.lock().unwrap();
        exports.first()?["resourceSpans"][0]["resource"]["attributes"]
            .as_array()?
            .iter()
            .find(|a| a["key"] == "service.name")?["value"]["stringValue"]
            .as_str()
            .map(str::to_owned)
    }
}

/// Reads HTTP/1.1 requests with a `content-length` body off one connection.
async fn serve_exports(
    stream: tokio::net::TcpStream,
    kept: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::io::BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await?;
        if let Ok(export) = serde_json::from_slice(&body) {
            kept.lock().unwrap().push(export);
        }
        stream
            .get_mut()
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            )
            .await?;
    }
}

/// A TCP proxy in front of a subgraph that keeps every byte the hub sent it.
struct RecordingProxy {
    port: u16,
    sent: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    async fn start(target: std::net::SocketAddr) -> RecordingProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent: std::sync::Arc<std::sync::Mutex<Vec<u8>>> = Default::default();
        let recorded = sent.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_hub, mut to_hub) = inbound.into_split();
                    let (mut from_subgraph, mut to_subgraph) = outbound.into_split();
                    tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut from_subgraph, &mut to_hub).await;
                    });
                    let mut buffer = vec![0; 16 * 1024];
                    while let Ok(n) = from_hub.read(&mut buffer).await {
                        if n == 0 || to_subgraph.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                        recorded.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                });
            }
        });
        RecordingProxy { port, sent }
    }

    /// The `traceparent` values of every request sent so far.
    fn traceparents(&self) -> Vec<String> {
        let sent = String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned();
        sent.lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("traceparent")
                    .then(|| value.trim().to_owned())
            })
            .collect()
    }

    fn requests(&self) -> usize {
        String::from_utf8_lossy(&self.sent.lock().unwrap())
            .matches("POST ")
            .count()
    }
}

async fn post_with(url: &str, query: &str, traceparent: Option<&str>) -> Value {
    let mut request = reqwest::Client::new()
        .post(url)
        .timeout(Duration::from_secs(30))
        .header("authorization", format!("Bearer {OPERATOR_KEY}"))
        .json(&json!({ "query": query }));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    request
        .send()
        .await
        .expect("the request")
        .json()
        .await
        .expect("a JSON answer")
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";
const CLIENT_TRACE_2: &str = "5bf92f3577b34da6a3ce929d0e0e4737";
const CLIENT_TRACE_3: &str = "6bf92f3577b34da6a3ce929d0e0e4738";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traces_reach_an_otlp_receiver_and_follow_the_request_to_its_subgraphs() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let dvla = RecordingProxy::start(
        departments.addrs[Department::all()
            .iter()
            .position(|d| *d == Department::Dvla)
            .unwrap()],
    )
    .await;
    let receiver = OtlpReceiver::start().await;
    let subgraphs = departments.subgraphs(|department, url| match department {
        Department::Dvla => format!("http://127.0.0.1:{}/graphql", dvla.port),
        _ => url,
    });
    let mut config = hub_config(&db, subgraphs.clone());
    config.telemetry.otlp_endpoint = Some(receiver.url.parse().expect("an endpoint"));
    config.telemetry.otlp_export_ms = 100;
    config.telemetry.service_name = "tellonce-under-test".into();
    let hub = HubProcess::start(&config, db.dir.path());

    // A client's trace is continued…
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let body = post_with(&hub.url, PERSON, Some(&traceparent)).await;
    assert!(
        body["data"]["taxpayer"]["drivingLicence"].is_object(),
        "{body}"
    );
    let spans = eventually("the request's spans", Duration::from_secs(20), || async {
        let spans: Vec<Value> = receiver
            .spans()
            .into_iter()
            .filter(|s| s["traceId"] == CLIENT_TRACE)
            .collect();
        spans
            .iter()
            .any(|s| s["name"] == "request")
            .then_some(spans)
    })
    .await;
    assert_eq!(
        receiver.service_name().as_deref(),
        Some("tellonce-under-test")
    );
    let named =
        |name: &str| -> Vec<&Value> { spans.iter().filter(|s| s["name"] == name).collect() };
    let request = named("request");
    assert_eq!(request.len(), 1, "one request span: {spans:?}");
    assert_eq!(request[0]["parentSpanId"], CLIENT_SPAN, "{:?}", request[0]);
    let request_id = request[0]["spanId"].as_str().unwrap();
    let nodes = named("plan_node");
    assert!(
        nodes.len() >= 2,
        "a fetch from HMRC, then from DVLA: {spans:?}"
    );
    for node in &nodes {
        assert_eq!(node["parentSpanId"], request_id, "{node:?}");
    }
    let calls = named("subgraph_call");
    assert_eq!(calls.len(), nodes.len(), "one call per fetch: {spans:?}");
    for call in &calls {
        assert!(
            nodes.iter().any(|n| n["spanId"] == call["parentSpanId"]),
            "each call is inside its plan node: {call:?}"
        );
    }
    // …and handed on to the subgraph, as the call's own span.
    let dvla_call = calls
        .iter()
        .find(|c| attribute(c, "subgraph").and_then(|v| v["stringValue"].as_str()) == Some("dvla"))
        .unwrap_or_else(|| panic!("a call to DVLA: {calls:?}"));
    assert_eq!(
        dvla.traceparents(),
        vec![format!(
            "00-{CLIENT_TRACE}-{}-01",
            dvla_call["spanId"].as_str().unwrap()
        )]
    );

    // A request without one starts a trace of its own.
    let body = post_with(&hub.url, PERSON, None).await;
    assert!(body["data"]["taxpayer"].is_object(), "{body}");
    eventually("a new trace", Duration::from_secs(20), || async {
        receiver
            .spans()
            .iter()
            .any(|s| {
                s["name"] == "request"
                    && s["traceId"] != CLIENT_TRACE
                    && s["parentSpanId"].as_str().unwrap_or("").is_empty()
            })
            .then_some(())
    })
    .await;
    assert_eq!(dvla.traceparents().len(), 2, "{:?}", dvla.traceparents());
    drop(hub);

    // Sampling new traces at 0: a client's sampled trace is still traced,
    // an unsampled or new one is not (and nothing is handed on for it).
    config.telemetry.trace_sample_ratio = 0.0.try_into().expect("a ratio");
    let hub = HubProcess::start(&config, db.dir.path());
    let unsampled = format!("00-{CLIENT_TRACE_2}-{CLIENT_SPAN}-00");
    for traceparent in [None, Some(unsampled.as_str())] {
        let body = post_with(&hub.url, PERSON, traceparent).await;
        assert!(body["data"]["taxpayer"].is_object(), "{body}");
    }
    let sampled = format!("00-{CLIENT_TRACE_3}-{CLIENT_SPAN}-01");
    let body = post_with(&hub.url, PERSON, Some(&sampled)).await;
    assert!(body["data"]["taxpayer"].is_object(), "{body}");
    eventually("the sampled trace", Duration::from_secs(20), || async {
        receiver
            .spans()
            .iter()
            .any(|s| s["name"] == "request" && s["traceId"] == CLIENT_TRACE_3)
            .then_some(())
    })
    .await;
    let traces: std::collections::BTreeSet<String> = receiver
        .spans()
        .iter()
        .filter_map(|s| s["traceId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        traces.len(),
        3,
        "the two earlier traces and the sampled one: {traces:?}"
    );
    let handed_on = dvla.traceparents();
    assert_eq!(handed_on.len(), 3, "{handed_on:?}");
    assert!(
        handed_on[2].starts_with(&format!("00-{CLIENT_TRACE_3}-")),
        "{handed_on:?}"
    );
    drop(hub);

    // With traces off (the default) nothing is exported or handed on.
    let config = hub_config(&db, subgraphs);
    let hub = HubProcess::start(&config, db.dir.path());
    let before = (receiver.spans().len(), dvla.requests());
    let body = post_with(&hub.url, PERSON, Some(&traceparent)).await;
    assert!(
        body["data"]["taxpayer"]["drivingLicence"].is_object(),
        "{body}"
    );
    assert_eq!(dvla.requests(), before.1 + 1);
    assert_eq!(
        dvla.traceparents().len(),
        3,
        "no traceparent when traces are off"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.spans().len(), before.0);
}
