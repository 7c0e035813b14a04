//! Helpers shared by the fuzz targets: the supergraph the GraphQL targets
//! prepare against, a worker stack as small as production's, and the fixed
//! keys the ledger targets sign and verify with.

use std::sync::{Arc, OnceLock};

use tellonce::gateway::compose::{compose_subgraphs, SubgraphSource};
use tellonce::gateway::schema_index::SchemaIndex;
use tellonce::gateway::Supergraph;
use tellonce::ledger::keys::{NoteSigner, NoteVerifier};
use tellonce_departments::Department;

/// The demo's supergraph: the six example departments plus the hub's own
/// subgraph, composed as `tellonce compose` does (src/main.rs `compose`).
pub fn supergraph() -> &'static Supergraph {
    static SUPERGRAPH: OnceLock<Supergraph> = OnceLock::new();
    SUPERGRAPH.get_or_init(|| {
        let mut sources: Vec<SubgraphSource> = Department::all()
            .iter()
            .enumerate()
            .map(|(i, d)| SubgraphSource {
                name: d.name().to_string(),
                url: format!("http://127.0.0.1:{}/graphql", 4101 + i),
                sdl: d.sdl(),
            })
            .collect();
        sources.push(tellonce::server::hub_subgraph_source());
        let composition = compose_subgraphs(&sources).expect("the demo subgraphs compose");
        Supergraph::parse(&composition.supergraph_sdl).expect("the composed supergraph loads")
    })
}

/// The public API schema as a type index, for variable coercion.
pub fn api_index() -> &'static SchemaIndex {
    static INDEX: OnceLock<SchemaIndex> = OnceLock::new();
    INDEX.get_or_init(|| SchemaIndex::from_document(Arc::new(supergraph().api_schema().clone())))
}

/// Stack size of the threads requests run on in production (actix-web
/// workers and tokio runtime threads use Rust's default 2 MiB).
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Runs `f` on a thread with a production-sized stack, so deep recursion
/// overflows here when it would overflow in the server (the fuzzer's main
/// thread has 8 MiB). A panic on that thread aborts the process through
/// libfuzzer-sys's panic hook, so it is reported as a crash.
pub fn on_worker_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("fuzz-worker".into())
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, f)
            .expect("spawn the worker thread")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// The log key the ledger targets sign exports and checkpoints with
/// (a fixed seed, so seed corpora carry valid signatures).
pub const LOG_SKEY: &str =
    "PRIVATE+KEY+fuzz.tellonce.example+2298fdf2+AWmoVJHi+h+7WcpmGrv/934eGYYpASiJ/4LUhJDqKFkS";
pub const LOG_VKEY: &str =
    "fuzz.tellonce.example+2298fdf2+Aa3uh5bzVDxge1Wg0QCAg/sKqHG1aosqCXCk/6C9uPJN";
/// A witness (cosignature/v1) key.
pub const WITNESS_SKEY: &str =
    "PRIVATE+KEY+witness.fuzz.example+1bbab957+BGNSqzcTCSHi7cCwXYjT9GtAi4Ax680gyduYQjAHUZ+u";
pub const WITNESS_VKEY: &str =
    "witness.fuzz.example+1bbab957+BAOVitsJLOx12nIuYxDTK8XXxd0iDNcSiwosyuomGbQw";

pub fn log_signer() -> &'static NoteSigner {
    static KEY: OnceLock<NoteSigner> = OnceLock::new();
    KEY.get_or_init(|| NoteSigner::from_skey(LOG_SKEY).expect("the fixed log key parses"))
}

pub fn log_verifier() -> &'static NoteVerifier {
    static KEY: OnceLock<NoteVerifier> = OnceLock::new();
    KEY.get_or_init(|| {
        let v = NoteVerifier::from_vkey(LOG_VKEY).expect("the fixed log vkey parses");
        assert_eq!(v, log_signer().verifier());
        v
    })
}

pub fn witness_signer() -> &'static NoteSigner {
    static KEY: OnceLock<NoteSigner> = OnceLock::new();
    KEY.get_or_init(|| NoteSigner::from_skey(WITNESS_SKEY).expect("the fixed witness key parses"))
}

pub fn witness_verifier() -> &'static NoteVerifier {
    static KEY: OnceLock<NoteVerifier> = OnceLock::new();
    KEY.get_or_init(|| {
        let v = NoteVerifier::from_vkey(WITNESS_VKEY).expect("the fixed witness vkey parses");
        assert_eq!(v, witness_signer().verifier());
        v
    })
}
