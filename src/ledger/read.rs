//! Reading the ledger: entries (one, or a filtered page by sequence cursor),
//! the latest checkpoint with its cosignatures, and inclusion and
//! consistency proofs assembled from stored subtree hashes and the entry
//! hashes below them in two queries.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::entry::{Entry, SubjectHash};
use super::merkle::{self, Hash, LeafRange, NodeId};
use super::rows::{hash_column, CheckpointRow, CosignatureRow, EntryRow, HeadRow, PayloadRow};
use super::{Ledger, LedgerError};
use crate::store::schema::{
    ledger_checkpoints, ledger_cosignatures, ledger_entries, ledger_head, ledger_nodes,
    ledger_payloads,
};
use crate::store::AnyConnection;

/// Largest page `entries` returns.
pub const MAX_PAGE: usize = 1000;

/// Reads the head row without locking it.
pub(crate) fn head(conn: &mut AnyConnection) -> Result<HeadRow, LedgerError> {
    Ok(ledger_head::table.find(1i64).first::<HeadRow>(conn)?)
}

/// The payloads of entries `first..=last` still stored (erased ones are
/// absent), by sequence: one range query for a page of entries.
pub(crate) fn payloads_between(
    conn: &mut AnyConnection,
    first: i64,
    last: i64,
) -> Result<HashMap<i64, String>, diesel::result::Error> {
    Ok(ledger_payloads::table
        .filter(ledger_payloads::seq.ge(first))
        .filter(ledger_payloads::seq.le(last))
        .load::<PayloadRow>(conn)?
        .into_iter()
        .map(|p| (p.seq, p.body))
        .collect())
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Only entries with a sequence greater than this.
    pub after: Option<u64>,
    /// At most this many (capped at [`MAX_PAGE`]).
    pub first: usize,
    pub kind: Option<String>,
    pub subject: Option<SubjectHash>,
}

/// One page of entries.
#[derive(Debug, Clone)]
pub struct EntryPage {
    pub entries: Vec<Entry>,
    pub has_next_page: bool,
}

/// A signed checkpoint as stored, with witness cosignature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub root_hash: Hash,
    pub issued_at: DateTime<Utc>,
    /// The signed note (body, blank line, the hub's signature line).
    pub note: String,
    /// Witness cosignature lines (without newlines).
    pub cosignatures: Vec<String>,
}

impl StoredCheckpoint {
    /// The note with the cosignature lines appended, as served.
    pub fn note_with_cosignatures(&self) -> String {
        let mut out = self.note.clone();
        for line in &self.cosignatures {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// Proof that an entry is in the tree of a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub seq: u64,
    pub tree_size: u64,
    pub entry_hash: Hash,
    pub leaf_hash: Hash,
    pub root_hash: Hash,
    pub hashes: Vec<Hash>,
}

/// Proof that the tree of size `from` is a prefix of the tree of size `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub from_root: Hash,
    pub to_root: Hash,
    pub hashes: Vec<Hash>,
}

fn key(seq: u64) -> Result<i64, LedgerError> {
    i64::try_from(seq).map_err(|_| LedgerError::NotFound(seq))
}

/// Subtree hashes by node.
type NodeHashes = HashMap<NodeId, Hash>;
/// Entry hashes by sequence.
type EntryHashes = HashMap<u64, Hash>;

/// Most subtree hashes [`NodeCache`] keeps (about 64 bytes each).
const NODE_CACHE_CAPACITY: usize = 1 << 18;

/// Subtree hashes already read or recomputed. Every node a proof asks for
/// is a perfect subtree of a tree that already has its leaves, and a
/// complete subtree never changes, so a cached hash is always right. When
/// the cache is full it starts again empty: proofs for recent tree sizes
/// share their upper nodes, which come back on the next request.
#[derive(Debug, Default)]
pub(crate) struct NodeCache {
    nodes: std::sync::Mutex<NodeHashes>,
    /// Entry hashes read for the lowest levels (an entry hash never
    /// changes, erasure included), so a warm proof reads nothing.
    entries: std::sync::Mutex<EntryHashes>,
}

impl NodeCache {
    /// The cached nodes among `ids` into `out`; returns the ones not cached.
    fn take_known(&self, ids: &[NodeId], out: &mut NodeHashes) -> Vec<NodeId> {
        let Ok(nodes) = self.nodes.lock() else {
            return ids.to_vec();
        };
        ids.iter()
            .filter(|id| match nodes.get(id) {
                Some(hash) => {
                    out.insert(**id, *hash);
                    false
                }
                None => true,
            })
            .copied()
            .collect()
    }

    /// The cached entry hashes among `seqs` into `out`; returns the others.
    fn take_known_entries(&self, seqs: &[i64], out: &mut EntryHashes) -> Vec<i64> {
        let Ok(entries) = self.entries.lock() else {
            return seqs.to_vec();
        };
        seqs.iter()
            .filter(|seq| match entries.get(&(**seq as u64)) {
                Some(hash) => {
                    out.insert(**seq as u64, *hash);
                    false
                }
                None => true,
            })
            .copied()
            .collect()
    }

    fn remember_entries(&self, found: &EntryHashes) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() + found.len() > NODE_CACHE_CAPACITY {
            entries.clear();
        }
        entries.extend(found.iter().map(|(k, v)| (*k, *v)));
    }

    /// Remembers nodes above level 0 (a leaf's proof needs its entry
    /// hash as well, kept apart in `entries`).
    fn remember(&self, found: impl Iterator<Item = (NodeId, Hash)>) {
        let Ok(mut nodes) = self.nodes.lock() else {
            return;
        };
        for (id, hash) in found.filter(|(id, _)| id.level > 0) {
            if nodes.len() >= NODE_CACHE_CAPACITY {
                nodes.clear();
            }
            nodes.insert(id, hash);
        }
    }
}

/// The hashes of the subtrees `ids`, keyed by node, and the entry hashes
/// read on the way, keyed by sequence: cached ones from `cache`, stored
/// ones from the nodes table, and each lower one recomputed from the (at
/// most eight) entry hashes it covers, both read by [`read_hashes`].
/// A node whose rows are missing is left out (`fold_ranges` names it).
fn load_nodes(
    conn: &mut AnyConnection,
    cache: &NodeCache,
    ids: &[NodeId],
) -> Result<(NodeHashes, EntryHashes), LedgerError> {
    let mut nodes = HashMap::with_capacity(ids.len());
    let missing = cache.take_known(ids, &mut nodes);
    let (stored, low): (Vec<NodeId>, Vec<NodeId>) = missing.iter().partition(|id| id.is_stored());
    let mut found: Vec<(NodeId, Hash)> = Vec::with_capacity(missing.len());
    let keys: Vec<i64> = stored.iter().map(|id| id.key()).collect();
    let mut seqs: Vec<i64> = low
        .iter()
        .flat_map(|id| id.leaves())
        .filter_map(|s| i64::try_from(s).ok())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let mut entry_hashes = HashMap::with_capacity(seqs.len());
    let unread = cache.take_known_entries(&seqs, &mut entry_hashes);
    let (node_rows, entry_rows) = if keys.is_empty() && unread.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        read_hashes(conn, &keys, &unread)?
    };
    found.extend(
        node_rows
            .into_iter()
            .map(|(k, h)| (NodeId::from_key(k), hash_column(&h))),
    );
    let read: EntryHashes = entry_rows
        .into_iter()
        .map(|(seq, h)| (seq as u64, hash_column(&h)))
        .collect();
    cache.remember_entries(&read);
    entry_hashes.extend(read);
    for id in low {
        let leaves: Option<Vec<Hash>> = id
            .leaves()
            .map(|seq| entry_hashes.get(&seq).copied())
            .collect();
        if let Some(leaves) = leaves {
            found.push((id, merkle::subtree_hash(&leaves)));
        }
    }
    cache.remember(found.iter().copied());
    nodes.extend(found);
    Ok((nodes, entry_hashes))
}

/// Entry hashes spanning fewer sequences than this are read by one range scan.
const ENTRY_RANGE_SCAN: i64 = 64;

/// Hash columns by node key or sequence.
type KeyedRows = Vec<(i64, Vec<u8>)>;

/// Stored subtree hashes by key and entry hashes by sequence: on
/// PostgreSQL in one round trip (a proof is latency-bound there), on
/// SQLite, which is in process, in two plain queries.
fn read_hashes(
    conn: &mut AnyConnection,
    keys: &[i64],
    seqs: &[i64],
) -> Result<(KeyedRows, KeyedRows), LedgerError> {
    if let AnyConnection::Postgres(pg) = conn {
        use diesel::sql_types::Bool;
        use diesel::IntoSql;
        if keys.is_empty() && seqs.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // Built with the query builder so the statement is prepared once per
        // connection and reused (a raw query is parsed and planned again
        // on every call); the third column tells entry rows from node rows.
        macro_rules! nodes_and_entries {
            ($entries:expr) => {
                ledger_nodes::table
                    .filter(ledger_nodes::id.eq_any(keys))
                    .select((
                        ledger_nodes::id,
                        ledger_nodes::hash,
                        false.into_sql::<Bool>(),
                    ))
                    .union_all($entries.select((
                        ledger_entries::seq,
                        ledger_entries::entry_hash,
                        true.into_sql::<Bool>(),
                    )))
                    .load::<(i64, Vec<u8>, bool)>(pg)?
            };
        }
        // An inclusion proof's lowest levels lie in one block of 16 leaves:
        // one short index range scan reads them faster than a probe each.
        let (first, last) = (seqs.first().copied(), seqs.last().copied());
        let rows = match (first, last) {
            (Some(first), Some(last)) if last - first < ENTRY_RANGE_SCAN => {
                let mut rows = nodes_and_entries!(
                    ledger_entries::table.filter(ledger_entries::seq.between(first, last))
                );
                rows.retain(|(k, _, entry)| !entry || seqs.binary_search(k).is_ok());
                rows
            }
            _ => nodes_and_entries!(ledger_entries::table.filter(ledger_entries::seq.eq_any(seqs))),
        };
        let (entries, nodes): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.2);
        return Ok((
            nodes.into_iter().map(|(k, h, _)| (k, h)).collect(),
            entries.into_iter().map(|(k, h, _)| (k, h)).collect(),
        ));
    }
    let nodes = if keys.is_empty() {
        Vec::new()
    } else {
        ledger_nodes::table
            .filter(ledger_nodes::id.eq_any(keys))
            .select((ledger_nodes::id, ledger_nodes::hash))
            .load(conn)?
    };
    let entries = if seqs.is_empty() {
        Vec::new()
    } else {
        ledger_entries::table
            .filter(ledger_entries::seq.eq_any(seqs))
            .select((ledger_entries::seq, ledger_entries::entry_hash))
            .load(conn)?
    };
    Ok((nodes, entries))
}

/// A stored checkpoint with its witness cosignature lines.
fn with_cosignatures(
    conn: &mut AnyConnection,
    row: CheckpointRow,
) -> Result<StoredCheckpoint, LedgerError> {
    let cosignatures = ledger_cosignatures::table
        .filter(ledger_cosignatures::tree_size.eq(row.tree_size))
        .order(ledger_cosignatures::witness.asc())
        .load::<CosignatureRow>(conn)?
        .into_iter()
        .map(|c| c.line)
        .collect();
    Ok(StoredCheckpoint {
        tree_size: row.tree_size as u64,
        root_hash: hash_column(&row.root_hash),
        issued_at: DateTime::from_timestamp_micros(row.issued_micros).unwrap_or_default(),
        note: row.note,
        cosignatures,
    })
}

fn whole_tree(size: u64) -> LeafRange {
    LeafRange {
        start: 0,
        end: size,
    }
}

impl Ledger {
    /// The number of committed entries.
    pub fn size(&self) -> Result<u64, LedgerError> {
        Ok(head(&mut *self.store.get()?)?.size as u64)
    }

    /// The ledger's size, read from the head unless `wanted` is given and
    /// a size at least as large was seen before: the size only grows, so
    /// a proof for an older tree size needs no fresh read of the head.
    fn size_covering(
        &self,
        conn: &mut AnyConnection,
        wanted: Option<u64>,
    ) -> Result<u64, LedgerError> {
        let known = self.known_size.load(Ordering::Relaxed);
        if wanted.is_some_and(|wanted| wanted <= known) {
            return Ok(known);
        }
        let size = head(conn)?.size as u64;
        self.known_size.fetch_max(size, Ordering::Relaxed);
        Ok(size)
    }

    /// One entry with its payload (if not erased).
    pub fn entry(&self, seq: u64) -> Result<Option<Entry>, LedgerError> {
        let mut conn = self.store.get()?;
        let k = key(seq)?;
        let Some(row) = ledger_entries::table
            .find(k)
            .first::<EntryRow>(&mut *conn)
            .optional()?
        else {
            return Ok(None);
        };
        let payload = ledger_payloads::table
            .find(k)
            .select(ledger_payloads::body)
            .first::<String>(&mut *conn)
            .optional()?;
        row.into_entry(payload)
            .map(Some)
            .ok_or(LedgerError::CorruptHead(
                "a stored entry has malformed columns",
            ))
    }

    /// A page of entries in sequence order.
    pub fn entries(&self, filter: &EntryFilter) -> Result<EntryPage, LedgerError> {
        let mut conn = self.store.get()?;
        let first = filter.first.min(MAX_PAGE);
        let mut query = ledger_entries::table.into_boxed();
        if let Some(after) = filter.after {
            query = query.filter(ledger_entries::seq.gt(key(after)?));
        }
        if let Some(kind) = &filter.kind {
            query = query.filter(ledger_entries::kind.eq(kind.clone()));
        }
        if let Some(subject) = &filter.subject {
            query = query.filter(ledger_entries::subject.eq(subject.to_vec()));
        }
        let mut rows: Vec<EntryRow> = query
            .order(ledger_entries::seq.asc())
            .limit(first as i64 + 1)
            .load(&mut *conn)?;
        let has_next_page = rows.len() > first;
        rows.truncate(first);
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let mut payloads: HashMap<i64, String> = ledger_payloads::table
            .filter(ledger_payloads::seq.eq_any(&seqs))
            .load::<PayloadRow>(&mut *conn)?
            .into_iter()
            .map(|p| (p.seq, p.body))
            .collect();
        let entries = rows
            .into_iter()
            .map(|r| {
                let p = payloads.remove(&r.seq);
                r.into_entry(p).ok_or(LedgerError::CorruptHead(
                    "a stored entry has malformed columns",
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EntryPage {
            entries,
            has_next_page,
        })
    }

    /// The most recent checkpoint, if any was issued.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, LedgerError> {
        let mut conn = self.store.get()?;
        let row = ledger_checkpoints::table
            .order(ledger_checkpoints::tree_size.desc())
            .first::<CheckpointRow>(&mut *conn)
            .optional()?;
        row.map(|row| with_cosignatures(&mut conn, row)).transpose()
    }

    /// The newest checkpoint the witness policy lets the hub publish: the
    /// latest one when no quorum is configured, else the latest with at
    /// least `witness_quorum` witnesses' cosignatures.
    pub fn published_checkpoint(&self) -> Result<Option<StoredCheckpoint>, LedgerError> {
        let quorum = self.options.witness_quorum;
        if quorum == 0 {
            return self.latest_checkpoint();
        }
        let mut conn = self.store.get()?;
        let size: Option<i64> = ledger_cosignatures::table
            .group_by(ledger_cosignatures::tree_size)
            .having(diesel::dsl::count_star().ge(quorum as i64))
            .select(ledger_cosignatures::tree_size)
            .order(ledger_cosignatures::tree_size.desc())
            .first(&mut *conn)
            .optional()?;
        drop(conn);
        match size {
            Some(size) => self.checkpoint_at(size as u64),
            None => Ok(None),
        }
    }

    /// The largest tree size `witness` (a vkey) has cosigned, if any.
    pub fn witnessed_size(&self, witness: &str) -> Result<Option<u64>, LedgerError> {
        let mut conn = self.store.get()?;
        let size: Option<i64> = ledger_cosignatures::table
            .filter(ledger_cosignatures::witness.eq(witness))
            .select(diesel::dsl::max(ledger_cosignatures::tree_size))
            .first(&mut *conn)?;
        Ok(size.map(|s| s as u64))
    }

    /// The checkpoint issued at tree size `tree_size`, if there is one.
    pub fn checkpoint_at(&self, tree_size: u64) -> Result<Option<StoredCheckpoint>, LedgerError> {
        let Ok(size) = i64::try_from(tree_size) else {
            return Ok(None);
        };
        let mut conn = self.store.get()?;
        let row = ledger_checkpoints::table
            .find(size)
            .first::<CheckpointRow>(&mut *conn)
            .optional()?;
        row.map(|row| with_cosignatures(&mut conn, row)).transpose()
    }

    /// The size proofs are for when the caller names none: the latest
    /// published checkpoint's, so the proof checks against a signed root.
    fn default_proof_size(&self, tree_size: Option<u64>) -> Result<Option<u64>, LedgerError> {
        match tree_size {
            Some(size) => Ok(Some(size)),
            None => match self.published_checkpoint()? {
                Some(checkpoint) => Ok(Some(checkpoint.tree_size)),
                None => Err(LedgerError::NoCheckpoint),
            },
        }
    }

    /// The inclusion proof of entry `seq` in the tree of `tree_size` entries
    /// (the latest published checkpoint's size when `None`).
    pub fn inclusion_proof(
        &self,
        seq: u64,
        tree_size: Option<u64>,
    ) -> Result<InclusionProof, LedgerError> {
        let tree_size = self.default_proof_size(tree_size)?;
        let mut conn = self.store.get()?;
        let size = self.size_covering(&mut conn, tree_size)?;
        let tree_size = tree_size.unwrap_or(size);
        if tree_size > size {
            return Err(LedgerError::BeyondTreeSize {
                requested: tree_size,
                size,
            });
        }
        let ranges = merkle::inclusion_ranges(seq, tree_size)?;
        let mut all = ranges.clone();
        all.push(whole_tree(tree_size));
        all.push(LeafRange {
            start: seq,
            end: seq + 1,
        });
        // The entry's own leaf is a level-0 node: its entry hash is read
        // with the lower nodes.
        let (nodes, entry_hashes) =
            load_nodes(&mut conn, &self.node_cache, &merkle::nodes_for(&all))?;
        let mut hashes = merkle::fold_ranges(&all, &nodes)?;
        let leaf = hashes.pop().ok_or(merkle::ProofError::WrongLength)?;
        let root = hashes.pop().ok_or(merkle::ProofError::WrongLength)?;
        let entry_hash = *entry_hashes.get(&seq).ok_or(LedgerError::NotFound(seq))?;
        Ok(InclusionProof {
            seq,
            tree_size,
            entry_hash,
            leaf_hash: leaf,
            root_hash: root,
            hashes,
        })
    }

    /// The consistency proof between two tree sizes (`to` defaults to the
    /// latest published checkpoint's size).
    pub fn consistency_proof(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyProof, LedgerError> {
        let to = self.default_proof_size(to)?;
        let mut conn = self.store.get()?;
        let size = self.size_covering(&mut conn, to.map(|to| to.max(from)))?;
        let to = to.unwrap_or(size);
        if to > size || from > size {
            return Err(LedgerError::BeyondTreeSize {
                requested: to.max(from),
                size,
            });
        }
        let ranges = merkle::consistency_ranges(from, to)?;
        let mut all = ranges.clone();
        all.push(whole_tree(from));
        all.push(whole_tree(to));
        let (nodes, _) = load_nodes(&mut conn, &self.node_cache, &merkle::nodes_for(&all))?;
        let mut hashes = merkle::fold_ranges(&all, &nodes)?;
        let to_root = hashes.pop().ok_or(merkle::ProofError::WrongLength)?;
        let from_root = hashes.pop().ok_or(merkle::ProofError::WrongLength)?;
        Ok(ConsistencyProof {
            from,
            to,
            from_root,
            to_root,
            hashes,
        })
    }
}
