//! Raw bytes as the query document (UTF-8, lossily) through the gateway's
//! prepare path with no operation name and the default `RequestLimits`:
//! limit scan, parse, operation selection, measurement against the limits,
//! validation against the API schema, shape compilation, normalization and
//! query planning against the demo supergraph. Use with
//! `-dict=dicts/graphql.dict`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tellonce::gateway::prepare::prepare;
use tellonce::gateway::RequestLimits;
use tellonce_fuzz::{on_worker_stack, supergraph};

fuzz_target!(|data: &[u8]| {
    let supergraph = supergraph();
    let query = String::from_utf8_lossy(data);
    on_worker_stack(|| {
        if let Err(errors) = prepare(supergraph, &query, None, &RequestLimits::default(), false) {
            assert!(!errors.is_empty(), "prepare failed without an error");
        }
    });
});
