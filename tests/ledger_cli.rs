//! `tellonce keygen` and `tellonce ledger verify|export|checkpoint` as a user
//! runs them, including every kind of tampering the verifier must name.

mod support;

use std::process::{Command, Output};

use tellonce::ledger::checkpoint::Checkpoint;
use tellonce::ledger::{KeyAlgorithm, NewEntry, NoteSigner};

use support::{entry, raw_sql, TestDb};

fn tellonce(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tellonce"))
        .args(args)
        .output()
        .expect("run tellonce")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A ledger of 20 entries (entry 4 about a subject, checkpoints every 5),
/// closed; returns the verifier key.
fn populated(db: &TestDb) -> String {
    let ledger = db.ledger_with(|c| {
        c.ledger.checkpoint_every_entries = 5;
        c.ledger.checkpoint_every_seconds = 3600;
    });
    for n in 0..20 {
        let mut e = entry("test.cli", n);
        if n == 4 {
            e.subject = Some(ledger.subject_hash("nino:AB123456C"));
        }
        ledger.append(e).unwrap();
    }
    ledger.verifier().to_vkey()
}

/// Exports `db` with `tellonce ledger export` to `ledger.jsonl` beside it.
fn export(db: &TestDb) -> std::path::PathBuf {
    let file = db.dir.path().join("ledger.jsonl");
    let out = tellonce(&[
        "ledger",
        "export",
        file.to_str().unwrap(),
        "--database",
        &db.url,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    file
}

fn verify_db(db: &TestDb, key: &str) -> Output {
    tellonce(&["ledger", "verify", "--database", &db.url, "--key", key])
}

fn tamper_cases(db: &TestDb) -> Vec<(&'static str, String)> {
    let zeros = db.blob(&[0u8; 32]);
    vec![
        (
            "seq",
            "UPDATE ledger_entries SET seq = 1000 WHERE seq = 7".into(),
        ),
        (
            "recorded_micros",
            "UPDATE ledger_entries SET recorded_micros = recorded_micros + 1 WHERE seq = 7".into(),
        ),
        (
            "kind",
            "UPDATE ledger_entries SET kind = 'test.forged' WHERE seq = 7".into(),
        ),
        (
            "actor",
            "UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 7".into(),
        ),
        (
            "subject set",
            format!(
                "UPDATE ledger_entries SET subject = {} WHERE seq = 7",
                db.blob(&[0xab; 32])
            ),
        ),
        (
            "subject cleared",
            "UPDATE ledger_entries SET subject = NULL WHERE seq = 4".into(),
        ),
        (
            "subject short",
            format!(
                "UPDATE ledger_entries SET subject = {} WHERE seq = 4",
                db.blob(&[1, 2])
            ),
        ),
        (
            "payload_hash",
            format!("UPDATE ledger_entries SET payload_hash = {zeros} WHERE seq = 7"),
        ),
        (
            "prev_hash",
            format!("UPDATE ledger_entries SET prev_hash = {zeros} WHERE seq = 7"),
        ),
        (
            "entry_hash",
            format!("UPDATE ledger_entries SET entry_hash = {zeros} WHERE seq = 7"),
        ),
        (
            "signature",
            format!(
                "UPDATE ledger_entries SET signature = {} WHERE seq = 7",
                db.blob(&[1u8; 64])
            ),
        ),
        (
            "payload body",
            "UPDATE ledger_payloads SET body = '{\"n\":999}' WHERE seq = 7".into(),
        ),
        (
            "payload deleted",
            "DELETE FROM ledger_payloads WHERE seq = 7".into(),
        ),
    ]
}

fn tampered_rows_are_named(backend: &str) {
    let db = TestDb::of(backend);
    let key = populated(&db);
    let out = verify_db(&db, &key);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("ledger sound: 20 entries, 5 checkpoints"),
        "{}",
        text(&out)
    );
    for (column, sql) in tamper_cases(&db) {
        let copy = db.copy();
        raw_sql(&copy.url, &sql);
        let out = verify_db(&copy, &key);
        let seq = if column.starts_with("subject ") && column != "subject set" {
            4
        } else {
            7
        };
        assert_eq!(out.status.code(), Some(1), "{column}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("entry {seq}:")),
            "{column}: verify must name entry {seq}: {}",
            text(&out)
        );
    }
}

#[test]
fn tampered_rows_are_named_sqlite() {
    tampered_rows_are_named("sqlite");
}

#[test]
fn tampered_rows_are_named_postgres() {
    tampered_rows_are_named("postgres");
}

/// Proofs are built from the stored subtree hashes, so a changed or
/// missing one must fail verification as surely as a changed entry.
fn tampered_tree_nodes_are_named(backend: &str) {
    let db = TestDb::of(backend);
    let key = populated(&db);
    // The level-4 node over entries 0..=15: key = 4 * 2^56 + 0.
    let node = 4i64 << 56;
    let cases = [
        (
            format!(
                "UPDATE ledger_nodes SET hash = {} WHERE id = {node}",
                db.blob(&[0u8; 32])
            ),
            "does not match the entries it covers",
        ),
        (
            format!("DELETE FROM ledger_nodes WHERE id = {node}"),
            "is missing",
        ),
    ];
    for (sql, reason) in cases {
        let copy = db.copy();
        raw_sql(&copy.url, &sql);
        let out = verify_db(&copy, &key);
        assert_eq!(out.status.code(), Some(1), "{sql}: {}", text(&out));
        assert!(
            text(&out).contains(&format!(
                "stored tree node at level 4 over entries 0..=15: {reason}"
            )),
            "{sql}: {}",
            text(&out)
        );
    }
}

#[test]
fn tampered_tree_nodes_are_named_sqlite() {
    tampered_tree_nodes_are_named("sqlite");
}

#[test]
fn tampered_tree_nodes_are_named_postgres() {
    tampered_tree_nodes_are_named("postgres");
}

fn checkpoint_by_unknown_key(backend: &str) {
    let db = TestDb::of(backend);
    let key = populated(&db);
    let stranger = NoteSigner::generate("tellonce.gov.uk/ledger", KeyAlgorithm::Ed25519).unwrap();
    let ledger = db.ledger();
    let root = ledger.inclusion_proof(0, Some(10)).unwrap().root_hash;
    drop(ledger);
    let forged = Checkpoint {
        origin: "tellonce.gov.uk/ledger".into(),
        size: 10,
        root,
    }
    .sign(&stranger);
    raw_sql(
        &db.url,
        &format!("UPDATE ledger_checkpoints SET note = '{forged}' WHERE tree_size = 10"),
    );
    let out = verify_db(&db, &key);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("checkpoint at tree size 10") && t.contains("unknown key"),
        "{t}"
    );
    // The stored root column is checked too.
    let copy = db.copy();
    raw_sql(
        &copy.url,
        &format!(
            "UPDATE ledger_checkpoints SET root_hash = {} WHERE tree_size = 5",
            copy.blob(&[9u8; 32])
        ),
    );
    let t = text(&verify_db(&copy, &key));
    assert!(t.contains("checkpoint at tree size 5"), "{t}");
}

#[test]
fn checkpoint_signed_by_unknown_key_sqlite() {
    checkpoint_by_unknown_key("sqlite");
}

#[test]
fn checkpoint_signed_by_unknown_key_postgres() {
    checkpoint_by_unknown_key("postgres");
}

#[test]
fn wrong_verifier_key_fails_at_entry_zero() {
    let db = TestDb::sqlite();
    populated(&db);
    let other = NoteSigner::generate("tellonce.gov.uk/ledger", KeyAlgorithm::Ed25519).unwrap();
    let out = verify_db(&db, &other.verifier().to_vkey());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("entry 0: no entry's signature matches this key: is it the right key?"),
        "{}",
        text(&out)
    );
}

#[test]
fn export_verifies_offline_and_truncation_is_caught() {
    let db = TestDb::postgres();
    let key = populated(&db);
    let ledger = db.ledger();
    ledger.erase(2, "operator:jo", "erasure request").unwrap();
    ledger
        .append(NewEntry {
            payload: serde_json::json!({"float": 1.5e300, "s": "é\"\n"}),
            ..entry("test.odd", 0)
        })
        .unwrap();
    drop(ledger);
    let file = export(&db);
    let key_file = db.dir.path().join("hub.vkey");
    std::fs::write(&key_file, &key).unwrap();
    let verify_file = |path: &std::path::Path| {
        tellonce(&[
            "ledger",
            "verify",
            "--file",
            path.to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
        ])
    };
    let out = verify_file(&file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("22 entries, 5 checkpoints, 1 payloads erased"),
        "{}",
        text(&out)
    );

    let full = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    // Without the end line and the last two entries.
    let cut = db.dir.path().join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 3].join("\n") + "\n").unwrap();
    let out = verify_file(&cut);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("entry 20:") && text(&out).contains("truncated"),
        "{}",
        text(&out)
    );
    // Cut in the middle of a line.
    std::fs::write(&cut, &full[..full.len() - 200]).unwrap();
    let out = verify_file(&cut);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("truncated"), "{}", text(&out));
    // An edited entry in the file is named.
    let edited: String = full
        .lines()
        .map(|l| {
            if l.contains("\"seq\":1,") {
                l.replace("\"actor\":\"hub\"", "\"actor\":\"mallory\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&cut, edited).unwrap();
    let out = verify_file(&cut);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("entry 1:"), "{}", text(&out));
}

#[test]
fn keygen_writes_key_once_and_prints_vkey() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.key");
    let out = tellonce(&[
        "keygen",
        "--out",
        path.to_str().unwrap(),
        "--name",
        "example.gov.uk/log",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let vkey = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let signer = NoteSigner::read_file(&path).unwrap();
    assert_eq!(signer.verifier().to_vkey(), vkey);
    assert!(vkey.starts_with("example.gov.uk/log+"));
    let again = tellonce(&["keygen", "--out", path.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert_eq!(
        NoteSigner::read_file(&path).unwrap().verifier().to_vkey(),
        vkey
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let key = NoteSigner::generate("x", KeyAlgorithm::Ed25519)
        .unwrap()
        .verifier()
        .to_vkey();
    let out = tellonce(&[
        "ledger",
        "verify",
        "--database",
        missing.to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = tellonce(&[
        "ledger",
        "verify",
        "--database",
        missing.to_str().unwrap(),
        "--key",
        "not-a-key",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = tellonce(&[
        "ledger",
        "verify",
        "--key",
        &key,
        "--file",
        "a",
        "--database",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// Runs `tellonce` in `dir` with `env` set and no other TELLONCE_* variable.
fn tellonce_in(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tellonce"));
    command.current_dir(dir).args(args);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TELLONCE_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("run tellonce")
}

#[test]
fn ledger_commands_read_the_configuration_and_print_the_key() {
    let db = TestDb::sqlite();
    let key = populated(&db);
    let data_dir = db.dir.path().to_str().unwrap();
    // `ledger key` finds the key through TELLONCE_DATA_DIR, as `serve` would.
    let work = tempfile::tempdir().unwrap();
    let out = tellonce_in(
        work.path(),
        &[("TELLONCE_DATA_DIR", data_dir)],
        &["ledger", "key"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), key);
    // And through ./tellonce.toml; `verify` then needs no --key at all.
    let toml = format!("data_dir = {data_dir:?}\ndatabase_url = {:?}\n", db.url);
    std::fs::write(work.path().join("tellonce.toml"), toml).unwrap();
    let out = tellonce_in(work.path(), &[], &["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("ledger sound: 20 entries"),
        "{}",
        text(&out)
    );
    // The key file gone, the key the database is bound to is printed.
    std::fs::rename(db.key_path(), db.dir.path().join("moved.key")).unwrap();
    let out = tellonce_in(work.path(), &[], &["ledger", "key"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        key,
        "{}",
        text(&out)
    );
    // keygen writes where the configuration says, under the configured origin.
    let other = tempfile::tempdir().unwrap();
    let toml = format!(
        "data_dir = {:?}\n[ledger]\norigin = \"example.gov.uk/log\"\n",
        other.path().to_str().unwrap()
    );
    std::fs::write(work.path().join("tellonce.toml"), toml).unwrap();
    let out = tellonce_in(work.path(), &[], &["keygen"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(other.path().join("ledger.key").exists());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("example.gov.uk/log+"));
    // A configuration that does not parse is named, and nothing runs.
    std::fs::write(work.path().join("tellonce.toml"), "data_dir = [\n").unwrap();
    let out = tellonce_in(work.path(), &[], &["ledger", "key"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("tellonce.toml"), "{}", text(&out));
}

#[test]
fn export_faults_are_named_at_the_entry_they_concern() {
    let db = TestDb::sqlite();
    let ledger = db.ledger_with(|c| c.ledger.checkpoint_every_entries = 1_000_000);
    let batch: Vec<NewEntry> = (0..1200).map(|n| entry("test.export", n)).collect();
    ledger.append_batch(batch).unwrap();
    let key = ledger.verifier().to_vkey();
    drop(ledger);
    let file = export(&db);
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // The line of entry `seq`.
    let at = |seq: u64| {
        lines
            .iter()
            .position(|l| {
                l.contains("\"type\":\"entry\"") && l.contains(&format!("\"seq\":{seq},"))
            })
            .unwrap()
    };
    let verify_lines = |lines: &[String]| {
        let path = db.dir.path().join("edited.jsonl");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let out = tellonce(&[
            "ledger",
            "verify",
            "--file",
            path.to_str().unwrap(),
            "--key",
            &key,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        text(&out)
    };
    let mut missing = lines.clone();
    missing.remove(at(800));
    let said = verify_lines(&missing);
    assert!(
        said.contains(
            "entry 800: entry 800 is missing or out of place: the next entry found is 801"
        ),
        "{said}"
    );
    let mut twice = lines.clone();
    twice.insert(at(500) + 1, lines[at(500)].clone());
    let said = verify_lines(&twice);
    assert!(
        said.contains("entry 501: entry 500 appears again"),
        "{said}"
    );
    let mut swapped = lines.clone();
    swapped.swap(at(300), at(301));
    let said = verify_lines(&swapped);
    assert!(
        said.contains(
            "entry 300: entry 300 is missing or out of place: the next entry found is 301"
        ),
        "{said}"
    );
    // Cut short after entry 999: truncated, at the first absent entry.
    let said = verify_lines(&lines[..=at(999)]);
    assert!(
        said.contains("entry 1000: the export is truncated"),
        "{said}"
    );
}

#[test]
fn progress_shows_on_a_terminal_and_nowhere_else() {
    let db = TestDb::sqlite();
    let ledger = db.ledger();
    let batch: Vec<NewEntry> = (0..1200).map(|n| entry("test.progress", n)).collect();
    ledger.append_batch(batch).unwrap();
    drop(ledger);
    let file = db.dir.path().join("ledger.jsonl");
    let args = [
        "ledger",
        "export",
        file.to_str().unwrap(),
        "--database",
        &db.url,
    ];

    // A pipe: only the result.
    let piped = tellonce(&args);
    assert_eq!(piped.status.code(), Some(0), "{}", text(&piped));
    assert_eq!(
        String::from_utf8_lossy(&piped.stderr),
        format!("exported 1200 entries to {}\n", file.display())
    );

    // A terminal (util-linux `script` gives the command one): the bar too.
    let command = std::iter::once(env!("CARGO_BIN_EXE_tellonce"))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ");
    let on_terminal = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .output()
        .expect("run under script(1)");
    let shown = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(on_terminal.status.success(), "{shown}");
    assert!(shown.contains("/1200 entries"), "{shown:?}");
    assert!(shown.contains("exported 1200 entries"), "{shown:?}");
}
