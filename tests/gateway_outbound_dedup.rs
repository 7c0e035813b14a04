//! Outbound request deduplication in the gateway: a query's subgraph request
//! joins an identical one in flight, but never a mutation's, never one with
//! different forwarded headers, and never when switched off.

mod gateway_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gateway_support::{as_json, start_slow};
use serde_json::Value;
use tellonce::gateway::{Gateway, GatewayOptions, GraphQLRequest, RequestContext, Supergraph};

/// One subgraph, `store`, with a query field and a mutation.
const STORE_SUPERGRAPH: &str = r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
  mutation: Mutation
}

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}

enum join__Graph {
  STORE @join__graph(name: "store", url: "{{store}}")
}

type Query @join__type(graph: STORE) {
  stock: Int!
}

type Mutation @join__type(graph: STORE) {
  restock: Int!
}
"#;

/// A gateway over a store subgraph that counts its calls and answers after
/// a pause long enough for every concurrent request to arrive.
fn store_gateway(outbound_dedup: bool, calls: Arc<AtomicUsize>) -> Gateway {
    let url = start_slow(
        Duration::from_millis(800),
        r#"{"data":{"stock":7,"restock":8}}"#,
        calls,
    );
    let supergraph =
        Supergraph::parse(&STORE_SUPERGRAPH.replace("{{store}}", &url)).expect("supergraph");
    let options = GatewayOptions {
        outbound_dedup,
        ..GatewayOptions::default()
    };
    Gateway::from_supergraph(Arc::new(supergraph), options).expect("gateway")
}

fn request(query: &str) -> GraphQLRequest {
    GraphQLRequest {
        query: Some(query.to_string()),
        operation_name: None,
        variables: None,
        extensions: None,
    }
}

/// Runs `count` copies of `query` at once, the i-th with `headers(i)`
/// forwarded, and returns each response as JSON.
async fn run_together(
    gateway: &Gateway,
    query: &str,
    count: usize,
    headers: impl Fn(usize) -> Vec<(String, String)>,
) -> Vec<Value> {
    let contexts: Vec<_> = (0..count)
        .map(|i| {
            let mut context = RequestContext::anonymous();
            context.extra_headers = headers(i);
            context
        })
        .collect();
    let runs = contexts
        .iter()
        .map(|context| gateway.execute_in(request(query), context));
    futures::future::join_all(runs)
        .await
        .iter()
        .map(as_json)
        .collect()
}

fn same_headers(_: usize) -> Vec<(String, String)> {
    vec![("x-request-source".into(), "frontend".into())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_query_fetches_in_flight_share_one_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let gateway = store_gateway(true, calls.clone());
    let answers = run_together(&gateway, "{ stock }", 5, same_headers).await;
    for answer in &answers {
        assert_eq!(answer["data"]["stock"], 7, "{answer}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_never_shared() {
    let calls = Arc::new(AtomicUsize::new(0));
    let gateway = store_gateway(true, calls.clone());
    let answers = run_together(&gateway, "mutation { restock }", 4, same_headers).await;
    for answer in &answers {
        assert_eq!(answer["data"]["restock"], 8, "{answer}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "each mutation reaches the subgraph"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_forwarding_different_headers_are_not_shared() {
    let calls = Arc::new(AtomicUsize::new(0));
    let gateway = store_gateway(true, calls.clone());
    run_together(&gateway, "{ stock }", 3, |i| {
        vec![("authorization".into(), format!("Bearer client-{i}"))]
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_every_fetch_calls_the_subgraph() {
    let calls = Arc::new(AtomicUsize::new(0));
    let gateway = store_gateway(false, calls.clone());
    run_together(&gateway, "{ stock }", 3, same_headers).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_shared_call_fails_every_sharer_with_a_clear_error() {
    // Nothing listens on this port: every sharer gets the same clear error.
    let supergraph = Supergraph::parse(
        &STORE_SUPERGRAPH.replace("{{store}}", &gateway_support::closed_port_url()),
    )
    .expect("supergraph");
    let gateway =
        Gateway::from_supergraph(Arc::new(supergraph), GatewayOptions::default()).expect("gateway");
    let answers = run_together(&gateway, "{ stock }", 3, same_headers).await;
    for answer in &answers {
        assert_eq!(answer["data"], Value::Null, "{answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE",
            "{answer}"
        );
    }
}
