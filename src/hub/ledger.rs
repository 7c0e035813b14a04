//! The ledger's read API in the hub subgraph: `ledgerEntry`,
//! `ledgerEntries` (a cursor connection; the cursor is the ledger sequence
//! as a decimal string), `latestCheckpoint`, `inclusionProof`,
//! `consistencyProof`.
//!
//! Sequence numbers and tree sizes are GraphQL `Int` (the ledger stays far
//! below 2^53, so JSON clients read them exactly). Hashes are lowercase hex;
//! signatures are base64; the checkpoint `note` is the C2SP signed note text
//! with witness cosignature lines. Resolvers read `Arc<Ledger>` from the
//! context data and run the blocking store calls off the async runtime.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, Object, SimpleObject};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::error_code::ErrorCode;
use crate::ledger::{self, encoding, EntryFilter, Ledger, LedgerError};

fn coded(message: impl Into<String>, code: ErrorCode) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code.as_str()))
}

fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    coded(message, ErrorCode::BadUserInput)
}

fn ledger_error(e: LedgerError) -> async_graphql::Error {
    match e {
        LedgerError::BeyondTreeSize { .. } | LedgerError::Proof(_) => bad_input(e.to_string()),
        LedgerError::NotFound(_) | LedgerError::NoCheckpoint => {
            coded(e.to_string(), ErrorCode::NotFound)
        }
        LedgerError::Busy { .. } => coded(e.to_string(), ErrorCode::RateLimited),
        other => {
            tracing::error!(error = %other, "ledger read failed");
            coded("the ledger is unavailable", ErrorCode::InternalServerError)
        }
    }
}

fn non_negative(name: &str, value: i64) -> async_graphql::Result<u64> {
    u64::try_from(value).map_err(|_| bad_input(format!("{name} must not be negative")))
}

async fn with_ledger<T, F>(ctx: &Context<'_>, f: F) -> async_graphql::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Ledger) -> Result<T, LedgerError> + Send + 'static,
{
    let ledger = ctx.data::<Arc<Ledger>>()?.clone();
    tokio::task::spawn_blocking(move || f(&ledger))
        .await
        .map_err(|_| coded("the ledger is unavailable", ErrorCode::InternalServerError))?
        .map_err(ledger_error)
}

fn encoded(hashes: &[ledger::Hash]) -> Vec<String> {
    hashes.iter().map(|h| encoding::encode(h)).collect()
}

/// A signed receipt: sequence, entry hash, the hub's Ed25519 signature over both.
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerReceipt {
    pub seq: i64,
    pub entry_hash: String,
    pub signature: String,
}

impl From<&ledger::Receipt> for LedgerReceipt {
    fn from(r: &ledger::Receipt) -> Self {
        LedgerReceipt {
            seq: r.seq as i64,
            entry_hash: encoding::encode(&r.entry_hash),
            signature: BASE64.encode(r.signature),
        }
    }
}

/// One ledger entry.
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerEntry {
    pub seq: i64,
    pub recorded_at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    /// The keyed hash of the person or business concerned (base64), if any.
    pub subject: Option<String>,
    pub payload_hash: String,
    pub prev_hash: String,
    pub entry_hash: String,
    pub signature: String,
    /// The payload; null once erased.
    pub payload: Option<async_graphql::Json<serde_json::Value>>,
    pub erased: bool,
    pub receipt: LedgerReceipt,
}

impl From<ledger::Entry> for LedgerEntry {
    fn from(e: ledger::Entry) -> Self {
        let payload = e
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .map(async_graphql::Json);
        LedgerEntry {
            seq: e.header.seq as i64,
            recorded_at: e.header.recorded_at(),
            kind: e.header.kind.clone(),
            actor: e.header.actor.clone(),
            subject: e.header.subject.map(|s| encoding::encode(&s)),
            payload_hash: encoding::encode(&e.header.payload_hash),
            prev_hash: encoding::encode(&e.header.prev_hash),
            entry_hash: encoding::encode(&e.entry_hash),
            signature: BASE64.encode(&e.signature),
            erased: e.payload.is_none(),
            payload,
            receipt: LedgerReceipt {
                seq: e.header.seq as i64,
                entry_hash: encoding::encode(&e.entry_hash),
                signature: BASE64.encode(&e.signature),
            },
        }
    }
}

/// An edge of the entries connection.
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerEntryEdge {
    pub cursor: String,
    pub node: LedgerEntry,
}

/// Paging state of the entries connection.
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerPageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A page of ledger entries.
#[derive(SimpleObject, Debug, Clone)]
pub struct LedgerEntryConnection {
    pub edges: Vec<LedgerEntryEdge>,
    pub page_info: LedgerPageInfo,
}

/// A signed tree head (C2SP tlog-checkpoint).
#[derive(SimpleObject, Debug, Clone)]
pub struct Checkpoint {
    pub tree_size: i64,
    pub root_hash: String,
    pub issued_at: DateTime<Utc>,
    /// The signed note with witness cosignature lines, as served at /ledger/checkpoint.
    pub note: String,
    pub cosignatures: Vec<String>,
}

/// A stored checkpoint as the graph shows it.
pub(crate) fn checkpoint_of(c: crate::ledger::StoredCheckpoint) -> Checkpoint {
    Checkpoint {
        tree_size: c.tree_size as i64,
        root_hash: encoding::encode(&c.root_hash),
        issued_at: c.issued_at,
        note: c.note_with_cosignatures(),
        cosignatures: c.cosignatures,
    }
}

/// Proof that an entry is in the tree of `treeSize` entries.
#[derive(SimpleObject, Debug, Clone)]
pub struct InclusionProof {
    pub seq: i64,
    pub tree_size: i64,
    pub entry_hash: String,
    pub leaf_hash: String,
    pub root_hash: String,
    /// Sibling hashes from the leaf up (RFC 6962 audit path).
    pub hashes: Vec<String>,
}

/// Proof that the tree of `from` entries is a prefix of the tree of `to`.
#[derive(SimpleObject, Debug, Clone)]
pub struct ConsistencyProof {
    pub from: i64,
    pub to: i64,
    pub from_root: String,
    pub to_root: String,
    pub hashes: Vec<String>,
}

/// The ledger's query fields.
#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// One entry, or null when there is none with this sequence.
    async fn ledger_entry(
        &self,
        ctx: &Context<'_>,
        seq: i64,
    ) -> async_graphql::Result<Option<LedgerEntry>> {
        let seq = non_negative("seq", seq)?;
        with_ledger(ctx, move |l| l.entry(seq))
            .await
            .map(|e| e.map(LedgerEntry::from))
    }

    /// Entries in sequence order after the cursor, optionally by kind or subject hash (base64, as entries show it).
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i64>,
        kind: Option<String>,
        subject: Option<String>,
    ) -> async_graphql::Result<LedgerEntryConnection> {
        let after = match after {
            None => None,
            Some(c) => Some(
                c.parse::<u64>()
                    .map_err(|_| bad_input("after is not a ledger cursor"))?,
            ),
        };
        let first = super::page::page_size(first)?;
        let subject =
            match subject {
                None => None,
                Some(s) => Some(encoding::decode_hash(&s).ok_or_else(|| {
                    bad_input("subject must be a subject hash: 32 bytes in base64")
                })?),
            };
        let filter = EntryFilter {
            after,
            first,
            kind,
            subject,
        };
        let page = with_ledger(ctx, move |l| l.entries(&filter)).await?;
        let edges: Vec<LedgerEntryEdge> = page
            .entries
            .into_iter()
            .map(|e| LedgerEntryEdge {
                cursor: e.header.seq.to_string(),
                node: e.into(),
            })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(LedgerEntryConnection {
            edges,
            page_info: LedgerPageInfo {
                has_next_page: page.has_next_page,
                end_cursor,
            },
        })
    }

    /// The most recent checkpoint the hub publishes (the one
    /// `/ledger/checkpoint` serves: cosigned by the witness quorum when one is
    /// configured), or null before there is one.
    async fn latest_checkpoint(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Checkpoint>> {
        let cp = with_ledger(ctx, |l| l.published_checkpoint()).await?;
        Ok(cp.map(checkpoint_of))
    }

    /// The inclusion proof of entry `seq` in the tree of `treeSize` entries
    /// (default: the latest published checkpoint's size, so the proof checks
    /// against a signed root). Hashes are base64.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        seq: i64,
        tree_size: Option<i64>,
    ) -> async_graphql::Result<InclusionProof> {
        let seq = non_negative("seq", seq)?;
        let tree_size = tree_size.map(|t| non_negative("treeSize", t)).transpose()?;
        let p = with_ledger(ctx, move |l| l.inclusion_proof(seq, tree_size)).await?;
        Ok(InclusionProof {
            seq: p.seq as i64,
            tree_size: p.tree_size as i64,
            entry_hash: encoding::encode(&p.entry_hash),
            leaf_hash: encoding::encode(&p.leaf_hash),
            root_hash: encoding::encode(&p.root_hash),
            hashes: encoded(&p.hashes),
        })
    }

    /// The consistency proof from tree size `from` to `to` (default: the
    /// latest published checkpoint's size). Hashes are base64.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from: i64,
        to: Option<i64>,
    ) -> async_graphql::Result<ConsistencyProof> {
        let from = non_negative("from", from)?;
        let to = to.map(|t| non_negative("to", t)).transpose()?;
        let p = with_ledger(ctx, move |l| l.consistency_proof(from, to)).await?;
        Ok(ConsistencyProof {
            from: p.from as i64,
            to: p.to as i64,
            from_root: encoding::encode(&p.from_root),
            to_root: encoding::encode(&p.to_root),
            hashes: encoded(&p.hashes),
        })
    }
}
