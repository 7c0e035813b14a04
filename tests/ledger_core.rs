//! The ledger library surface against real SQLite files and PostgreSQL
//! databases: appends and receipts, reads, proofs, checkpoints,
//! cosignatures, erasure, keys, limits, group commit.

mod support;

use std::sync::Arc;

use tellonce::ledger::checkpoint::{cosign, verify_note, SignedNote};
use tellonce::ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion};
use tellonce::ledger::verify::verify_store;
use tellonce::ledger::{
    EntryError, EntryFilter, KeyAlgorithm, LedgerError, NewEntry, NoteSigner, ProofError,
};
use tellonce::store::write_transaction;

use support::{entry, TestDb};

both_backends!(receipts_verify_and_chain, |db: &TestDb| {
    let ledger = db.ledger();
    let first = ledger.append(entry("test.created", 0)).unwrap();
    let second = ledger.append(entry("test.created", 1)).unwrap();
    assert_eq!((first.seq, second.seq), (0, 1));
    assert!(first.verify(ledger.verifier()));
    assert!(second.verify(ledger.verifier()));
    let mut forged = second.clone();
    forged.seq = 7;
    assert!(
        !forged.verify(ledger.verifier()),
        "a receipt must bind its sequence"
    );
    let stored = ledger.entry(1).unwrap().unwrap();
    assert_eq!(stored.entry_hash, second.entry_hash);
    assert_eq!(stored.header.prev_hash, first.entry_hash);
    assert_eq!(stored.header.entry_hash(), stored.entry_hash);
    let payload: serde_json::Value =
        serde_json::from_str(stored.payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload["n"], 1);
    assert!(ledger.entry(2).unwrap().is_none());
});

// A large batch is signed on several threads a chunk at a time while its
// rows are written: every receipt must still verify, match its stored row
// and sit in one sound chain.
both_backends!(
    large_batches_are_signed_and_stored_in_order,
    |db: &TestDb| {
        let ledger = db.ledger();
        let receipts = ledger
            .append_batch((0..1000).map(|n| entry("test.bulk", n)).collect())
            .unwrap();
        assert_eq!(receipts.len(), 1000);
        for (n, receipt) in receipts.iter().enumerate() {
            assert_eq!(receipt.seq, n as u64);
            assert!(receipt.verify(ledger.verifier()), "receipt {n}");
        }
        for seq in [0u64, 127, 128, 500, 999] {
            let stored = ledger.entry(seq).unwrap().unwrap();
            let receipt = &receipts[seq as usize];
            assert_eq!(stored.entry_hash, receipt.entry_hash);
            assert_eq!(stored.signature.as_slice(), receipt.signature.as_slice());
        }
        let summary = verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
        assert_eq!(summary.entries, 1000);
    }
);

both_backends!(entries_page_by_cursor_and_filter, |db: &TestDb| {
    let ledger = db.ledger();
    let alice = ledger.subject_hash("nino:AB123456C");
    assert_ne!(alice, ledger.subject_hash("nino:AB123456D"));
    for n in 0..10u64 {
        let mut e = entry(if n % 2 == 0 { "test.even" } else { "test.odd" }, n);
        if n % 3 == 0 {
            e.subject = Some(alice);
        }
        ledger.append(e).unwrap();
    }
    let page = ledger
        .entries(&EntryFilter {
            after: None,
            first: 4,
            ..Default::default()
        })
        .unwrap();
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.header.seq).collect();
    assert_eq!(seqs, vec![0, 1, 2, 3]);
    assert!(page.has_next_page);
    let page = ledger
        .entries(&EntryFilter {
            after: Some(7),
            first: 4,
            ..Default::default()
        })
        .unwrap();
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.header.seq).collect();
    assert_eq!(seqs, vec![8, 9]);
    assert!(!page.has_next_page);
    let odd = ledger
        .entries(&EntryFilter {
            first: 100,
            kind: Some("test.odd".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        odd.entries.iter().map(|e| e.header.seq).collect::<Vec<_>>(),
        vec![1, 3, 5, 7, 9]
    );
    let about_alice = ledger
        .entries(&EntryFilter {
            first: 100,
            subject: Some(alice),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        about_alice
            .entries
            .iter()
            .map(|e| e.header.seq)
            .collect::<Vec<_>>(),
        vec![0, 3, 6, 9]
    );
});

both_backends!(proofs_verify_at_every_size, |db: &TestDb| {
    let ledger = db.ledger();
    let receipts = ledger
        .append_batch((0..37).map(|n| entry("test.bulk", n)).collect())
        .unwrap();
    for size in [1u64, 2, 3, 8, 13, 32, 36, 37] {
        let whole = ledger.inclusion_proof(0, Some(size)).unwrap();
        for seq in [0, size / 2, size - 1] {
            let p = ledger.inclusion_proof(seq, Some(size)).unwrap();
            assert_eq!(p.entry_hash, receipts[seq as usize].entry_hash);
            assert_eq!(p.leaf_hash, leaf_hash(&p.entry_hash));
            assert_eq!(p.root_hash, whole.root_hash);
            verify_inclusion(seq, size, &p.leaf_hash, &p.hashes, &p.root_hash).unwrap();
        }
        for from in [1u64, size / 2 + 1, size] {
            let from = from.min(size);
            let c = ledger.consistency_proof(from, Some(size)).unwrap();
            verify_consistency(from, size, &c.from_root, &c.to_root, &c.hashes).unwrap();
            assert_eq!(c.to_root, whole.root_hash);
        }
    }
    // A proof for a later tree does not verify against an earlier root.
    let old = ledger.inclusion_proof(3, Some(10)).unwrap();
    let new = ledger.inclusion_proof(3, Some(37)).unwrap();
    assert!(verify_inclusion(3, 37, &new.leaf_hash, &new.hashes, &old.root_hash).is_err());
});

both_backends!(proof_beyond_tree_size_is_refused, |db: &TestDb| {
    let ledger = db.ledger();
    ledger
        .append_batch((0..5).map(|n| entry("test.bulk", n)).collect())
        .unwrap();
    assert_eq!(
        ledger.inclusion_proof(1, Some(6)).unwrap_err(),
        LedgerError::BeyondTreeSize {
            requested: 6,
            size: 5
        }
    );
    assert!(matches!(
        ledger.inclusion_proof(5, Some(5)).unwrap_err(),
        LedgerError::Proof(ProofError::IndexBeyondSize { index: 5, size: 5 })
    ));
    assert!(matches!(
        ledger.consistency_proof(2, Some(9)).unwrap_err(),
        LedgerError::BeyondTreeSize { .. }
    ));
    assert!(matches!(
        ledger.consistency_proof(4, Some(3)).unwrap_err(),
        LedgerError::Proof(ProofError::SizesReversed { .. })
    ));
    assert!(matches!(
        ledger.consistency_proof(0, Some(3)).unwrap_err(),
        LedgerError::Proof(ProofError::FromEmptyTree)
    ));
});

both_backends!(
    payload_over_limit_is_refused_and_nothing_written,
    |db: &TestDb| {
        let ledger = db.ledger_with(|c| c.ledger.max_payload_bytes = 100);
        let big = NewEntry {
            kind: "test.big".into(),
            actor: "hub".into(),
            subject: None,
            payload: serde_json::json!({ "blob": "x".repeat(200) }),
        };
        let err = ledger.append(big).unwrap_err();
        assert!(
            matches!(
                err,
                LedgerError::Entry(EntryError::PayloadTooLarge { limit: 100, .. })
            ),
            "{err:?}"
        );
        let bad_kind = NewEntry {
            kind: "Bad Kind".into(),
            ..entry("x", 0)
        };
        assert_eq!(
            ledger.append(bad_kind).unwrap_err(),
            LedgerError::Entry(EntryError::BadKind)
        );
        let reserved = NewEntry {
            kind: "ledger.erasure".into(),
            ..entry("x", 0)
        };
        assert!(matches!(
            ledger.append(reserved).unwrap_err(),
            LedgerError::Entry(EntryError::ReservedKind(_))
        ));
        assert_eq!(ledger.size().unwrap(), 0);
    }
);

both_backends!(
    checkpoints_every_n_entries_are_signed_notes,
    |db: &TestDb| {
        let ledger = db.ledger_with(|c| {
            c.ledger.checkpoint_every_entries = 10;
            c.ledger.checkpoint_every_seconds = 3600;
        });
        // A new ledger has the checkpoint of the empty tree.
        let empty = ledger.latest_checkpoint().unwrap().unwrap();
        assert_eq!(empty.tree_size, 0);
        assert_eq!(empty.root_hash, tellonce::ledger::merkle::empty_root());
        let parsed = verify_note(
            &empty.note,
            ledger.verifier(),
            Some(&ledger.options().origin),
        )
        .unwrap();
        assert_eq!((parsed.size, parsed.root), (0, empty.root_hash));
        for n in 0..25 {
            ledger.append(entry("test.tick", n)).unwrap();
        }
        let cp = ledger.latest_checkpoint().unwrap().unwrap();
        assert_eq!(cp.tree_size, 20);
        let parsed =
            verify_note(&cp.note, ledger.verifier(), Some(&ledger.options().origin)).unwrap();
        assert_eq!(parsed.size, 20);
        assert_eq!(
            parsed.root,
            ledger.inclusion_proof(0, Some(20)).unwrap().root_hash
        );
        // The note is C2SP: origin, size, base64 root, blank line, em-dash signature line.
        let lines: Vec<&str> = cp.note.lines().collect();
        assert_eq!(lines[0], ledger.options().origin);
        assert_eq!(lines[1], "20");
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("\u{2014} "));
        // Forced checkpoint covers the rest; a second force with no growth does nothing.
        assert_eq!(ledger.checkpoint_now().unwrap(), Some(25));
        assert_eq!(ledger.checkpoint_now().unwrap(), None);
        // A note signed by an unknown key is rejected.
        let stranger =
            NoteSigner::generate(&ledger.options().origin, KeyAlgorithm::Ed25519).unwrap();
        assert!(verify_note(&cp.note, &stranger.verifier(), None).is_err());
    }
);

both_backends!(checkpoints_by_age, |db: &TestDb| {
    let ledger = db.ledger_with(|c| {
        c.ledger.checkpoint_every_entries = 1_000_000;
        c.ledger.checkpoint_every_seconds = 0;
    });
    ledger.append(entry("test.tick", 0)).unwrap();
    assert_eq!(ledger.latest_checkpoint().unwrap().unwrap().tree_size, 1);
    assert_eq!(
        ledger.checkpoint_if_due().unwrap(),
        None,
        "nothing new since"
    );
});

both_backends!(
    witness_cosignatures_are_checked_and_served,
    |db: &TestDb| {
        let witness = NoteSigner::generate("witness.example", KeyAlgorithm::Cosignature).unwrap();
        let stranger = NoteSigner::generate("stranger.example", KeyAlgorithm::Cosignature).unwrap();
        let vkey = witness.verifier().to_vkey();
        let ledger = db.ledger_with(|c| c.ledger.witness_keys = vec![vkey.clone()]);
        ledger.append(entry("test.tick", 0)).unwrap();
        ledger.checkpoint_now().unwrap();
        let cp = ledger.latest_checkpoint().unwrap().unwrap();
        let body = SignedNote::parse(&cp.note).unwrap().body;
        let bad = cosign(&body, &stranger, 1_700_000_000);
        assert!(matches!(
            ledger.add_cosignature(1, &bad).unwrap_err(),
            LedgerError::Checkpoint(_)
        ));
        let wrong_body = cosign("other\n1\nAAAA\n", &witness, 1_700_000_000);
        assert!(ledger.add_cosignature(1, &wrong_body).is_err());
        let good = cosign(&body, &witness, 1_700_000_000);
        ledger.add_cosignature(1, &good).unwrap();
        let served = ledger
            .latest_checkpoint()
            .unwrap()
            .unwrap()
            .note_with_cosignatures();
        assert!(served.ends_with(&format!("{good}\n")));
        let parsed = SignedNote::parse(&served).unwrap();
        assert_eq!(parsed.signatures.len(), 2);
        verify_note(&served, ledger.verifier(), None).unwrap();
    }
);

both_backends!(erasure_keeps_chain_and_proofs, |db: &TestDb| {
    let ledger = db.ledger();
    ledger
        .append_batch((0..8).map(|n| entry("test.personal", n)).collect())
        .unwrap();
    let before = ledger.inclusion_proof(3, Some(8)).unwrap();
    let receipt = ledger
        .erase(3, "operator:jo", "subject asked for erasure")
        .unwrap();
    assert_eq!(receipt.seq, 8);
    let erased = ledger.entry(3).unwrap().unwrap();
    assert!(erased.payload.is_none());
    assert_eq!(erased.entry_hash, before.entry_hash);
    let record = ledger.entry(8).unwrap().unwrap();
    assert_eq!(record.header.kind, "ledger.erasure");
    assert_eq!(record.header.actor, "operator:jo");
    let after = ledger.inclusion_proof(3, Some(8)).unwrap();
    assert_eq!(after, before);
    let now = ledger.inclusion_proof(3, Some(9)).unwrap();
    verify_inclusion(3, 9, &now.leaf_hash, &now.hashes, &now.root_hash).unwrap();
    assert_eq!(
        ledger.erase(3, "operator:jo", "again").unwrap_err(),
        LedgerError::AlreadyErased(3)
    );
    assert_eq!(
        ledger.erase(8, "operator:jo", "x").unwrap_err(),
        LedgerError::ErasureNotErasable(8)
    );
    assert_eq!(
        ledger.erase(99, "operator:jo", "x").unwrap_err(),
        LedgerError::NotFound(99)
    );
    let summary = verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
    assert_eq!((summary.entries, summary.erased), (9, 1));
});

both_backends!(append_in_joins_the_callers_transaction, |db: &TestDb| {
    let ledger = db.ledger();
    let mut conn = ledger.store().get().unwrap();
    // Rolled back with the caller's transaction: nothing recorded.
    let result: Result<(), LedgerError> = write_transaction(&mut conn, |conn| {
        ledger.append_in(conn, vec![entry("test.rolled", 0)])?;
        Err(LedgerError::BadReason)
    });
    assert!(result.is_err());
    assert_eq!(ledger.size().unwrap(), 0);
    let receipts = write_transaction(&mut conn, |conn| {
        ledger.append_in(conn, vec![entry("test.kept", 0), entry("test.kept", 1)])
    })
    .unwrap();
    assert_eq!(
        receipts.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![0, 1]
    );
    drop(conn);
    ledger.append(entry("test.after", 2)).unwrap();
    verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
});

both_backends!(
    concurrent_appends_group_commit_into_one_chain,
    |db: &TestDb| {
        let ledger = db.ledger_with(|c| c.ledger.checkpoint_every_entries = 50);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let ledger = Arc::clone(&ledger);
                std::thread::spawn(move || {
                    (0..40)
                        .map(|n| {
                            ledger
                                .append(entry("test.concurrent", t * 100 + n))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seqs: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .map(|r| r.seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (0..320).collect::<Vec<_>>());
        let summary = verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
        assert_eq!(summary.entries, 320);
        assert!(summary.checkpoints >= 1);
    }
);

both_backends!(keys_are_never_silently_replaced, |db: &TestDb| {
    {
        let ledger = db.ledger();
        ledger.append(entry("test.one", 0)).unwrap();
    }
    // Reopening with the same key works.
    db.ledger();
    // A different key for an existing ledger is refused.
    let key = std::fs::read_to_string(db.key_path()).unwrap();
    std::fs::remove_file(db.key_path()).unwrap();
    let err = db.config().open_ledger().unwrap_err();
    assert!(
        matches!(err, LedgerError::KeyMissing { size: 1, .. }),
        "{err:?}"
    );
    assert!(
        !db.key_path().exists(),
        "no new key may be created for a ledger with entries"
    );
    NoteSigner::generate("tellonce.gov.uk/ledger", KeyAlgorithm::Ed25519)
        .unwrap()
        .write_file(&db.key_path())
        .unwrap();
    let err = db.config().open_ledger().unwrap_err();
    assert!(matches!(err, LedgerError::KeyMismatch { .. }), "{err:?}");
    // An unreadable key file is an error too.
    std::fs::write(db.key_path(), "garbage").unwrap();
    let err = db.config().open_ledger().unwrap_err();
    assert!(matches!(err, LedgerError::Key(_)), "{err:?}");
    std::fs::remove_file(db.key_path()).unwrap();
    std::fs::write(db.key_path(), key).unwrap();
    db.ledger();
});

/// Receipts are signed many at a time; each signature must be exactly the
/// one signing alone gives (Ed25519 is deterministic) and must verify.
#[test]
fn signing_many_equals_signing_each() {
    let signer = NoteSigner::generate("test.example/ledger", KeyAlgorithm::Ed25519).unwrap();
    let verifier = signer.verifier();
    let messages: Vec<Vec<u8>> = (0..300usize)
        .map(|n| (0..n * 7 % 500).map(|i| (i * 31 + n) as u8).collect())
        .collect();
    let together = signer.sign_many(&messages);
    assert_eq!(together.len(), messages.len());
    for (message, signature) in messages.iter().zip(&together) {
        assert_eq!(*signature, signer.sign(message));
        assert!(verifier.verify(message, signature));
    }
    assert!(signer.sign_many::<Vec<u8>>(&[]).is_empty());
}

both_backends!(
    a_full_append_queue_pushes_back_instead_of_growing,
    |db: &TestDb| {
        use diesel::RunQueryDsl;
        use std::sync::mpsc;
        use std::time::Duration;

        let ledger = db.ledger_with(|c| c.ledger.max_queued_entries = 2);
        // Another writer holds the ledger head, so the first append's commit
        // waits and later appends queue behind it.
        let (locked_tx, locked_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let store = ledger.store().clone();
        let holder = std::thread::spawn(move || {
            let mut conn = store.get().unwrap();
            write_transaction(&mut conn, |conn| {
                diesel::sql_query("UPDATE ledger_head SET size = size WHERE id = 1")
                    .execute(conn)?;
                locked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok::<_, LedgerError>(())
            })
            .unwrap();
        });
        locked_rx.recv().unwrap();
        let spawn_append = |entries: Vec<NewEntry>| {
            let ledger = ledger.clone();
            std::thread::spawn(move || ledger.append_batch(entries))
        };
        let committing = spawn_append(vec![entry("test.first", 0)]);
        std::thread::sleep(Duration::from_millis(300));
        let queued = spawn_append(vec![entry("test.queued", 1), entry("test.queued", 2)]);
        std::thread::sleep(Duration::from_millis(300));
        match ledger.append(entry("test.refused", 3)) {
            Err(LedgerError::Busy {
                queued: 2,
                limit: 2,
            }) => {}
            other => panic!("expected Busy with 2 queued, got {other:?}"),
        }
        release_tx.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(committing.join().unwrap().unwrap().len(), 1);
        assert_eq!(queued.join().unwrap().unwrap().len(), 2);
        // Once the queue drains appends are accepted again, and nothing of
        // the refused one was recorded.
        ledger.append(entry("test.after", 4)).unwrap();
        assert_eq!(ledger.size().unwrap(), 4);
        verify_store(ledger.store(), ledger.verifier(), |_, _| {}).unwrap();
    }
);
