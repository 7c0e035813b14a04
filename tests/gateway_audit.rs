//! The federation gateway audit's test cases run straight through the
//! gateway core (no HTTP layer). Needs the audit's subgraph server running:
//! `AUDIT_URL=http://localhost:4200 cargo test --test gateway_audit -- --ignored`
//! (optionally `AUDIT_SUITE=name` for one suite).

use std::sync::Arc;

use serde_json::Value;
use tellonce::gateway::{Gateway, GatewayOptions, GraphQLRequest, Supergraph};

async fn get(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the audit's subgraph server (AUDIT_URL)"]
async fn federation_gateway_audit() {
    let base = std::env::var("AUDIT_URL").expect("AUDIT_URL");
    let client = reqwest::Client::new();
    let ids: Vec<String> = match std::env::var("AUDIT_SUITE") {
        Ok(one) => vec![one],
        Err(_) => serde_json::from_str(&get(&client, &format!("{base}/ids")).await).unwrap(),
    };
    let mut passed = 0;
    let mut failed = Vec::new();
    for id in ids {
        let sdl = get(&client, &format!("{base}/{id}/supergraph")).await;
        let tests: Vec<Value> =
            serde_json::from_str(&get(&client, &format!("{base}/{id}/tests")).await).unwrap();
        let supergraph = match Supergraph::parse(&sdl) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                for i in 0..tests.len() {
                    failed.push(format!("{id}_{i}: supergraph: {e}"));
                }
                continue;
            }
        };
        let gateway = Gateway::from_supergraph(supergraph, GatewayOptions::default()).unwrap();
        for (i, test) in tests.iter().enumerate() {
            let request = GraphQLRequest {
                query: test["query"].as_str().map(str::to_string),
                ..GraphQLRequest::default()
            };
            if std::env::var("AUDIT_PLAN").is_ok() {
                if let Ok(prepared) = tellonce::gateway::prepare::prepare(
                    gateway.supergraph(),
                    test["query"].as_str().unwrap_or(""),
                    None,
                    &tellonce::gateway::RequestLimits::default(),
                    false,
                ) {
                    if let Some(plan) = &prepared.plan {
                        eprintln!("PLAN {id}_{i}:\n{}", plan.display);
                    }
                }
            }
            let response = gateway.execute(request).await;
            let received_data = response.data.clone().unwrap_or(Value::Null);
            let expected = &test["expected"];
            let expected_data = expected.get("data").cloned().unwrap_or(Value::Null);
            let errors_ok = match expected.get("errors").and_then(Value::as_bool) {
                Some(want) => want != response.errors.is_empty(),
                None => true,
            };
            if received_data == expected_data && errors_ok {
                passed += 1;
            } else {
                failed.push(format!(
                    "{id}_{i}:\n  query: {}\n  expected: {expected}\n  received: {}",
                    test["query"]
                        .as_str()
                        .unwrap_or("")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    serde_json::to_string(&response).unwrap()
                ));
            }
        }
    }
    for f in &failed {
        eprintln!("FAIL {f}");
    }
    eprintln!("{passed} passed, {} failed", failed.len());
    assert!(failed.is_empty());
}
