//! The hostile-query suite through HTTP: each request refused quickly with
//! its code, the process's memory held, other clients served meanwhile,
//! nothing written. Alone in its test binary: it measures the memory of the
//! whole process, which tests running beside it would inflate.

mod hub_support;

use std::time::{Duration, Instant};

use hub_support::*;
use serde_json::{json, Value};

const PERSON: &str = r#"{ taxpayer(nino: "JK528194C") { name } }"#;
const TELL: &str = "mutation($event: LifeEventInput!, $key: String!) { tellUsOnce(event: $event, idempotencyKey: $key) { eventId departments } }";

fn body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

async fn as_key(url: &str, query: &str, variables: Value, key: Option<&str>) -> Reply {
    post_as(url, &body(query, variables), "application/json", None, key).await
}

fn death(nino: &str) -> Value {
    json!({ "death": { "nino": nino, "givenNames": "Alex", "familyName": "Example", "dateOfDeath": "2026-10-01" } })
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A hostile request: (name, body, expected HTTP status, expected code).
fn hostile_cases() -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let request = |query: String| body(&query, json!({})).into_bytes();
    let mut fragments = String::from("query { ...F9 }\nfragment F0 on Query { __typename }\n");
    for i in 1..10 {
        fragments.push_str(&format!(
            "fragment F{i} on Query {{ {} }}\n",
            format!("...F{} ", i - 1).repeat(10)
        ));
    }
    let aliases: String = (0..50_000)
        .map(|i| format!("a{i}: hub {{ version }} "))
        .collect();
    let depth = format!(
        "{{{}}}",
        "hub { subgraphs { name } ".repeat(500) + &"}".repeat(1000)
    );
    let roots: String = (0..10_000).map(|i| format!("r{i}: __typename ")).collect();
    let directives = format!(
        "{{ hub {} {{ version }} }}",
        "@include(if: true) ".repeat(10_000)
    );
    let batch = format!(
        "[{}]",
        vec![r#"{"query":"{ hub { version } }"}"#; 1_000].join(",")
    );
    let nested = "[".repeat(100_000) + &"]".repeat(100_000);
    let repeated = format!("{{ {} }}", "hub { version } ".repeat(5_000));
    let mut invalid_utf8 = br#"{"query":"{ hub { version } }", "x": ""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0x80]);
    invalid_utf8.extend_from_slice(br#""}"#);
    // (serde skips unknown fields without decoding them: the hub checks the whole body.)
    let long_key = body(
        TELL,
        json!({ "event": death("AB123456C"), "key": "k".repeat(1 << 20) }),
    )
    .into_bytes();
    let mut nul_event = death("AB123456C");
    nul_event["death"]["givenNames"] = json!("Al\u{0000}ex");
    let nul = body(TELL, json!({ "event": nul_event, "key": "nul" })).into_bytes();
    let nul_literal = request(r#"{ taxpayer(nino: "JK528194C\u0000") { name } }"#.into());
    vec![
        (
            "fragment expansion",
            request(fragments),
            200,
            "QUERY_TOO_COMPLEX",
        ),
        ("50,000 aliases", request(aliases), 200, "QUERY_TOO_COMPLEX"),
        ("depth 1,000", request(depth), 200, "QUERY_TOO_COMPLEX"),
        (
            "10,000 root fields",
            request(roots),
            200,
            "QUERY_TOO_COMPLEX",
        ),
        (
            "10,000 directives",
            request(directives),
            200,
            "QUERY_TOO_COMPLEX",
        ),
        (
            "batch of 1,000",
            batch.into_bytes(),
            400,
            "QUERY_TOO_COMPLEX",
        ),
        ("50 MB body", vec![b' '; 50 << 20], 413, "BAD_USER_INPUT"),
        (
            "100,000 nested arrays",
            nested.into_bytes(),
            400,
            "BAD_USER_INPUT",
        ),
        ("invalid UTF-8", invalid_utf8, 400, "BAD_USER_INPUT"),
        ("1 MB idempotency key", long_key, 200, "BAD_USER_INPUT"),
        (
            "5,000 repeated root fields",
            request(repeated),
            200,
            "QUERY_TOO_COMPLEX",
        ),
        ("NUL in a variable", nul, 200, "BAD_USER_INPUT"),
        ("NUL in a literal", nul_literal, 200, "BAD_USER_INPUT"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_requests_are_refused_cheaply() {
    let demo = start_demo().await;
    let url = demo.url();
    let client = reqwest::Client::new();
    // Warm up, so the baseline includes what any first request allocates.
    let warm = as_key(&url, PERSON, json!({}), Some(FRONTEND_KEY)).await;
    assert!(warm.json()["errors"].is_null(), "{}", warm.body);
    let size_before = demo.hub.ledger.size().expect("ledger size");
    let rss_before = rss_kib();
    // Another client keeps asking while the hostile requests arrive.
    let bystander_url = url.clone();
    let bystander = tokio::spawn(async move {
        let mut served = 0;
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let reply = as_key(&bystander_url, PERSON, json!({}), Some(FRONTEND_KEY)).await;
            assert!(reply.json()["errors"].is_null(), "{}", reply.body);
            served += 1;
        }
        served
    });
    for (name, payload, status, code) in hostile_cases() {
        let started = Instant::now();
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {REGISTRAR_KEY}"))
            .body(payload)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got_status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name}: not GraphQL JSON ({e}): {text:.200}"));
        let first = &json["errors"][0];
        assert_eq!(first["extensions"]["code"], code, "{name}: {text:.300}");
        assert_eq!(got_status, status, "{name}: {text:.300}");
        assert!(
            json.get("data").is_none() || json["data"].is_null() || code != "QUERY_TOO_COMPLEX",
            "{name}"
        );
        // Generous: a debug build on a loaded 2-core machine; a refused
        // request costs microseconds in release.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} took {:?}",
            started.elapsed()
        );
    }
    let served = bystander.await.expect("bystander");
    assert!(served > 0, "the other client was served meanwhile");
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 50, "memory grew by {grown_mib} MiB");
    assert_eq!(
        demo.hub.ledger.size().expect("size"),
        size_before,
        "nothing written"
    );
}
