//! `myDataTrail`: a citizen's own data trail (the National Insurance number
//! in their credential), read through [`crate::tellonce::trail`].

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::page::page_size;
use super::principal;
use super::tellonce::{graphql_error, service, time};
use crate::auth::PrincipalKind;
use crate::tellonce::event::Subject;
use crate::tellonce::trail::{self, TrailPage};
use crate::tellonce::TellOnceError;

#[derive(Default)]
pub struct TrailQuery;

/// Every life event about you, who was told what and when, with proofs.
#[derive(SimpleObject)]
pub struct DataTrailConnection {
    pub edges: Vec<DataTrailEdge>,
    pub page_info: DataTrailPageInfo,
    /// The signed checkpoint every `inclusionProof` of this page leads to
    /// (null before the ledger's first).
    pub checkpoint: Option<DataTrailCheckpoint>,
}

#[derive(SimpleObject)]
pub struct DataTrailEdge {
    /// The event's ledger sequence.
    pub cursor: String,
    pub node: DataTrailItem,
}

#[derive(SimpleObject)]
pub struct DataTrailPageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct DataTrailCheckpoint {
    pub tree_size: i64,
    /// Base64.
    pub root_hash: String,
    /// The C2SP signed note with its witness cosignatures.
    pub note: String,
}

/// One life event about you.
#[derive(SimpleObject)]
pub struct DataTrailItem {
    pub event_id: String,
    /// The `LifeEventInput` field the event was told as (`death`, …).
    #[graphql(name = "type")]
    pub event_type: String,
    pub ledger_seq: i64,
    pub recorded_at: DateTime<Utc>,
    /// Base64.
    pub entry_hash: String,
    /// Each department told, which fields it was given and by which rule.
    pub told: Vec<DataTrailNotice>,
    /// Proof that the event's ledger entry is in the tree the checkpoint
    /// signs (null until a checkpoint covers it).
    pub inclusion_proof: Option<DataTrailProof>,
}

#[derive(SimpleObject)]
pub struct DataTrailNotice {
    pub department: String,
    pub rule: String,
    /// The names of the fields the department was given.
    pub fields: Vec<String>,
    pub status: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// An RFC 6962 inclusion proof (hashes in base64).
#[derive(SimpleObject)]
pub struct DataTrailProof {
    pub leaf_index: i64,
    pub tree_size: i64,
    pub leaf_hash: String,
    pub root_hash: String,
    /// The audit path, from the leaf up.
    pub hashes: Vec<String>,
}

impl From<TrailPage> for DataTrailConnection {
    fn from(page: TrailPage) -> Self {
        let edges: Vec<DataTrailEdge> = page
            .items
            .into_iter()
            .map(|item| DataTrailEdge {
                cursor: item.ledger_seq.to_string(),
                node: DataTrailItem {
                    event_id: item.event_id,
                    event_type: item.event_type,
                    ledger_seq: item.ledger_seq as i64,
                    recorded_at: time(item.recorded_micros),
                    entry_hash: item.entry_hash,
                    told: item
                        .told
                        .into_iter()
                        .map(|n| DataTrailNotice {
                            department: n.department,
                            rule: n.rule,
                            fields: n.fields,
                            status: n.status,
                            delivered_at: n.delivered_micros.map(time),
                            acknowledged_at: n.acknowledged_micros.map(time),
                        })
                        .collect(),
                    inclusion_proof: item.inclusion_proof.map(|p| DataTrailProof {
                        leaf_index: p.leaf_index as i64,
                        tree_size: p.tree_size as i64,
                        leaf_hash: p.leaf_hash,
                        root_hash: p.root_hash,
                        hashes: p.hashes,
                    }),
                },
            })
            .collect();
        DataTrailConnection {
            page_info: DataTrailPageInfo {
                has_next_page: page.has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            checkpoint: page.checkpoint.map(|c| DataTrailCheckpoint {
                tree_size: c.tree_size as i64,
                root_hash: c.root_hash,
                note: c.note,
            }),
        }
    }
}

#[Object]
impl TrailQuery {
    /// Every life event about you (the National Insurance number in your
    /// credential), oldest first: which department was told which fields,
    /// by which rule, when, its progress, and a proof that it is in the
    /// signed ledger.
    async fn my_data_trail(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<DataTrailConnection> {
        let principal = principal(ctx);
        let nino = match (&principal.kind, &principal.nino) {
            (PrincipalKind::Citizen, Some(nino)) => nino.clone(),
            _ => {
                return Err(graphql_error(TellOnceError::Forbidden(
                    "myDataTrail is a citizen's own: sign in with a citizen credential that carries your National Insurance number".into(),
                )))
            }
        };
        let first = page_size(first.map(i64::from))?;
        let after = match after {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                graphql_error(TellOnceError::BadArgument(
                    "after must be a cursor from myDataTrail".into(),
                ))
            })?),
        };
        let ledger = service(ctx)?.ledger().clone();
        let subject = Subject {
            scheme: "nino",
            value: nino,
        };
        let page =
            tokio::task::spawn_blocking(move || trail::trail(&ledger, &subject, after, first))
                .await
                .map_err(|e| graphql_error(TellOnceError::Storage(e.to_string())))?
                .map_err(graphql_error)?;
        Ok(page.into())
    }
}
