//! The hub calling witnesses (C2SP tlog-witness) as configured in
//! `[[ledger.witnesses]]`: every new checkpoint is sent to each witness with
//! a consistency proof from the size it last cosigned, a 409 naming the
//! witness's own size is answered with the proof from that size, a witness
//! that refuses (404 for an origin it does not know) cosigns nothing, and
//! `/ledger/checkpoint` serves a checkpoint only once the quorum has
//! cosigned it.

mod support;
mod witness_support;

use std::time::{Duration, Instant};

use tellonce::config::{Config, LedgerConfig};
use tellonce::ledger::checkpoint::{verify_cosignature, verify_note, SignedNote};
use tellonce::ledger::config::WitnessConfig;
use tellonce::ledger::NoteVerifier;

use support::{entry, TestDb};
use witness_support::TestWitness;

const ORIGIN: &str = "tellonce.gov.uk/ledger";

async fn served_checkpoint(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Polls `url` until its checkpoint is of `size` with `cosignatures` lines.
async fn wait_for(url: &str, size: u64, cosignatures: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, note) = served_checkpoint(url).await;
        let lines = note.lines().filter(|l| l.starts_with('\u{2014}')).count();
        if status == 200
            && note.lines().nth(1) == Some(&size.to_string())
            && lines == 1 + cosignatures
        {
            return note;
        }
        assert!(Instant::now() < deadline, "still {status} {note:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_gets_its_checkpoints_cosigned_by_a_quorum() {
    let db = TestDb::sqlite();
    // The ledger exists first, so the witnesses can be told its key; five
    // entries are already in it, and witness B has cosigned them.
    let ledger = db.config().open_ledger().unwrap();
    for n in 0..5 {
        ledger.append(entry("test.witnessed", n)).unwrap();
    }
    let log_key = ledger.verifier().clone();
    let root5 = ledger.inclusion_proof(0, Some(5)).unwrap().root_hash;
    drop(ledger);
    let a = TestWitness::start("witness-a.example", ORIGIN, log_key.clone()).await;
    let b = TestWitness::start("witness-b.example", ORIGIN, log_key.clone()).await;
    let c = TestWitness::start("witness-c.example", "another.example/log", log_key.clone()).await;
    b.state.lock().unwrap().latest = Some((5, root5));

    let config = Config {
        data_dir: db.dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        ledger: LedgerConfig {
            checkpoint_every_seconds: 1,
            witnesses: [&a, &b, &c]
                .iter()
                .map(|w| WitnessConfig {
                    vkey: w.vkey.clone(),
                    url: w.url.clone(),
                })
                .collect(),
            witness_quorum: Some(2),
            ..LedgerConfig::default()
        },
        ..Config::default()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hub = tellonce::server::start_on(&config, listener).await.unwrap();
    let url = format!("{}/ledger/checkpoint", hub.base_url());

    // The checkpoint of size 5 is published once A and B have cosigned it.
    let note = wait_for(&url, 5, 2).await;
    verify_note(&note, &log_key, Some(ORIGIN)).unwrap();
    let body = SignedNote::parse(&note).unwrap().body;
    let keys: Vec<NoteVerifier> = [&a, &b]
        .iter()
        .map(|w| NoteVerifier::from_vkey(&w.vkey).unwrap())
        .collect();
    for line in note.lines().filter(|l| l.starts_with('\u{2014}')).skip(1) {
        verify_cosignature(&body, line, &keys).unwrap();
    }
    assert_eq!(a.latest_size(), Some(5));
    assert_eq!(b.latest_size(), Some(5));
    // B said it held size 5 (409), then cosigned with the proof from 5.
    let answers = b.state.lock().unwrap().answers.clone();
    assert!(answers.ends_with(&[409, 200]), "{answers:?}");
    // C does not log this origin: 404, nothing cosigned, nothing counted.
    assert!(c.state.lock().unwrap().answers.iter().all(|s| *s == 404));

    // Three more entries: A and B cosign 8 with a proof from 5.
    for n in 5..8 {
        hub.ledger.append(entry("test.witnessed", n)).unwrap();
    }
    wait_for(&url, 8, 2).await;
    assert_eq!(a.state.lock().unwrap().answers.last(), Some(&200));

    // With B gone the quorum cannot be met: a newer checkpoint is issued
    // but the one served stays at 8.
    b.stop().await;
    hub.ledger.append(entry("test.witnessed", 8)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while a.latest_size() != Some(9) {
        assert!(Instant::now() < deadline, "A never cosigned 9");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        hub.ledger.latest_checkpoint().unwrap().unwrap().tree_size,
        9
    );
    let (status, note) = served_checkpoint(&url).await;
    assert_eq!(status, 200);
    assert_eq!(note.lines().nth(1), Some("8"), "{note}");
    hub.stop().await;
    a.stop().await;
    c.stop().await;
}
