//! Ledger figures: appends per second on SQLite and PostgreSQL (signed
//! receipts, checkpoints every 10,000 entries, batched and group-committed),
//! inclusion-proof time at 1 M entries, tiles read per second (from the
//! ledger, and served over HTTP to wrk), a tlog-tiles client verifying an
//! inclusion proof from tiles alone, verify throughput.
//!
//! Run: `cargo bench --bench ledger` (PostgreSQL at 127.0.0.1:5432, trust auth;
//! set `LEDGER_BENCH_ENTRIES` to change the 1 M).

use std::sync::Arc;
use std::time::Instant;

use diesel::{Connection, RunQueryDsl};
use tellonce::ledger::{Ledger, LedgerOptions, NewEntry, NoteSigner, SubjectKey};
use tellonce::store::Store;

/// The allocator the `tellonce` binary uses, so figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn entry(n: u64) -> NewEntry {
    NewEntry {
        kind: "bench.appended".into(),
        actor: "hub".into(),
        subject: None,
        payload: serde_json::json!({ "n": n, "department": "HMRC", "event": "change-of-address" }),
    }
}

fn open(url: &str) -> Arc<Ledger> {
    let store = Store::open(url).expect("open store");
    let signer = NoteSigner::generate(
        "bench.example/ledger",
        tellonce::ledger::KeyAlgorithm::Ed25519,
    )
    .expect("key");
    let options = LedgerOptions {
        checkpoint_every_entries: 10_000,
        checkpoint_every_seconds: 10,
        ..LedgerOptions::default()
    };
    Arc::new(Ledger::new(store, signer, SubjectKey::from_bytes([7; 32]), options).expect("ledger"))
}

fn batched(ledger: &Ledger, total: u64, batch: u64) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while n < total {
        let size = batch.min(total - n);
        ledger
            .append_batch((n..n + size).map(entry).collect())
            .expect("append");
        n += size;
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn group_committed(ledger: &Arc<Ledger>, threads: u64, per_thread: u64) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let ledger = Arc::clone(ledger);
            std::thread::spawn(move || {
                for n in 0..per_thread {
                    ledger.append(entry(t * per_thread + n)).expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    (threads * per_thread) as f64 / start.elapsed().as_secs_f64()
}

/// The cost of one Ed25519 signature and verification on one core: the
/// floor under append and verify throughput (one signature per entry).
fn signature_costs() {
    let signer = NoteSigner::generate(
        "bench.example/ledger",
        tellonce::ledger::KeyAlgorithm::Ed25519,
    )
    .expect("key");
    let verifier = signer.verifier();
    let n = 4096usize;
    let messages: Vec<[u8; 67]> = (0..n as u64)
        .map(|i| tellonce::ledger::entry::receipt_message(i, &[i as u8; 32]))
        .collect();
    let start = Instant::now();
    let signatures: Vec<[u8; 64]> = messages.iter().map(|m| signer.sign(m)).collect();
    let sign = start.elapsed().as_secs_f64() / n as f64 * 1e6;
    let start = Instant::now();
    for chunk in messages.chunks(1000) {
        std::hint::black_box(signer.sign_many(chunk));
    }
    let sign_many = start.elapsed().as_secs_f64() / n as f64 * 1e6;
    let start = Instant::now();
    for (m, s) in messages.iter().zip(&signatures) {
        assert!(verifier.verify(m, s));
    }
    let single = start.elapsed().as_secs_f64() / n as f64 * 1e6;
    let start = Instant::now();
    for (m, s) in messages.chunks(512).zip(signatures.chunks(512)) {
        let m: Vec<&[u8]> = m.iter().map(|m| m.as_slice()).collect();
        assert!(verifier.verify_batch(&m, s));
    }
    let batch = start.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!(
        "ed25519  one core: sign {sign:.1} µs (in batches of 1000: {sign_many:.1} µs), verify {single:.1} µs, batch verify (512) {batch:.1} µs per signature"
    );
}

/// Tiles: read from the ledger, served over HTTP (wrk, when installed),
/// and a client's inclusion proof computed from tiles alone and verified.
fn tiles(ledger: &Arc<Ledger>, size: u64) {
    use tellonce::ledger::merkle::{leaf_hash, verify_inclusion};
    use tellonce::ledger::tiles::{TileId, TileKind, TileReader, TILE_WIDTH};
    let backend = if ledger.store().url().starts_with("postgres") {
        "postgres"
    } else {
        "sqlite  "
    };
    let full_tiles = size / TILE_WIDTH;
    let rounds = 5_000u64;
    let start = Instant::now();
    for i in 0..rounds {
        let id = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: (i * 7919) % full_tiles,
            partial: None,
        };
        std::hint::black_box(ledger.tile(&id).expect("tile").expect("full tile"));
    }
    let rate = rounds as f64 / start.elapsed().as_secs_f64();
    println!("{backend} level-0 tiles read from the ledger: {rate:>10.0} tiles/s");

    // A client holding a checkpoint of `size`: fetches the tiles it needs
    // (each proof from a fresh client, so nothing is reused between proofs)
    // and verifies the entry's inclusion.
    let root = ledger
        .inclusion_proof(0, Some(size))
        .expect("root")
        .root_hash;
    let proofs = 2_000u64;
    let start = Instant::now();
    for i in 0..proofs {
        let index = (i * 104_729) % size;
        let mut reader = TileReader::new(size, |id: &TileId| ledger.tile(id).ok().flatten());
        let path = reader.inclusion_path(index).expect("path from tiles");
        let entry = ledger.entry(index).expect("entry").expect("present");
        verify_inclusion(index, size, &leaf_hash(&entry.entry_hash), &path, &root)
            .expect("inclusion verifies");
    }
    let per = start.elapsed().as_secs_f64() / proofs as f64 * 1e6;
    println!("{backend} client inclusion proof from tiles at {size} entries (tiles read, path computed, verified): {per:>8.1} µs/proof");

    // Over HTTP: one full level-0 tile and one level-1 tile, served by the
    // hub's ledger routes to wrk (2 threads, 32 connections, 5 s each).
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("{backend} tiles over HTTP: not measured (wrk is not installed)");
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let served = ledger.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let data = actix_web::web::Data::new(served);
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .app_data(data.clone())
                    .configure(tellonce::http::ledger::configure)
            })
            .workers(2)
            .bind("127.0.0.1:0")
            .expect("bind");
            let _ = tx.send((server.addrs()[0], ()));
            let _ = server.run().await;
        })
    });
    let (addr, ()) = rx.recv().expect("server address");
    let paths = [
        format!(
            "tile/0/{}",
            tellonce::ledger::tiles::encode_index(full_tiles / 2)
        ),
        "tile/1/000".to_string(),
    ];
    for path in paths {
        let url = format!("http://{addr}/ledger/{path}");
        let out = std::process::Command::new("wrk")
            .args(["-t2", "-c32", "-d5s", &url])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        let rate = text
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("n/a");
        println!("{backend} tiles served over HTTP ({path}): {rate:>10} tiles/s");
    }
}

fn main() {
    signature_costs();
    let total: u64 = std::env::var("LEDGER_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");

    // SQLite: batches of 1,000 up to `total` entries.
    let url = dir.path().join("bench.db").to_string_lossy().into_owned();
    let ledger = open(&url);
    let rate = batched(&ledger, total, 1000);
    println!("sqlite   batched append (1000/tx): {rate:>10.0} entries/s ({total} entries)");
    let rate = group_committed(&ledger, 64, 500);
    println!("sqlite   group-committed append (64 threads x 500): {rate:>10.0} entries/s");
    let size = ledger.size().expect("size");

    // Inclusion proofs at ~1 M entries: a first pass over random entries
    // reads every subtree hash it needs from the store ("cold"); a second
    // pass over the same entries finds most of them in the node cache.
    let rounds = 20_000u64;
    for pass in ["cold", "warm"] {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let start = Instant::now();
        for _ in 0..rounds {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let proof = ledger.inclusion_proof(x % size, Some(size)).expect("proof");
            std::hint::black_box(proof);
        }
        let per = start.elapsed().as_secs_f64() / rounds as f64 * 1e6;
        println!("sqlite   inclusion proof at {size} entries ({pass}): {per:>8.1} µs/proof");
    }
    let start = Instant::now();
    for i in 0..rounds {
        let proof = ledger
            .consistency_proof(1 + (i * 7919) % (size - 1), Some(size))
            .expect("proof");
        std::hint::black_box(proof);
    }
    let per = start.elapsed().as_secs_f64() / rounds as f64 * 1e6;
    println!("sqlite   consistency proof at {size} entries: {per:>8.1} µs/proof");

    tiles(&ledger, size);

    // Verify the whole ledger.
    let start = Instant::now();
    let summary =
        tellonce::ledger::verify::verify_store(ledger.store(), ledger.verifier(), |_, _| {})
            .expect("sound ledger");
    let rate = summary.entries as f64 / start.elapsed().as_secs_f64();
    println!("sqlite   verify (hashes, chain, signatures, payloads, {} checkpoints): {rate:>10.0} entries/s", summary.checkpoints);
    let file = dir.path().join("export.jsonl");
    tellonce::ledger::export::export_store(
        ledger.store(),
        "bench.example/ledger",
        &file,
        |_, _| {},
    )
    .expect("export");
    let start = Instant::now();
    let summary = tellonce::ledger::export::verify_export(&file, ledger.verifier(), |_, _| {})
        .expect("sound export");
    let rate = summary.entries as f64 / start.elapsed().as_secs_f64();
    println!("export   verify offline: {rate:>10.0} entries/s");
    drop(ledger);

    // PostgreSQL.
    let admin_url = "postgres://postgres@127.0.0.1:5432/test";
    match diesel::pg::PgConnection::establish(admin_url) {
        Err(e) => println!("postgres skipped: {e}"),
        Ok(mut admin) => {
            let name = format!("tellonce_bench_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create db");
            let ledger = open(&format!("postgres://postgres@127.0.0.1:5432/{name}"));
            let n = (total / 5).max(10_000);
            let rate = batched(&ledger, n, 1000);
            println!("postgres batched append (1000/tx): {rate:>10.0} entries/s ({n} entries)");
            let rate = group_committed(&ledger, 64, 200);
            println!("postgres group-committed append (64 threads x 200): {rate:>10.0} entries/s");
            let size = ledger.size().expect("size");
            tiles(&ledger, size);
            for pass in ["cold", "warm"] {
                let start = Instant::now();
                for i in 0..5_000u64 {
                    std::hint::black_box(
                        ledger
                            .inclusion_proof((i * 7919) % size, Some(size))
                            .expect("proof"),
                    );
                }
                let per = start.elapsed().as_secs_f64() / 5_000.0 * 1e6;
                println!(
                    "postgres inclusion proof at {size} entries ({pass}): {per:>8.1} µs/proof"
                );
            }
            drop(ledger);
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}
