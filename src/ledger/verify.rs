//! Whole-ledger verification, from the database or from an export.
//!
//! [`ChainVerifier`] takes checkpoints first, then entries in sequence order,
//! and re-checks everything: each entry's hash against its canonical
//! encoding, the chain of previous hashes, the hub's signature on every
//! entry, every payload against its hash (an absent payload must have been
//! erased by a later `ledger.erasure` entry), and every checkpoint: its
//! signature by the hub's key and its root against the Merkle tree rebuilt
//! from the entries. It stops at the first problem and names it: the
//! sequence number of the first bad entry, or the checkpoint's tree size.
//!
//! Per-entry work (hashing, signatures) runs on all cores in chunks, the
//! signatures in batches; the chain and the tree are then checked in order.
//! Reading from the database overlaps the checks.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use diesel::prelude::*;

use super::checkpoint::{verify_note, Checkpoint};
use super::entry::{receipt_message, Entry, ERASURE_KIND, GENESIS_PREV};
use super::keys::NoteVerifier;
use super::merkle::{leaf_hash, sha256, Frontier, Hash, NodeId, MAX_LEAVES, STORED_LEVEL_MIN};
use super::read::payloads_between;
use super::rows::{hash_column, CheckpointRow, EntryRow, HeadRow};
use crate::store::schema::{ledger_checkpoints, ledger_entries, ledger_head, ledger_nodes};
use crate::store::{AnyConnection, Store};

/// Entries checked per parallel chunk.
const CHUNK: usize = 8192;

/// Where verification found a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultLocation {
    /// The entry with this sequence number.
    Entry(u64),
    /// The checkpoint of this tree size.
    Checkpoint(u64),
    /// The stored ledger head (size, last hash, tree frontier).
    Head,
    /// The export file (line number, 1-based).
    ExportLine(u64),
    /// A stored subtree hash (what inclusion and consistency proofs are
    /// built from).
    TreeNode(NodeId),
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub location: FaultLocation,
    pub reason: String,
}

impl Fault {
    fn entry(seq: u64, reason: impl Into<String>) -> Fault {
        Fault {
            location: FaultLocation::Entry(seq),
            reason: reason.into(),
        }
    }

    /// The sequence number of the first bad entry, when an entry is at fault.
    pub fn seq(&self) -> Option<u64> {
        match self.location {
            FaultLocation::Entry(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            FaultLocation::Entry(seq) => write!(f, "entry {seq}: {}", self.reason),
            FaultLocation::Checkpoint(size) => {
                write!(f, "checkpoint at tree size {size}: {}", self.reason)
            }
            FaultLocation::Head => write!(f, "ledger head: {}", self.reason),
            FaultLocation::ExportLine(line) => write!(f, "export line {line}: {}", self.reason),
            FaultLocation::TreeNode(id) => {
                let leaves = id.leaves();
                write!(
                    f,
                    "stored tree node at level {} over entries {}..={}: {}",
                    id.level,
                    leaves.start,
                    leaves.end - 1,
                    self.reason
                )
            }
        }
    }
}

/// Verification could not run (as opposed to finding a fault).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("verification failed: {0}")]
    Fault(Fault),
    #[error("cannot read the ledger: {0}")]
    Read(String),
}

impl From<Fault> for VerifyError {
    fn from(f: Fault) -> Self {
        VerifyError::Fault(f)
    }
}

impl From<diesel::result::Error> for VerifyError {
    fn from(e: diesel::result::Error) -> Self {
        VerifyError::Read(e.to_string())
    }
}

impl From<crate::store::StoreError> for VerifyError {
    fn from(e: crate::store::StoreError) -> Self {
        VerifyError::Read(e.to_string())
    }
}

/// What a sound ledger contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub entries: u64,
    pub checkpoints: u64,
    pub erased: u64,
    pub root: Hash,
}

/// An entry as read, or the reason its row could not be read as one.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // Entries are the common case; boxing them would cost an allocation each.
pub enum EntryRecord {
    Entry(Entry),
    Malformed { seq: u64, reason: String },
}

struct CheckpointRecord {
    root_column: Hash,
    note: String,
}

/// The streaming verifier.
pub struct ChainVerifier {
    key: NoteVerifier,
    frontier: Frontier,
    prev: Hash,
    checkpoints: BTreeMap<u64, CheckpointRecord>,
    /// The empty tree's checkpoint, checked before the first entry.
    empty_checkpoint: Option<CheckpointRecord>,
    checked_checkpoints: u64,
    missing: BTreeSet<u64>,
    erased: HashSet<u64>,
    buffer: Vec<EntryRecord>,
    /// Stored subtree hashes to compare with the rebuilt tree, when the
    /// source has them (a database; an export does not).
    stored_nodes: Option<HashMap<NodeId, Hash>>,
}

impl ChainVerifier {
    /// A verifier for ledgers signed by `key`.
    pub fn new(key: NoteVerifier) -> ChainVerifier {
        ChainVerifier {
            key,
            frontier: Frontier::new(),
            prev: GENESIS_PREV,
            checkpoints: BTreeMap::new(),
            empty_checkpoint: None,
            checked_checkpoints: 0,
            missing: BTreeSet::new(),
            erased: HashSet::new(),
            buffer: Vec::with_capacity(CHUNK),
            stored_nodes: None,
        }
    }

    /// Supplies stored subtree hashes, read before the entries that
    /// complete them are pushed: each must equal the rebuilt subtree, and
    /// every stored-level subtree the entries complete must be supplied.
    pub fn expect_stored_nodes(&mut self, nodes: impl IntoIterator<Item = (NodeId, Hash)>) {
        self.stored_nodes
            .get_or_insert_with(HashMap::new)
            .extend(nodes);
    }

    /// Registers a checkpoint (before the entries it covers are pushed).
    pub fn add_checkpoint(
        &mut self,
        tree_size: u64,
        root_column: Hash,
        note: String,
    ) -> Result<(), Fault> {
        let record = CheckpointRecord { root_column, note };
        // The empty tree's checkpoint, issued when a ledger is created, is
        // checked before the first entry (after the first entries'
        // signatures, which say better whether the key is the right one).
        if tree_size == 0 && self.size() == 0 && self.empty_checkpoint.is_none() {
            self.empty_checkpoint = Some(record);
            return Ok(());
        }
        if tree_size == 0 || tree_size <= self.frontier.size() {
            return Err(Fault {
                location: FaultLocation::Checkpoint(tree_size),
                reason: "checkpoint listed out of order".into(),
            });
        }
        self.checkpoints.insert(tree_size, record);
        Ok(())
    }

    /// Entries checked so far.
    pub fn size(&self) -> u64 {
        self.frontier.size() + self.buffer.len() as u64
    }

    /// Adds the next entry; checks run in chunks.
    pub fn push(&mut self, record: EntryRecord) -> Result<(), Fault> {
        self.buffer.push(record);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Checks everything pushed so far.
    pub fn push_flush(&mut self) -> Result<(), Fault> {
        self.flush()
    }

    fn flush(&mut self) -> Result<(), Fault> {
        let records = std::mem::take(&mut self.buffer);
        let faults = check_each(&records, &self.key);
        if self.frontier.size() == 0 {
            let signed_by_another =
                !records.is_empty() && faults.iter().all(|f| f.as_deref() == Some(BAD_SIGNATURE));
            if signed_by_another {
                return Err(Fault::entry(0, WRONG_KEY));
            }
            if let Some(cp) = self.empty_checkpoint.take() {
                self.check_checkpoint(0, &cp)?;
            }
        }
        for (record, fault) in records.iter().zip(faults) {
            let expected = self.frontier.size();
            let entry = match record {
                EntryRecord::Malformed { seq, reason } => {
                    return Err(
                        self.first_fault(Fault::entry((*seq).min(expected), reason.clone()))
                    );
                }
                EntryRecord::Entry(e) => e,
            };
            let seq = entry.header.seq;
            if seq != expected {
                let reason = if seq > expected {
                    format!("entry {expected} is missing or out of place: the next entry found is {seq}")
                } else {
                    format!("entry {seq} appears again where entry {expected} belongs (a duplicate, or entries out of order)")
                };
                return Err(self.first_fault(Fault::entry(expected, reason)));
            }
            if let Some(reason) = fault {
                return Err(self.first_fault(Fault::entry(seq, reason)));
            }
            if entry.header.prev_hash != self.prev {
                return Err(self.first_fault(Fault::entry(
                    seq,
                    "previous-entry hash does not match the entry before it (chain broken)",
                )));
            }
            self.follow_erasure(entry)?;
            let mut node_fault = None;
            let stored = &mut self.stored_nodes;
            self.frontier
                .push(leaf_hash(&entry.entry_hash), |id, hash| {
                    let Some(stored) = stored.as_mut().filter(|_| id.is_stored()) else {
                        return;
                    };
                    let reason = match stored.remove(&id) {
                        Some(found) if found == *hash => return,
                        Some(_) => "does not match the entries it covers",
                        None => "is missing",
                    };
                    node_fault.get_or_insert(Fault {
                        location: FaultLocation::TreeNode(id),
                        reason: reason.into(),
                    });
                });
            if let Some(fault) = node_fault {
                return Err(self.first_fault(fault));
            }
            self.prev = entry.entry_hash;
            let size = self.frontier.size();
            if let Some(cp) = self.checkpoints.remove(&size) {
                self.check_checkpoint(size, &cp)?;
            }
        }
        Ok(())
    }

    fn follow_erasure(&mut self, entry: &Entry) -> Result<(), Fault> {
        let seq = entry.header.seq;
        match &entry.payload {
            None if entry.header.kind == ERASURE_KIND => {
                return Err(self.first_fault(Fault::entry(seq, "erasure record has no payload")));
            }
            None => {
                self.missing.insert(seq);
            }
            Some(body) if entry.header.kind == ERASURE_KIND => {
                let erases = serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("erases").and_then(|e| e.as_u64()));
                match erases {
                    Some(target) if target < seq && !self.erased.contains(&target) => {
                        self.erased.insert(target);
                        self.missing.remove(&target);
                    }
                    _ => {
                        return Err(self.first_fault(Fault::entry(
                            seq,
                            "erasure record does not name an earlier, not yet erased entry",
                        )))
                    }
                }
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// A payload missing without an erasure before `fault` is the earlier fault.
    fn first_fault(&self, fault: Fault) -> Fault {
        let at = fault.seq().unwrap_or(u64::MAX);
        match self.missing.iter().next() {
            Some(&m) if m < at => Fault::entry(
                m,
                "payload is missing but no erasure entry records its erasure",
            ),
            _ => fault,
        }
    }

    fn check_checkpoint(&mut self, size: u64, cp: &CheckpointRecord) -> Result<(), Fault> {
        let fault = |reason: String| Fault {
            location: FaultLocation::Checkpoint(size),
            reason,
        };
        let checkpoint: Checkpoint = verify_note(&cp.note, &self.key, None).map_err(|e| {
            if size == 0 {
                fault(format!("{e}: is it the right key?"))
            } else {
                fault(e.to_string())
            }
        })?;
        let root = self.frontier.root();
        if checkpoint.size != size {
            return Err(fault(format!(
                "the signed note is for tree size {}",
                checkpoint.size
            )));
        }
        if checkpoint.root != root {
            return Err(fault(
                "the signed root hash does not match the entries".into(),
            ));
        }
        if cp.root_column != root {
            return Err(fault(
                "the stored root hash does not match the entries".into(),
            ));
        }
        self.checked_checkpoints += 1;
        Ok(())
    }

    /// Ends verification: checks the remaining buffer, that every checkpoint
    /// was reached, and that every absent payload was erased.
    pub fn finish(mut self) -> Result<Summary, Fault> {
        self.flush()?;
        if let Some(fault) = self.missing.iter().next().map(|&m| {
            Fault::entry(
                m,
                "payload is missing but no erasure entry records its erasure",
            )
        }) {
            return Err(fault);
        }
        if let Some((&size, _)) = self.checkpoints.iter().next() {
            return Err(Fault {
                location: FaultLocation::Checkpoint(size),
                reason: format!(
                    "checkpoint is beyond the ledger's {} entries",
                    self.frontier.size()
                ),
            });
        }
        Ok(Summary {
            entries: self.frontier.size(),
            checkpoints: self.checked_checkpoints,
            erased: self.erased.len() as u64,
            root: self.frontier.root(),
        })
    }

    /// The hash of the last entry checked and the current frontier.
    pub fn tip(&self) -> (Hash, &Frontier) {
        (self.prev, &self.frontier)
    }
}

/// Signatures checked together in one batch verification: large enough that
/// the multiscalar multiplication runs at its cheapest per point, small
/// enough that a bad signature costs little to find one by one.
const SIGNATURE_BATCH: usize = 512;

const BAD_HASH: &str = "entry hash does not match the entry's contents";
const BAD_SIGNATURE: &str = "signature is not the hub's signature over this entry";
/// When no signature of the first entries verifies, the key is the likelier fault.
const WRONG_KEY: &str =
    "no entry's signature matches this key: is it the right key? (`tellonce ledger key` prints the hub's)";
const BAD_PAYLOAD: &str = "payload does not match its payload hash";

/// The independent per-entry checks, on all cores.
fn check_each(records: &[EntryRecord], key: &NoteVerifier) -> Vec<Option<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || records.len() < 64 {
        return check_part(records, key);
    }
    let per = records.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(per)
            .map(|part| s.spawn(move || check_part(part, key)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Some("verifier thread failed".into())])
            })
            .collect()
    })
}

/// The per-entry checks of one slice, in the order a fault is reported:
/// entry hash, signature, payload hash. Signatures are checked in batches;
/// only a batch that fails is checked again one signature at a time, so the
/// fault names exactly the entries whose own signature is bad.
fn check_part(records: &[EntryRecord], key: &NoteVerifier) -> Vec<Option<String>> {
    let mut faults: Vec<Option<&'static str>> = vec![None; records.len()];
    // Entries whose signature decides their verdict: (index, message, signature).
    let mut pending: Vec<(usize, [u8; 67], [u8; 64])> = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let EntryRecord::Entry(e) = record else {
            continue;
        };
        if e.header.entry_hash() != e.entry_hash {
            faults[i] = Some(BAD_HASH);
            continue;
        }
        if let Some(body) = &e.payload {
            if sha256(body.as_bytes()) != e.header.payload_hash {
                faults[i] = Some(BAD_PAYLOAD);
            }
        }
        match <[u8; 64]>::try_from(e.signature.as_slice()) {
            Ok(signature) => {
                pending.push((i, receipt_message(e.header.seq, &e.entry_hash), signature))
            }
            Err(_) => faults[i] = Some(BAD_SIGNATURE),
        }
    }
    for batch in pending.chunks(SIGNATURE_BATCH) {
        let messages: Vec<&[u8]> = batch.iter().map(|(_, m, _)| m.as_slice()).collect();
        let signatures: Vec<[u8; 64]> = batch.iter().map(|(_, _, s)| *s).collect();
        if key.verify_batch(&messages, &signatures) {
            continue;
        }
        for (i, message, signature) in batch {
            if !key.verify(message, signature) {
                faults[*i] = Some(BAD_SIGNATURE);
            }
        }
    }
    faults.into_iter().map(|f| f.map(str::to_string)).collect()
}

/// Reads a database row as an entry record.
pub fn record_of(row: EntryRow, payload: Option<String>) -> EntryRecord {
    let seq = row.seq.max(0) as u64;
    match row.into_entry(payload) {
        Some(e) => EntryRecord::Entry(e),
        None => EntryRecord::Malformed {
            seq,
            reason: "a column holds a value the ledger never writes (negative sequence or a hash of the wrong length)".into(),
        },
    }
}

/// One page read from the database: entries with their payloads, and the
/// stored subtree hashes those entries complete.
struct Page {
    records: Vec<EntryRecord>,
    nodes: Vec<(NodeId, Hash)>,
}

/// The stored subtree hashes completed by the entries `first..=last`: at
/// each stored level, the nodes whose last leaf falls in that range, one
/// range query per level.
fn read_completed_nodes(
    conn: &mut AnyConnection,
    first: u64,
    last: u64,
) -> Result<Vec<(NodeId, Hash)>, VerifyError> {
    let mut out = Vec::new();
    for level in STORED_LEVEL_MIN..64 {
        let width = 1u64 << level;
        if width > last + 1 || width >= MAX_LEAVES {
            break;
        }
        // Node i completes at leaf (i + 1) * width - 1.
        let lo = (first + 1).div_ceil(width).saturating_sub(1);
        let hi = (last + 1) / width;
        if hi == 0 || lo >= hi {
            continue;
        }
        let from = NodeId { level, index: lo }.key();
        let to = NodeId {
            level,
            index: hi - 1,
        }
        .key();
        let rows: Vec<(i64, Vec<u8>)> = ledger_nodes::table
            .filter(ledger_nodes::id.between(from, to))
            .select((ledger_nodes::id, ledger_nodes::hash))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(key, hash)| {
            // A hash column of the wrong length can never match: all-ones
            // is not a SHA-256 output the tree will meet.
            let hash = <Hash>::try_from(hash.as_slice()).unwrap_or([0xff; 32]);
            (NodeId::from_key(key), hash)
        }));
    }
    Ok(out)
}

/// The next page after sequence `after`, which moves to the page's last
/// sequence; empty at the end.
fn read_page(conn: &mut AnyConnection, after: &mut i64) -> Result<Page, VerifyError> {
    let records = read_records(conn, after)?;
    let nodes = match (records.first(), records.last()) {
        (Some(first), Some(last)) => {
            read_completed_nodes(conn, record_seq(first), record_seq(last))?
        }
        _ => Vec::new(),
    };
    Ok(Page { records, nodes })
}

fn record_seq(record: &EntryRecord) -> u64 {
    match record {
        EntryRecord::Entry(e) => e.header.seq,
        EntryRecord::Malformed { seq, .. } => *seq,
    }
}

/// The next page of entries (with their payloads) after sequence `after`.
fn read_records(
    conn: &mut AnyConnection,
    after: &mut i64,
) -> Result<Vec<EntryRecord>, VerifyError> {
    let rows: Vec<EntryRow> = ledger_entries::table
        .filter(ledger_entries::seq.gt(*after))
        .order(ledger_entries::seq.asc())
        .limit(CHUNK as i64)
        .load(conn)?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let mut payloads = payloads_between(conn, first.seq, last.seq)?;
    *after = last.seq;
    Ok(rows
        .into_iter()
        .map(|row| {
            let payload = payloads.remove(&row.seq);
            record_of(row, payload)
        })
        .collect())
}

/// Verifies the ledger in `store` against the hub's verifier key.
/// `progress(done, total)` is called after every page.
pub fn verify_store(
    store: &Store,
    key: &NoteVerifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<Summary, VerifyError> {
    let mut conn = store.get()?;
    let conn: &mut AnyConnection = &mut conn;
    let head: HeadRow = ledger_head::table.find(1i64).first(conn)?;
    let total = head.size.max(0) as u64;
    let mut verifier = ChainVerifier::new(key.clone());
    let checkpoints: Vec<CheckpointRow> = ledger_checkpoints::table
        .order(ledger_checkpoints::tree_size.asc())
        .load(conn)?;
    for cp in checkpoints {
        verifier.add_checkpoint(
            cp.tree_size.max(0) as u64,
            hash_column(&cp.root_hash),
            cp.note,
        )?;
    }
    // One thread reads the next page while this one checks the last, so
    // reading the rows costs no time beyond the checks.
    let (pages, received) = std::sync::mpsc::sync_channel::<Result<Page, VerifyError>>(1);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut after: i64 = -1;
            loop {
                let page = read_page(conn, &mut after);
                let done = !matches!(&page, Ok(page) if !page.records.is_empty());
                // A closed channel means the checks stopped at a fault.
                if pages.send(page).is_err() || done {
                    return;
                }
            }
        });
        // A database has stored subtree hashes: check them from the first
        // page on, including any a page should have but does not.
        verifier.expect_stored_nodes([]);
        for page in received {
            let Page { records, nodes } = page?;
            if records.is_empty() {
                break;
            }
            verifier.expect_stored_nodes(nodes);
            for record in records {
                verifier.push(record)?;
            }
            progress(verifier.size(), total);
        }
        Ok::<(), VerifyError>(())
    })?;
    verifier.flush()?;
    let (tip, frontier) = verifier.tip();
    let size = frontier.size();
    if size != total {
        return Err(Fault {
            location: FaultLocation::Head,
            reason: format!("the head records {total} entries but {size} were found"),
        }
        .into());
    }
    if size > 0 && head.last_hash.as_slice() != tip.as_slice() {
        return Err(Fault {
            location: FaultLocation::Head,
            reason: "the head's last hash is not the last entry's hash".into(),
        }
        .into());
    }
    if head.frontier != frontier.to_bytes() {
        return Err(Fault {
            location: FaultLocation::Head,
            reason: "the head's tree frontier does not match the entries".into(),
        }
        .into());
    }
    Ok(verifier.finish()?)
}
