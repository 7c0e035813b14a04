//! Two OS processes appending to one PostgreSQL ledger at once produce one
//! valid chain. The test runs its own binary twice as the appenders.

mod support;

use std::process::Command;
use std::sync::Arc;

use tellonce::config::Config;
use tellonce::ledger::verify::verify_store;
use tellonce::ledger::EntryFilter;

use support::{entry, TestDb};

const CHILD_URL: &str = "TELLONCE_TEST_APPENDER_URL";
const CHILD_DIR: &str = "TELLONCE_TEST_APPENDER_DIR";
const CHILD_NAME: &str = "TELLONCE_TEST_APPENDER_NAME";
const PER_PROCESS: u64 = 300;

/// The appender each child process runs (does nothing in a normal test run).
#[test]
fn appender_process() {
    let (Ok(url), Ok(dir), Ok(name)) = (
        std::env::var(CHILD_URL),
        std::env::var(CHILD_DIR),
        std::env::var(CHILD_NAME),
    ) else {
        return;
    };
    let mut config = Config {
        data_dir: dir.into(),
        database_url: Some(url),
        ..Config::default()
    };
    config.ledger.checkpoint_every_entries = 64;
    let ledger = Arc::new(config.open_ledger().expect("open ledger in child"));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            let name = name.clone();
            std::thread::spawn(move || {
                for n in 0..PER_PROCESS / 4 {
                    let mut e = entry("test.process", t * 1000 + n);
                    e.actor = name.clone();
                    ledger.append(e).expect("append in child");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("appender thread");
    }
}

#[test]
fn two_processes_append_to_one_postgres_chain() {
    let db = TestDb::postgres();
    drop(db.ledger()); // creates the keys both processes share
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["process-a", "process-b"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "appender_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_URL, &db.url)
                .env(CHILD_DIR, db.dir.path())
                .env(CHILD_NAME, name)
                .spawn()
                .expect("spawn appender")
        })
        .collect();
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "appender process failed: {status}");
    }
    let ledger = db.ledger();
    assert_eq!(ledger.size().unwrap(), 2 * PER_PROCESS);
    let summary = verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
    assert_eq!(summary.entries, 2 * PER_PROCESS);
    assert!(summary.checkpoints >= 2);
    let page = ledger
        .entries(&EntryFilter {
            first: 1000,
            ..Default::default()
        })
        .unwrap();
    let actors: std::collections::HashSet<&str> = page
        .entries
        .iter()
        .map(|e| e.header.actor.as_str())
        .collect();
    assert!(actors.contains("process-a") && actors.contains("process-b"));
}
