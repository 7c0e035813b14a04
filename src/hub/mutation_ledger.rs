//! Clients' mutations forwarded to department subgraphs, in the ledger: one
//! `gateway.mutation.forwarded` entry before the call (who, which subgraph,
//! the operation's hash, each value set as a keyed hash) and one
//! `gateway.mutation.outcome` entry after it. A call whose first entry
//! cannot be written is not sent, so no change through the hub goes
//! unrecorded. Personal values never reach the ledger: each is recorded as
//! the hub's keyed hash of its JSON text, and a value that is a National
//! Insurance number also becomes the entry's subject, so the person's trail
//! finds it.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::error_code::ErrorCode;
use crate::gateway::{
    AuditTicket, ForwardedMutation, GraphQLError, MutationAudit, MutationOutcome, RequestContext,
};
use crate::ledger::{encoding, Ledger, LedgerError, NewEntry};

/// The entry written before a forwarded mutation is sent.
pub const FORWARDED_KIND: &str = "gateway.mutation.forwarded";
/// The entry written once it has ended.
pub const OUTCOME_KIND: &str = "gateway.mutation.outcome";
/// Most error codes listed in an outcome entry.
const MAX_RECORDED_CODES: usize = 32;

/// Records forwarded mutations in the hub's ledger.
pub struct MutationLedger {
    ledger: Arc<Ledger>,
    /// Subgraphs whose changes are ledgered by their own resolvers.
    exempt: Vec<String>,
}

impl MutationLedger {
    pub fn new(ledger: Arc<Ledger>, exempt: impl IntoIterator<Item = String>) -> MutationLedger {
        MutationLedger {
            ledger,
            exempt: exempt.into_iter().collect(),
        }
    }

    fn forwarded_entry(&self, mutation: &ForwardedMutation<'_>) -> NewEntry {
        let set = mutation.fields_set();
        let mut subject = None;
        let fields: Vec<Json> = set
            .fields
            .iter()
            .map(|field| {
                let mut values = Map::new();
                for (path, value) in &field.values {
                    if let Some(nino) = value
                        .as_str()
                        .and_then(|s| tellonce_identifiers::parse_nino(s).ok())
                    {
                        subject.get_or_insert_with(|| {
                            self.ledger.subject_hash(&format!("nino:{nino}"))
                        });
                    }
                    let keyed = self.ledger.subject_hash(&format!("value:{value}"));
                    values.insert(path.clone(), Json::String(encoding::encode(&keyed)));
                }
                json!({ "field": field.field, "values": values })
            })
            .collect();
        let mut payload = json!({
            "subgraph": mutation.subgraph,
            "operation_sha256": encoding::encode(&Sha256::digest(mutation.operation.as_bytes())),
            "request_id": &*mutation.context.request_id,
            "fields": fields,
        });
        if set.omitted_values > 0 {
            payload["omitted_values"] = json!(set.omitted_values);
        }
        NewEntry {
            kind: FORWARDED_KIND.into(),
            actor: mutation.context.principal.id.clone(),
            subject,
            payload,
        }
    }
}

impl MutationAudit for MutationLedger {
    fn before<'a>(
        &'a self,
        mutation: ForwardedMutation<'a>,
    ) -> BoxFuture<'a, Result<Option<AuditTicket>, GraphQLError>> {
        Box::pin(async move {
            if self.exempt.iter().any(|s| s == mutation.subgraph) {
                return Ok(None);
            }
            let entry = self.forwarded_entry(&mutation);
            let ledger = self.ledger.clone();
            let written = tokio::task::spawn_blocking(move || ledger.append(entry)).await;
            match written {
                Ok(Ok(receipt)) => Ok(Some(AuditTicket(receipt.seq))),
                Ok(Err(error @ LedgerError::Busy { .. })) => Err(GraphQLError::new(
                    format!("the change was not sent to {}: {error}", mutation.subgraph),
                    ErrorCode::RateLimited,
                )),
                Ok(Err(error)) => {
                    tracing::error!(%error, subgraph = mutation.subgraph, "cannot ledger a forwarded mutation");
                    Err(unrecorded(mutation.subgraph))
                }
                Err(error) => {
                    tracing::error!(%error, "the ledger task ended abnormally");
                    Err(unrecorded(mutation.subgraph))
                }
            }
        })
    }

    fn after<'a>(
        &'a self,
        ticket: AuditTicket,
        context: &'a RequestContext,
        outcome: MutationOutcome,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (name, codes) = match outcome {
                MutationOutcome::Applied => ("applied", Vec::new()),
                MutationOutcome::Refused(mut codes) => {
                    codes.truncate(MAX_RECORDED_CODES);
                    ("refused", codes)
                }
                MutationOutcome::Failed(code) => ("failed", vec![code]),
            };
            let entry = NewEntry {
                kind: OUTCOME_KIND.into(),
                actor: context.principal.id.clone(),
                subject: None,
                payload: json!({ "forwarded": ticket.0, "outcome": name, "codes": codes }),
            };
            let ledger = self.ledger.clone();
            // The change is made and its intent recorded; an outcome that
            // cannot be written leaves the intent entry, marked by its seq,
            // without one (logged, never hidden from the client's answer).
            match tokio::task::spawn_blocking(move || ledger.append(entry)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::error!(%error, forwarded = ticket.0, "cannot ledger a mutation's outcome")
                }
                Err(error) => tracing::error!(%error, "the ledger task ended abnormally"),
            }
        })
    }
}

fn unrecorded(subgraph: &str) -> GraphQLError {
    GraphQLError::new(
        format!(
            "the change was not sent to {subgraph}: the ledger cannot record it now; retry shortly"
        ),
        ErrorCode::InternalServerError,
    )
}
