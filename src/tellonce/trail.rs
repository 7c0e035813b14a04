//! A person's (or a business's) data trail: every life event about the
//! subject, which department was told which fields by which rule, when and
//! with what outcome, each with an inclusion proof to the latest published
//! checkpoint that any RFC 6962 verifier can check.
//!
//! The trail is read from the ledger by the subject's keyed hash, so it
//! holds even where the events' own rows no longer carry the identifier;
//! the notifications' progress comes from the outbox.

use diesel::prelude::*;
use serde::Serialize;

use super::event::Subject;
use super::submit::EVENT_RECORDED;
use super::tables::{tellonce_events, tellonce_outbox, EventRow, OutboxRow};
use super::TellOnceError;
use crate::ledger::encoding::encode;
use crate::ledger::{EntryFilter, Ledger};

/// One page of a trail, and the checkpoint its proofs lead to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailPage {
    pub items: Vec<TrailItem>,
    pub has_next_page: bool,
    /// The latest published checkpoint (`None` before the first).
    pub checkpoint: Option<TrailCheckpoint>,
}

/// The signed checkpoint the proofs of a page are to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailCheckpoint {
    pub tree_size: u64,
    /// Base64.
    pub root_hash: String,
    /// The signed note with its witness cosignatures, as `/ledger/checkpoint` serves it.
    pub note: String,
}

/// One life event about the subject.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailItem {
    /// The ledger entry that recorded the event; the page cursor.
    pub ledger_seq: u64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub recorded_micros: i64,
    /// Base64.
    pub entry_hash: String,
    pub told: Vec<TrailNotice>,
    /// `None` until a published checkpoint covers the entry.
    pub inclusion_proof: Option<TrailProof>,
}

/// One department told of the event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailNotice {
    pub department: String,
    pub rule: String,
    /// The names of the fields the department was given (never the values).
    pub fields: Vec<String>,
    /// `PENDING`, `DELIVERED`, `ACKNOWLEDGED`, … (`None` if the outbox no longer has it).
    pub status: Option<String>,
    pub delivered_micros: Option<i64>,
    pub acknowledged_micros: Option<i64>,
}

/// An RFC 6962 inclusion proof, hashes in base64.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub root_hash: String,
    /// The audit path, from the leaf up.
    pub hashes: Vec<String>,
}

/// What a ledger entry of an event says it told.
#[derive(serde::Deserialize)]
struct Recorded {
    #[serde(rename = "eventId")]
    event_id: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    told: Vec<RecordedNotice>,
}

#[derive(serde::Deserialize)]
struct RecordedNotice {
    department: String,
    rule: String,
    #[serde(default)]
    fields: Vec<String>,
}

/// The trail of `subject` after ledger sequence `after`, at most `first`
/// events. Blocking: call it off the async runtime.
pub fn trail(
    ledger: &Ledger,
    subject: &Subject,
    after: Option<u64>,
    first: usize,
) -> Result<TrailPage, TellOnceError> {
    let page = ledger.entries(&EntryFilter {
        after,
        first,
        kind: Some(EVENT_RECORDED.to_string()),
        subject: Some(ledger.subject_hash(&subject.ledger_identifier())),
    })?;
    let checkpoint = ledger.published_checkpoint()?;
    let recorded: Vec<(crate::ledger::Entry, Option<Recorded>)> = page
        .entries
        .into_iter()
        .map(|entry| {
            let parsed = entry
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str::<Recorded>(p).ok());
            (entry, parsed)
        })
        .collect();
    // An erased entry has no payload: its event is found by ledger sequence.
    let seqs: Vec<i64> = recorded.iter().map(|(e, _)| e.header.seq as i64).collect();
    let mut conn = ledger.store().get()?;
    let events: Vec<EventRow> = tellonce_events::table
        .filter(tellonce_events::ledger_seq.eq_any(&seqs))
        .load(&mut *conn)?;
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let notifications: Vec<OutboxRow> = tellonce_outbox::table
        .filter(tellonce_outbox::event_id.eq_any(&ids))
        .order(tellonce_outbox::id)
        .load(&mut *conn)?;
    drop(conn);
    let mut items = Vec::with_capacity(recorded.len());
    for (entry, parsed) in recorded {
        let seq = entry.header.seq;
        let event = events.iter().find(|e| e.ledger_seq == seq as i64);
        let event_id = parsed
            .as_ref()
            .map(|r| r.event_id.clone())
            .or_else(|| event.map(|e| e.id.clone()))
            .unwrap_or_default();
        let rows: Vec<&OutboxRow> = notifications
            .iter()
            .filter(|n| n.event_id == event_id)
            .collect();
        let notice = |department: &str, rule: &str, fields: Vec<String>| {
            let row = rows.iter().find(|n| n.department == department);
            TrailNotice {
                department: department.to_string(),
                rule: rule.to_string(),
                fields,
                status: row.map(|n| n.status.clone()),
                delivered_micros: row.and_then(|n| n.delivered_micros),
                acknowledged_micros: row.and_then(|n| n.acknowledged_micros),
            }
        };
        let told = match &parsed {
            Some(r) => r
                .told
                .iter()
                .map(|t| notice(&t.department, &t.rule, t.fields.clone()))
                .collect(),
            // The field names went with the erased payload.
            None => rows
                .iter()
                .map(|n| notice(&n.department, &n.rule_name, Vec::new()))
                .collect(),
        };
        let inclusion_proof = match &checkpoint {
            Some(c) if seq < c.tree_size => {
                let proof = ledger.inclusion_proof(seq, Some(c.tree_size))?;
                Some(TrailProof {
                    leaf_index: proof.seq,
                    tree_size: proof.tree_size,
                    leaf_hash: encode(&proof.leaf_hash),
                    root_hash: encode(&proof.root_hash),
                    hashes: proof.hashes.iter().map(|h| encode(h)).collect(),
                })
            }
            _ => None,
        };
        items.push(TrailItem {
            ledger_seq: seq,
            event_id,
            event_type: parsed
                .as_ref()
                .map(|r| r.event_type.clone())
                .or_else(|| event.map(|e| e.event_type.clone()))
                .unwrap_or_default(),
            recorded_micros: entry.header.recorded_micros,
            entry_hash: encode(&entry.entry_hash),
            told,
            inclusion_proof,
        });
    }
    Ok(TrailPage {
        items,
        has_next_page: page.has_next_page,
        checkpoint: checkpoint.map(|c| TrailCheckpoint {
            tree_size: c.tree_size,
            root_hash: encode(&c.root_hash),
            note: c.note_with_cosignatures(),
        }),
    })
}

/// The subject a trail is asked for on the command line: a National
/// Insurance number or a company number, checked and canonicalised.
pub fn subject_of(text: &str) -> Result<Subject, TellOnceError> {
    if let Ok(nino) = tellonce_identifiers::parse_nino(text) {
        return Ok(Subject {
            scheme: "nino",
            value: nino,
        });
    }
    if let Ok(company) = tellonce_identifiers::parse_company_number(text) {
        return Ok(Subject {
            scheme: "company",
            value: company,
        });
    }
    Err(TellOnceError::BadArgument(format!(
        "{text:?} is neither a National Insurance number (AB123456C) nor a company number (8 characters, e.g. 01234567)"
    )))
}
