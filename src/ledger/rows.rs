//! diesel row types for the ledger tables and their conversion to entries.

use diesel::prelude::*;

use super::entry::{Entry, EntryHeader};
use super::merkle::Hash;
use crate::store::schema::{
    ledger_checkpoints, ledger_cosignatures, ledger_entries, ledger_head, ledger_nodes,
    ledger_payloads,
};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ledger_entries)]
pub struct EntryRow {
    pub seq: i64,
    pub recorded_micros: i64,
    pub kind: String,
    pub actor: String,
    pub subject: Option<Vec<u8>>,
    pub payload_hash: Vec<u8>,
    pub prev_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ledger_payloads)]
pub struct PayloadRow {
    pub seq: i64,
    pub body: String,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ledger_nodes)]
pub struct NodeRow {
    pub id: i64,
    pub hash: Vec<u8>,
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = ledger_head)]
pub struct HeadRow {
    pub id: i64,
    pub size: i64,
    pub last_hash: Vec<u8>,
    pub frontier: Vec<u8>,
    pub checkpoint_size: i64,
    pub checkpoint_micros: i64,
    pub signer_vkey: String,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ledger_checkpoints)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub issued_micros: i64,
    pub note: String,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = ledger_cosignatures)]
pub struct CosignatureRow {
    pub tree_size: i64,
    pub witness: String,
    pub line: String,
}

/// A column that should hold a 32-byte hash, as read (wrong lengths become
/// all-zero so verification reports a mismatch rather than panicking).
pub fn hash_column(bytes: &[u8]) -> Hash {
    <Hash>::try_from(bytes).unwrap_or([0u8; 32])
}

impl EntryRow {
    /// The entry this row stores, with its payload text if not erased.
    /// `None` when a column cannot hold what the ledger wrote (negative
    /// sequence, hash of the wrong length): the row has been tampered with.
    pub fn into_entry(self, payload: Option<String>) -> Option<Entry> {
        let seq = u64::try_from(self.seq).ok()?;
        let subject = match self.subject {
            None => None,
            Some(s) => Some(<Hash>::try_from(s.as_slice()).ok()?),
        };
        Some(Entry {
            header: EntryHeader {
                seq,
                recorded_micros: self.recorded_micros,
                kind: self.kind,
                actor: self.actor,
                subject,
                payload_hash: <Hash>::try_from(self.payload_hash.as_slice()).ok()?,
                prev_hash: <Hash>::try_from(self.prev_hash.as_slice()).ok()?,
            },
            entry_hash: <Hash>::try_from(self.entry_hash.as_slice()).ok()?,
            signature: self.signature,
            payload,
        })
    }
}
