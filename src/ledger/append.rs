//! Appending: one transaction per batch that locks the ledger head, chains,
//! hashes and signs the entries, stores headers, payloads and the stored Merkle
//! subtrees they complete, issues a checkpoint when one is due, and moves the
//! head. Appends are serialized by the database: `SELECT … FOR UPDATE` on
//! the head row on PostgreSQL, the write lock (`BEGIN IMMEDIATE`) on SQLite.
//!
//! [`Ledger::append`] group-commits: concurrent callers queue their entries,
//! one of them commits everything queued in one transaction, the others wait
//! for their receipts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};

use chrono::Utc;
use diesel::prelude::*;

use super::checkpoint::{verify_cosignature, Checkpoint};
use super::entry::{receipt_message, EntryHeader, NewEntry, Receipt, ERASURE_KIND, GENESIS_PREV};
use super::keys::NoteSigner;
use super::merkle::{leaf_hash, sha256, Frontier, Hash, MAX_LEAVES};
use super::rows::{
    hash_column, CheckpointRow, CosignatureRow, EntryRow, HeadRow, NodeRow, PayloadRow,
};
use super::{Ledger, LedgerError};
use crate::store::schema::{
    ledger_checkpoints, ledger_cosignatures, ledger_entries, ledger_head, ledger_nodes,
    ledger_payloads,
};
use crate::store::{write_transaction, AnyConnection};

/// Rows per multi-row INSERT (keeps SQLite and PostgreSQL under their bind limits).
const INSERT_CHUNK: usize = 1000;
/// Most entries one group commit writes.
const GROUP_LIMIT: usize = 10_000;
/// Batches at least this large are signed on several threads.
const PARALLEL_SIGN_MIN: usize = 256;
/// Receipts signed per chunk (one shared inversion each) and entry rows
/// written per INSERT while the next chunk is signed.
const SIGN_CHUNK: usize = 128;

macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        for chunk in $rows.chunks(INSERT_CHUNK) {
            match &mut *$conn {
                AnyConnection::Postgres(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
                AnyConnection::Sqlite(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            }
        }
    }};
}

/// Reads the head row, locking it for the rest of the transaction.
pub(crate) fn lock_head(conn: &mut AnyConnection) -> Result<HeadRow, LedgerError> {
    let head = match conn {
        AnyConnection::Postgres(c) => ledger_head::table
            .find(1i64)
            .for_update()
            .first::<HeadRow>(c)?,
        AnyConnection::Sqlite(c) => ledger_head::table.find(1i64).first::<HeadRow>(c)?,
    };
    Ok(head)
}

/// Records the signer's vkey on an empty ledger, with the checkpoint of
/// the empty tree (size 0 is a well-defined tree, and witnesses start from
/// it); refuses a different key on a ledger already bound to one.
pub(crate) fn bind_signer(
    conn: &mut AnyConnection,
    signer: &NoteSigner,
    origin: &str,
) -> Result<(), LedgerError> {
    let vkey = signer.verifier().to_vkey();
    write_transaction(conn, |conn| {
        let head = lock_head(conn)?;
        if head.signer_vkey.is_empty() {
            // The age of the first checkpoint counts from the ledger's creation.
            let now = Utc::now().timestamp_micros();
            diesel::update(ledger_head::table.find(1i64))
                .set((
                    ledger_head::signer_vkey.eq(&vkey),
                    ledger_head::checkpoint_micros.eq(now),
                ))
                .execute(conn)?;
        } else if head.signer_vkey != vkey {
            return Err(LedgerError::KeyMismatch {
                path: String::new(),
                expected: head.signer_vkey,
            });
        }
        if head.size == 0 {
            let issued = ledger_checkpoints::table
                .find(0i64)
                .select(ledger_checkpoints::tree_size)
                .first::<i64>(conn)
                .optional()?;
            if issued.is_none() {
                let empty = Checkpoint {
                    origin: origin.to_string(),
                    size: 0,
                    root: super::merkle::empty_root(),
                };
                diesel::insert_into(ledger_checkpoints::table)
                    .values(&CheckpointRow {
                        tree_size: 0,
                        root_hash: empty.root.to_vec(),
                        issued_micros: Utc::now().timestamp_micros(),
                        note: empty.sign(signer),
                    })
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

/// An entry that passed validation, with its payload text.
#[derive(Debug, Clone)]
pub struct ValidEntry {
    entry: NewEntry,
    body: String,
}

/// The group-commit queue.
#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<GroupState>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct GroupState {
    next_ticket: u64,
    queue: VecDeque<(u64, Vec<ValidEntry>)>,
    /// Entries in `queue`.
    queued: usize,
    committing: bool,
    results: HashMap<u64, Result<Vec<Receipt>, LedgerError>>,
}

/// Held by the caller committing a group, and forgotten once the commit
/// returns: if the commit panics instead, dropping it while unwinding tells
/// every waiter in the group that nothing was recorded and lets the next
/// caller commit, so one panic never leaves every later append waiting.
struct CommitGuard<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
    /// The panicking caller's own ticket: nobody waits for its result.
    own: u64,
}

impl Drop for CommitGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.group.state.lock().unwrap_or_else(|p| p.into_inner());
        for ticket in &self.tickets {
            if *ticket != self.own {
                state
                    .results
                    .insert(*ticket, Err(LedgerError::CommitAborted));
            }
        }
        state.committing = false;
        self.group.done.notify_all();
    }
}

impl Ledger {
    fn validate(&self, entries: Vec<NewEntry>) -> Result<Vec<ValidEntry>, LedgerError> {
        entries
            .into_iter()
            .map(|entry| {
                if entry.kind == ERASURE_KIND {
                    return Err(LedgerError::Entry(super::EntryError::ReservedKind(
                        entry.kind,
                    )));
                }
                let body = entry.validate(self.options.max_payload_bytes)?;
                Ok(ValidEntry { entry, body })
            })
            .collect()
    }

    /// Records one entry and returns its receipt. Concurrent calls are
    /// committed together.
    pub fn append(&self, entry: NewEntry) -> Result<Receipt, LedgerError> {
        let mut receipts = self.append_batch(vec![entry])?;
        receipts
            .pop()
            .ok_or(LedgerError::Storage("no receipt".into()))
    }

    /// Records several entries, in order, in one transaction (shared with
    /// other callers' entries under load). Refused with
    /// [`LedgerError::Busy`] when more than `max_queued_entries` are already
    /// waiting.
    pub fn append_batch(&self, entries: Vec<NewEntry>) -> Result<Vec<Receipt>, LedgerError> {
        let valid = self.validate(entries)?;
        let group = &self.group;
        let mut state = group.state.lock().unwrap_or_else(|p| p.into_inner());
        let limit = self.options.max_queued_entries;
        // One caller's batch is always accepted by an idle queue, however large.
        if state.queued > 0 && state.queued + valid.len() > limit {
            return Err(LedgerError::Busy {
                queued: state.queued,
                limit,
            });
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queued += valid.len();
        state.queue.push_back((ticket, valid));
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if !state.committing {
                state.committing = true;
                let mut taken = 0usize;
                let mut batch = Vec::new();
                while let Some(next) = state.queue.front() {
                    if taken > 0 && taken + next.1.len() > GROUP_LIMIT {
                        break;
                    }
                    let Some(item) = state.queue.pop_front() else {
                        break;
                    };
                    taken += item.1.len();
                    batch.push(item);
                }
                state.queued -= taken;
                drop(state);
                let guard = CommitGuard {
                    group,
                    tickets: batch.iter().map(|(t, _)| *t).collect(),
                    own: ticket,
                };
                let outcome = self.commit_group(&batch);
                std::mem::forget(guard);
                state = group.state.lock().unwrap_or_else(|p| p.into_inner());
                match outcome {
                    Ok(mut receipts) => {
                        for (t, entries) in batch.iter().rev() {
                            let mine = receipts.split_off(receipts.len() - entries.len());
                            state.results.insert(*t, Ok(mine));
                        }
                    }
                    Err(e) => {
                        for (t, _) in &batch {
                            state.results.insert(*t, Err(e.clone()));
                        }
                    }
                }
                state.committing = false;
                group.done.notify_all();
                continue;
            }
            state = group.done.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn commit_group(&self, batch: &[(u64, Vec<ValidEntry>)]) -> Result<Vec<Receipt>, LedgerError> {
        #[cfg(test)]
        if tests::PANIC_IN_COMMIT.with(|p| p.replace(false)) {
            panic!("injected commit failure");
        }
        let entries: Vec<&ValidEntry> = batch.iter().flat_map(|(_, e)| e.iter()).collect();
        let mut conn = self.store.get()?;
        write_transaction(&mut conn, |conn| self.write_entries(conn, &entries))
    }

    /// Records entries inside the caller's transaction on `conn` (opened with
    /// `store::write_transaction`; one is opened here if there is none). The
    /// entries become visible, and the receipts true, only when the caller
    /// commits.
    pub fn append_in(
        &self,
        conn: &mut AnyConnection,
        entries: Vec<NewEntry>,
    ) -> Result<Vec<Receipt>, LedgerError> {
        let valid = self.validate(entries)?;
        let refs: Vec<&ValidEntry> = valid.iter().collect();
        write_transaction(conn, |conn| self.write_entries(conn, &refs))
    }

    /// Erases the payload of entry `seq` (right to erasure): the payload is
    /// deleted, its hash stays in the entry, and a `ledger.erasure` entry
    /// recording who erased it and why is appended in the same transaction.
    pub fn erase(&self, seq: u64, actor: &str, reason: &str) -> Result<Receipt, LedgerError> {
        if reason.is_empty() || reason.chars().count() > 1024 {
            return Err(LedgerError::BadReason);
        }
        let record = NewEntry {
            kind: ERASURE_KIND.to_string(),
            actor: actor.to_string(),
            subject: None,
            payload: serde_json::json!({ "erases": seq, "reason": reason }),
        };
        let body = record.validate(self.options.max_payload_bytes)?;
        let valid = ValidEntry {
            entry: record,
            body,
        };
        let mut conn = self.store.get()?;
        write_transaction(&mut conn, |conn| {
            let head = lock_head(conn)?;
            let key = i64::try_from(seq).map_err(|_| LedgerError::NotFound(seq))?;
            if seq >= head.size as u64 {
                return Err(LedgerError::NotFound(seq));
            }
            let kind: String = ledger_entries::table
                .find(key)
                .select(ledger_entries::kind)
                .first(conn)?;
            if kind == ERASURE_KIND {
                return Err(LedgerError::ErasureNotErasable(seq));
            }
            let deleted = diesel::delete(ledger_payloads::table.find(key)).execute(conn)?;
            if deleted == 0 {
                return Err(LedgerError::AlreadyErased(seq));
            }
            let mut receipts = self.write_entries(conn, &[&valid])?;
            receipts
                .pop()
                .ok_or(LedgerError::Storage("no receipt".into()))
        })
    }

    /// Issues a checkpoint now if the ledger grew since the last one and one
    /// is due by entry count or age. Returns the new tree size if one was issued.
    pub fn checkpoint_if_due(&self) -> Result<Option<u64>, LedgerError> {
        self.issue_checkpoint(false)
    }

    /// Issues a checkpoint of the current tree if it grew since the last one.
    pub fn checkpoint_now(&self) -> Result<Option<u64>, LedgerError> {
        self.issue_checkpoint(true)
    }

    fn issue_checkpoint(&self, force: bool) -> Result<Option<u64>, LedgerError> {
        let mut conn = self.store.get()?;
        write_transaction(&mut conn, |conn| {
            let mut head = lock_head(conn)?;
            let frontier = Frontier::from_bytes(head.size as u64, &head.frontier)
                .ok_or(LedgerError::CorruptHead("frontier does not match size"))?;
            let now = Utc::now().timestamp_micros();
            if !(self.checkpoint_due(&head, now) || (force && head.size > head.checkpoint_size)) {
                return Ok(None);
            }
            self.write_checkpoint(conn, &mut head, &frontier, now)?;
            diesel::update(ledger_head::table.find(1i64))
                .set((
                    ledger_head::checkpoint_size.eq(head.checkpoint_size),
                    ledger_head::checkpoint_micros.eq(head.checkpoint_micros),
                ))
                .execute(conn)?;
            Ok(Some(head.size as u64))
        })
        .inspect(|issued| {
            if issued.is_some() {
                self.written.notify_one();
            }
        })
    }

    fn checkpoint_due(&self, head: &HeadRow, now: i64) -> bool {
        let grown = (head.size - head.checkpoint_size) as u64;
        grown > 0
            && (grown >= self.options.checkpoint_every_entries
                || now.saturating_sub(head.checkpoint_micros)
                    >= (self.options.checkpoint_every_seconds as i64).saturating_mul(1_000_000))
    }

    fn write_checkpoint(
        &self,
        conn: &mut AnyConnection,
        head: &mut HeadRow,
        frontier: &Frontier,
        now: i64,
    ) -> Result<(), LedgerError> {
        let checkpoint = Checkpoint {
            origin: self.options.origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
        };
        let row = CheckpointRow {
            tree_size: head.size,
            root_hash: checkpoint.root.to_vec(),
            issued_micros: now,
            note: checkpoint.sign(&self.signer),
        };
        diesel::insert_into(ledger_checkpoints::table)
            .values(&row)
            .execute(conn)?;
        head.checkpoint_size = head.size;
        head.checkpoint_micros = now;
        Ok(())
    }

    /// Stores a witness cosignature line for the checkpoint of `tree_size`
    /// after checking it against the configured witness keys.
    pub fn add_cosignature(&self, tree_size: u64, line: &str) -> Result<(), LedgerError> {
        let mut conn = self.store.get()?;
        let size = i64::try_from(tree_size).map_err(|_| LedgerError::NotFound(tree_size))?;
        let row: CheckpointRow = ledger_checkpoints::table
            .find(size)
            .first(&mut *conn)
            .optional()?
            .ok_or(LedgerError::NotFound(tree_size))?;
        let body = super::checkpoint::SignedNote::parse(&row.note)?.body;
        let witness = verify_cosignature(&body, line, &self.options.witnesses)?;
        let cosig = CosignatureRow {
            tree_size: size,
            witness: witness.to_vkey(),
            line: line.trim_end_matches('\n').to_string(),
        };
        write_transaction(&mut conn, |conn| {
            diesel::delete(ledger_cosignatures::table.find((size, &cosig.witness)))
                .execute(conn)?;
            diesel::insert_into(ledger_cosignatures::table)
                .values(&cosig)
                .execute(conn)?;
            Ok::<(), LedgerError>(())
        })
    }

    fn write_entries(
        &self,
        conn: &mut AnyConnection,
        entries: &[&ValidEntry],
    ) -> Result<Vec<Receipt>, LedgerError> {
        let mut head = lock_head(conn)?;
        let start =
            u64::try_from(head.size).map_err(|_| LedgerError::CorruptHead("negative size"))?;
        if start + entries.len() as u64 >= MAX_LEAVES {
            return Err(LedgerError::CorruptHead("the ledger is full"));
        }
        let mut frontier = Frontier::from_bytes(start, &head.frontier)
            .ok_or(LedgerError::CorruptHead("frontier does not match size"))?;
        let mut prev: Hash = if start == 0 {
            GENESIS_PREV
        } else {
            hash_column(&head.last_hash)
        };
        let now = Utc::now().timestamp_micros();
        let mut rows = Vec::with_capacity(entries.len());
        let mut payloads = Vec::with_capacity(entries.len());
        let mut nodes = Vec::with_capacity(entries.len() / 4 + 64);
        let mut receipts: Vec<(u64, Hash)> = Vec::with_capacity(entries.len());
        for (i, valid) in entries.iter().enumerate() {
            let seq = start + i as u64;
            let header = EntryHeader {
                seq,
                recorded_micros: now,
                kind: valid.entry.kind.clone(),
                actor: valid.entry.actor.clone(),
                subject: valid.entry.subject,
                payload_hash: sha256(valid.body.as_bytes()),
                prev_hash: prev,
            };
            let entry_hash = header.entry_hash();
            frontier.push(leaf_hash(&entry_hash), |id, h| {
                if id.is_stored() {
                    nodes.push(NodeRow {
                        id: id.key(),
                        hash: h.to_vec(),
                    })
                }
            });
            rows.push(EntryRow {
                seq: seq as i64,
                recorded_micros: now,
                kind: header.kind,
                actor: header.actor,
                subject: header.subject.map(|s| s.to_vec()),
                payload_hash: header.payload_hash.to_vec(),
                prev_hash: prev.to_vec(),
                entry_hash: entry_hash.to_vec(),
                signature: Vec::new(),
            });
            payloads.push(PayloadRow {
                seq: seq as i64,
                body: valid.body.clone(),
            });
            receipts.push((seq, entry_hash));
            prev = entry_hash;
        }
        // Signing is the costliest step per entry: it runs on other threads,
        // a chunk at a time, while this one writes the payloads and tree
        // nodes (which need no signature) and then each entry chunk as soon
        // as its signatures arrive, so the cores sign and write at once.
        let signatures = if receipts.len() < PARALLEL_SIGN_MIN {
            insert_rows!(conn, ledger_payloads::table, payloads);
            insert_rows!(conn, ledger_nodes::table, nodes);
            let signatures = self.signer.sign_many(&receipt_messages(&receipts));
            attach_signatures(&mut rows, &signatures);
            insert_rows!(conn, ledger_entries::table, rows);
            signatures
        } else {
            std::thread::scope(|s| {
                let signed = sign_in_background(s, &self.signer, &receipts);
                insert_rows!(conn, ledger_payloads::table, payloads);
                insert_rows!(conn, ledger_nodes::table, nodes);
                let mut signatures = Vec::with_capacity(rows.len());
                for (chunk, part) in rows.chunks_mut(SIGN_CHUNK).zip(signed) {
                    attach_signatures(chunk, &part);
                    insert_rows!(conn, ledger_entries::table, chunk);
                    signatures.extend(part);
                }
                Ok::<_, LedgerError>(signatures)
            })?
        };
        if signatures.len() != rows.len() {
            return Err(LedgerError::Storage("an entry was left unsigned".into()));
        }
        head.size = frontier.size() as i64;
        head.last_hash = prev.to_vec();
        head.frontier = frontier.to_bytes();
        if self.checkpoint_due(&head, now) {
            self.write_checkpoint(conn, &mut head, &frontier, now)?;
        }
        diesel::update(ledger_head::table.find(1i64))
            .set(&head)
            .execute(conn)?;
        self.written.notify_one();
        Ok(receipts
            .into_iter()
            .zip(signatures)
            .map(|((seq, entry_hash), signature)| Receipt {
                seq,
                entry_hash,
                signature,
            })
            .collect())
    }
}

/// The messages receipts sign, in order.
fn receipt_messages(receipts: &[(u64, Hash)]) -> Vec<[u8; 67]> {
    receipts
        .iter()
        .map(|(seq, hash)| receipt_message(*seq, hash))
        .collect()
}

fn attach_signatures(rows: &mut [EntryRow], signatures: &[[u8; 64]]) {
    for (row, signature) in rows.iter_mut().zip(signatures) {
        row.signature = signature.to_vec();
    }
}

/// Signs the receipts on every core, [`SIGN_CHUNK`] at a time, and yields
/// the signature chunks in receipt order as they complete. A chunk that
/// never arrives (a signing thread failed) ends the iteration early.
fn sign_in_background<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    signer: &'scope NoteSigner,
    receipts: &'scope [(u64, Hash)],
) -> impl Iterator<Item = Vec<[u8; 64]>> + 'scope {
    let chunks = receipts.len().div_ceil(SIGN_CHUNK);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(chunks);
    let (sender, received) = std::sync::mpsc::channel::<(usize, Vec<[u8; 64]>)>();
    for first in 0..threads {
        let sender = sender.clone();
        scope.spawn(move || {
            for (index, part) in receipts
                .chunks(SIGN_CHUNK)
                .enumerate()
                .skip(first)
                .step_by(threads)
            {
                let signed = signer.sign_many(&receipt_messages(part));
                // A closed channel means the writer gave up on this batch.
                if sender.send((index, signed)).is_err() {
                    return;
                }
            }
        });
    }
    drop(sender);
    let mut early = std::collections::BTreeMap::new();
    let mut next = 0;
    std::iter::from_fn(move || loop {
        if let Some(part) = early.remove(&next) {
            next += 1;
            return Some(part);
        }
        let (index, part) = received.recv().ok()?;
        early.insert(index, part);
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use super::super::keys::KeyAlgorithm;
    use super::super::{Ledger, LedgerOptions, NoteSigner, SubjectKey};
    use super::NewEntry;
    use crate::store::Store;

    thread_local! {
        /// Makes this thread's next group commit panic.
        pub(super) static PANIC_IN_COMMIT: Cell<bool> = const { Cell::new(false) };
    }

    fn entry(n: u64) -> NewEntry {
        NewEntry {
            kind: "test.entry".into(),
            actor: "hub".into(),
            subject: None,
            payload: serde_json::json!({ "n": n }),
        }
    }

    #[test]
    fn a_panicking_commit_does_not_stop_later_appends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("ledger.db").display().to_string();
        let store = Store::open(&url).expect("store");
        let signer = NoteSigner::generate("test/ledger", KeyAlgorithm::Ed25519).expect("key");
        let subject = SubjectKey::generate().expect("subject key");
        let ledger = std::sync::Arc::new(
            Ledger::new(store, signer, subject, LedgerOptions::default()).expect("ledger"),
        );
        let panicking = ledger.clone();
        let joined = std::thread::spawn(move || {
            PANIC_IN_COMMIT.with(|p| p.set(true));
            panicking.append(entry(0))
        })
        .join();
        assert!(joined.is_err(), "the injected panic reached its caller");
        // Before the guard, this append waited for ever on the stale flag.
        let (tx, rx) = std::sync::mpsc::channel();
        let later = ledger.clone();
        std::thread::spawn(move || {
            let _ = tx.send(later.append(entry(1)));
        });
        let receipt = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the append after a panic returned")
            .expect("the append after a panic was recorded");
        assert_eq!(
            receipt.seq, 0,
            "nothing of the panicked commit was recorded"
        );
    }
}
