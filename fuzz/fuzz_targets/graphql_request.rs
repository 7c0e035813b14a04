//! An HTTP request body as `/graphql` POST reads it (src/http/graphql.rs):
//! one `GraphQLRequest` object, or a JSON array of them (a batch), then the
//! gateway's prepare path for each request that has a query (parse, pick
//! the operation, scan and measure it against the default `RequestLimits`,
//! validate, compile the shape, normalize, plan), the
//! operation-kind peek the inbound dedup uses, and variable coercion
//! against the prepared operation's variable definitions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tellonce::gateway::prepare::{operation_kind, prepare};
use tellonce::gateway::variables::coerce_variables;
use tellonce::gateway::{GraphQLRequest, RequestLimits};
use tellonce_fuzz::{api_index, on_worker_stack, supergraph};

fn run(request: &GraphQLRequest) {
    let Some(query) = request.query.as_deref() else {
        return;
    };
    let supergraph = supergraph();
    let name = request.operation_name.as_deref();
    // A client request: the default limits, validated against the public API.
    let limits = RequestLimits::default();
    let kind = operation_kind(query, name, &limits);
    match prepare(supergraph, query, name, &limits, false) {
        Ok(prepared) => {
            // A document that prepares has an operation of a known kind.
            assert_eq!(kind.ok(), Some(prepared.kind), "operation_kind disagrees with prepare");
            let _ = coerce_variables(
                &prepared.variable_definitions,
                request.variables.as_ref(),
                api_index(),
            );
            // The second time is a cache hit and must be the same operation.
            let again = prepare(supergraph, query, name, &limits, false)
                .expect("a cached document prepares again");
            assert_eq!(again.kind, prepared.kind);
        }
        Err(errors) => assert!(!errors.is_empty(), "prepare failed without an error"),
    }
}

fuzz_target!(|data: &[u8]| {
    // Loaded outside the timed worker so the first input is not charged for it.
    let _ = (supergraph(), api_index());
    on_worker_stack(|| {
        // As the HTTP layer decides: a body whose first non-blank byte is `[` is a batch.
        if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            if let Ok(items) = serde_json::from_slice::<Vec<Value>>(data) {
                for item in items {
                    if let Ok(one) = serde_json::from_value::<GraphQLRequest>(item) {
                        run(&one);
                    }
                }
            }
            // Also decoded directly as an array of requests.
            if let Ok(all) = serde_json::from_slice::<Vec<GraphQLRequest>>(data) {
                for one in &all {
                    run(one);
                }
            }
        } else if let Ok(one) = serde_json::from_slice::<GraphQLRequest>(data) {
            run(&one);
        }
    });
});
