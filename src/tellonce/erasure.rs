//! Erasure of a person's or a business's data (the right to erasure), end
//! to end: their identifiers and event data leave every tell-us-once table,
//! a notification not yet delivered is cancelled and says why, and every
//! ledger payload recorded about them is erased with an erasure entry of its
//! own. What stays is hashes: the events' content hashes, the keyed subject
//! hashes and the ledger's chain, so every proof and `ledger verify` still
//! hold, and the trail still shows who was told what, when.
//!
//! The tables are cleared first, in one transaction, then the ledger
//! payloads one by one; erasing again finishes an erasure that was cut off.

use diesel::prelude::*;
use serde::Serialize;

use super::event::Subject;
use super::tables::{status, tellonce_events, tellonce_outbox};
use super::TellOnceError;
use crate::ledger::entry::ERASURE_KIND;
use crate::ledger::{EntryFilter, Ledger, LedgerError};
use crate::store::write_transaction;

/// What an erasure did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasureReport {
    /// Life events about the subject whose identifier and facts were removed.
    pub events_cleared: usize,
    /// Notifications whose data was removed (the subject's events', and any
    /// other that carried the identifier).
    pub notifications_cleared: usize,
    /// Of those, the ones not yet delivered, now cancelled.
    pub notifications_cancelled: usize,
    /// The ledger entries whose payloads were erased.
    pub erased_entries: Vec<u64>,
    /// The erasure entries recording it, one per payload.
    pub erasure_entries: Vec<u64>,
}

/// Why a cancelled notification was not delivered.
const CANCELLED_BECAUSE: &str = "cancelled: the subject's data was erased before delivery";

/// Erases everything held about `subject`; `actor` and `reason` go in each
/// erasure entry; `progress(done, total)` follows the ledger payloads
/// erased. Blocking: call it off the async runtime.
pub fn erase_subject(
    ledger: &Ledger,
    subject: &Subject,
    actor: &str,
    reason: &str,
    mut progress: impl FnMut(u64, u64),
) -> Result<ErasureReport, TellOnceError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1024 {
        return Err(TellOnceError::BadArgument(
            "give the erasure's reason (1 to 1024 characters), e.g. the request's reference".into(),
        ));
    }
    let mut report = ErasureReport::default();
    let mut conn = ledger.store().get()?;
    write_transaction(&mut conn, |conn| {
        let events: Vec<String> = tellonce_events::table
            .filter(tellonce_events::subject_scheme.eq(subject.scheme))
            .filter(tellonce_events::subject_value.eq(&subject.value))
            .select(tellonce_events::id)
            .load(conn)?;
        // The identifier can be in another event's data too (a second
        // partner, a second parent): canonical forms only, so a text match.
        let pattern = format!("%{}%", subject.value);
        let notifications: Vec<i64> = tellonce_outbox::table
            .filter(
                tellonce_outbox::event_id
                    .eq_any(&events)
                    .or(tellonce_outbox::variables.like(&pattern)),
            )
            .select(tellonce_outbox::id)
            .load(conn)?;
        report.notifications_cancelled = diesel::update(
            tellonce_outbox::table
                .filter(tellonce_outbox::id.eq_any(&notifications))
                .filter(tellonce_outbox::status.eq_any([
                    status::PENDING,
                    status::AWAITING_ACKNOWLEDGEMENT,
                    status::DEAD_LETTER,
                ])),
        )
        .set((
            tellonce_outbox::status.eq(status::CANCELLED),
            tellonce_outbox::last_error.eq(CANCELLED_BECAUSE),
            // A worker delivering it now finds its claim gone and records nothing.
            tellonce_outbox::claim_token.eq(None::<String>),
        ))
        .execute(conn)?;
        report.notifications_cleared = diesel::update(
            tellonce_outbox::table.filter(tellonce_outbox::id.eq_any(&notifications)),
        )
        .set(tellonce_outbox::variables.eq(super::outbox::CLEARED))
        .execute(conn)?;
        report.events_cleared =
            diesel::update(tellonce_events::table.filter(tellonce_events::id.eq_any(&events)))
                .set((
                    tellonce_events::subject_value.eq(""),
                    tellonce_events::fact_hashes.eq("{}"),
                ))
                .execute(conn)?;
        Ok::<_, TellOnceError>(())
    })?;
    drop(conn);
    let hash = ledger.subject_hash(&subject.ledger_identifier());
    let mut after = None;
    let mut payloads = Vec::new();
    loop {
        let page = ledger.entries(&EntryFilter {
            after,
            first: crate::ledger::read::MAX_PAGE,
            kind: None,
            subject: Some(hash),
        })?;
        after = page.entries.last().map(|e| e.header.seq);
        payloads.extend(
            page.entries
                .iter()
                .filter(|e| e.payload.is_some() && e.header.kind != ERASURE_KIND)
                .map(|e| e.header.seq),
        );
        if !page.has_next_page {
            break;
        }
    }
    let total = payloads.len() as u64;
    for (done, seq) in payloads.into_iter().enumerate() {
        progress(done as u64, total);
        match ledger.erase(seq, actor, reason) {
            Ok(receipt) => {
                report.erased_entries.push(seq);
                report.erasure_entries.push(receipt.seq);
            }
            // Erased meanwhile by another erasure: nothing left to do.
            Err(LedgerError::AlreadyErased(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    progress(total, total);
    Ok(report)
}
