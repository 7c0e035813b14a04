//! `eraseSubject`: an operator erases a person's or a business's data,
//! through [`crate::tellonce::erasure`].

use async_graphql::{Context, Object, SimpleObject};

use super::tellonce::{graphql_error, require_operator, service};
use crate::tellonce::erasure::{erase_subject, ErasureReport};
use crate::tellonce::trail::subject_of;
use crate::tellonce::TellOnceError;

#[derive(Default)]
pub struct ErasureMutation;

/// What an erasure did.
#[derive(SimpleObject)]
pub struct ErasureReportObject {
    /// Life events about the subject whose identifier and facts were removed.
    pub events_cleared: i64,
    /// Notifications whose data was removed.
    pub notifications_cleared: i64,
    /// Of those, the ones not yet delivered, now cancelled.
    pub notifications_cancelled: i64,
    /// The ledger entries whose payloads were erased.
    pub erased_entries: Vec<i64>,
    /// The erasure entries recording it, one per payload.
    pub erasure_entries: Vec<i64>,
}

impl From<ErasureReport> for ErasureReportObject {
    fn from(r: ErasureReport) -> Self {
        let seqs = |v: Vec<u64>| v.into_iter().map(|s| s as i64).collect();
        ErasureReportObject {
            events_cleared: r.events_cleared as i64,
            notifications_cleared: r.notifications_cleared as i64,
            notifications_cancelled: r.notifications_cancelled as i64,
            erased_entries: seqs(r.erased_entries),
            erasure_entries: seqs(r.erasure_entries),
        }
    }
}

#[Object]
impl ErasureMutation {
    /// Erases a person's (National Insurance number) or a business's
    /// (company number) data: their identifiers and event data leave every
    /// table, notifications not yet delivered are cancelled, and every ledger
    /// payload about them is erased with an erasure entry naming `reason`.
    /// Hashes stay, so proofs and ledger verification still hold.
    async fn erase_subject(
        &self,
        ctx: &Context<'_>,
        subject: String,
        reason: String,
    ) -> async_graphql::Result<ErasureReportObject> {
        let actor = require_operator(ctx, "erasing a subject's data")?;
        let subject = subject_of(&subject).map_err(graphql_error)?;
        let ledger = service(ctx)?.ledger().clone();
        let report = tokio::task::spawn_blocking(move || {
            erase_subject(&ledger, &subject, &actor, &reason, |_, _| {})
        })
        .await
        .map_err(|e| graphql_error(TellOnceError::Storage(e.to_string())))?
        .map_err(graphql_error)?;
        Ok(report.into())
    }
}
