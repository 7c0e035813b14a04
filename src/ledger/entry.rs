//! Ledger entries, their canonical encoding, entry hash and receipt.
//!
//! # Canonical encoding (version 1)
//!
//! The entry hash is SHA-256 over exactly these bytes, in this order
//! (integers big-endian, strings UTF-8):
//!
//! | bytes | field |
//! | --- | --- |
//! | 25 | the ASCII text `tellonce/ledger/entry/v1` followed by `0x0A` |
//! | 8 | `seq`, unsigned (the first entry is 0; seq is also the Merkle leaf index) |
//! | 8 | `recorded_micros`, signed: microseconds since 1970-01-01T00:00:00Z |
//! | 4 + n | length of `kind` in bytes, then `kind` |
//! | 4 + n | length of `actor` in bytes, then `actor` |
//! | 1 (+ 32) | `0x00` when there is no subject; `0x01` then the 32-byte subject hash |
//! | 32 | `payload_hash` = SHA-256 of the payload's stored JSON text, byte for byte |
//! | 32 | `prev_hash`: the previous entry's hash; 32 zero bytes for entry 0 |
//!
//! The Merkle leaf of an entry is its entry hash (leaf hash
//! `SHA-256(0x00 || entry_hash)`).
//!
//! # Receipt
//!
//! The hub signs every entry with its Ed25519 key. The signed message is the
//! ASCII text `tellonce/ledger/receipt/v1` followed by `0x0A`, then `seq`
//! (8 bytes, big-endian), then the 32-byte entry hash. The receipt a caller
//! gets is `(seq, entry_hash, signature)`; anyone with the verifier key can
//! check it offline.

use chrono::{DateTime, Utc};

use super::keys::{NoteSigner, NoteVerifier};
use super::merkle::{sha256, Hash};

/// Domain prefix of the canonical entry encoding.
pub const ENTRY_DOMAIN: &[u8] = b"tellonce/ledger/entry/v1\n";
/// Domain prefix of the receipt signature message.
pub const RECEIPT_DOMAIN: &[u8] = b"tellonce/ledger/receipt/v1\n";
/// The `prev_hash` of entry 0.
pub const GENESIS_PREV: Hash = [0u8; 32];
/// The kind of the entry that records an erasure.
pub const ERASURE_KIND: &str = "ledger.erasure";
/// Longest kind, in bytes.
pub const MAX_KIND_LEN: usize = 128;
/// Longest actor, in bytes.
pub const MAX_ACTOR_LEN: usize = 256;

/// A keyed hash standing for a personal identifier (see `Ledger::subject_hash`).
pub type SubjectHash = Hash;

/// What a caller asks the ledger to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// What happened, e.g. `tellonce.event.recorded` (lowercase dotted).
    pub kind: String,
    /// Who did it: a principal id or `hub`.
    pub actor: String,
    /// The keyed hash of the person or business concerned, if any.
    pub subject: Option<SubjectHash>,
    /// The details, stored apart from the header and erasable.
    pub payload: serde_json::Value,
}

/// Why an entry cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("kind must be 1 to 128 bytes of a-z, 0-9, '.', '_' or '-'")]
    BadKind,
    #[error("actor must be 1 to 256 bytes without control characters")]
    BadActor,
    #[error("the payload is {size} bytes; the limit is {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    #[error("the kind {0} is reserved for the ledger itself")]
    ReservedKind(String),
}

impl NewEntry {
    /// Checks the header fields and serializes the payload, enforcing the size limit.
    pub fn validate(&self, max_payload_bytes: usize) -> Result<String, EntryError> {
        let kind_ok = !self.kind.is_empty()
            && self.kind.len() <= MAX_KIND_LEN
            && self
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !kind_ok {
            return Err(EntryError::BadKind);
        }
        if self.actor.is_empty()
            || self.actor.len() > MAX_ACTOR_LEN
            || self.actor.chars().any(char::is_control)
        {
            return Err(EntryError::BadActor);
        }
        let body = self.payload.to_string();
        if body.len() > max_payload_bytes {
            return Err(EntryError::PayloadTooLarge {
                size: body.len(),
                limit: max_payload_bytes,
            });
        }
        Ok(body)
    }
}

/// The signed header of one entry: everything the entry hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryHeader {
    pub seq: u64,
    pub recorded_micros: i64,
    pub kind: String,
    pub actor: String,
    pub subject: Option<SubjectHash>,
    pub payload_hash: Hash,
    pub prev_hash: Hash,
}

impl EntryHeader {
    /// The canonical encoding (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            ENTRY_DOMAIN.len() + 8 + 8 + 8 + self.kind.len() + self.actor.len() + 97,
        );
        out.extend_from_slice(ENTRY_DOMAIN);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.recorded_micros.to_be_bytes());
        out.extend_from_slice(&(self.kind.len() as u32).to_be_bytes());
        out.extend_from_slice(self.kind.as_bytes());
        out.extend_from_slice(&(self.actor.len() as u32).to_be_bytes());
        out.extend_from_slice(self.actor.as_bytes());
        match &self.subject {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                out.extend_from_slice(s);
            }
        }
        out.extend_from_slice(&self.payload_hash);
        out.extend_from_slice(&self.prev_hash);
        out
    }

    /// SHA-256 of the canonical encoding.
    pub fn entry_hash(&self) -> Hash {
        sha256(&self.encode())
    }

    /// The time the entry was recorded.
    pub fn recorded_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.recorded_micros).unwrap_or_default()
    }
}

/// The message the hub signs for an entry's receipt.
pub fn receipt_message(seq: u64, entry_hash: &Hash) -> [u8; 27 + 8 + 32] {
    let mut m = [0u8; 27 + 8 + 32];
    m[..27].copy_from_slice(RECEIPT_DOMAIN);
    m[27..35].copy_from_slice(&seq.to_be_bytes());
    m[35..].copy_from_slice(entry_hash);
    m
}

/// Proof of recording: sequence, entry hash and the hub's signature over both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub entry_hash: Hash,
    pub signature: [u8; 64],
}

impl Receipt {
    /// Signs a receipt.
    pub fn sign(signer: &NoteSigner, seq: u64, entry_hash: Hash) -> Receipt {
        Receipt {
            seq,
            entry_hash,
            signature: signer.sign(&receipt_message(seq, &entry_hash)),
        }
    }

    /// Whether the signature is the hub's.
    pub fn verify(&self, verifier: &NoteVerifier) -> bool {
        verifier.verify(
            &receipt_message(self.seq, &self.entry_hash),
            &self.signature,
        )
    }
}

/// A stored entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub header: EntryHeader,
    pub entry_hash: Hash,
    pub signature: Vec<u8>,
    /// The payload's JSON text; `None` once erased.
    pub payload: Option<String>,
}

impl Entry {
    /// The entry's receipt, if its stored signature has the right length.
    pub fn receipt(&self) -> Option<Receipt> {
        Some(Receipt {
            seq: self.header.seq,
            entry_hash: self.entry_hash,
            signature: self.signature.as_slice().try_into().ok()?,
        })
    }
}
