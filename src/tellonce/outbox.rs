//! The outbox in the database: claiming due notifications (FOR UPDATE SKIP
//! LOCKED on PostgreSQL, so several hubs share one outbox; the write lock on
//! SQLite), recording each delivery outcome together with its ledger entry,
//! operator replay of dead letters, and acknowledgements from departments
//! that pull.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

use super::tables::{status, tellonce_outbox, OutboxRow};
use super::TellOnceError;
use crate::ledger::{Ledger, NewEntry, SubjectHash};
use crate::store::{write_transaction, AnyConnection};

/// Ledger kinds of delivery outcomes.
pub mod kinds {
    pub const DELIVERED: &str = "tellonce.notification.delivered";
    pub const FAILED: &str = "tellonce.notification.failed";
    pub const DEAD_LETTERED: &str = "tellonce.notification.dead_lettered";
    pub const REPLAYED: &str = "tellonce.notification.replayed";
    pub const ACKNOWLEDGED: &str = "tellonce.notification.acknowledged";
}

/// Claims up to `limit` due push notifications for `lease_micros` under `token`.
pub fn claim_due(
    conn: &mut AnyConnection,
    limit: i64,
    lease_micros: i64,
    token: &str,
) -> Result<Vec<OutboxRow>, TellOnceError> {
    let now = Utc::now().timestamp_micros();
    write_transaction(conn, |conn| {
        let due = tellonce_outbox::table
            .filter(tellonce_outbox::status.eq(status::PENDING))
            .filter(tellonce_outbox::next_attempt_micros.le(now))
            .order((tellonce_outbox::next_attempt_micros, tellonce_outbox::id))
            .limit(limit);
        let rows: Vec<OutboxRow> = match conn {
            AnyConnection::Postgres(c) => due.for_update().skip_locked().load(c)?,
            AnyConnection::Sqlite(c) => due.load(c)?,
        };
        if rows.is_empty() {
            return Ok(rows);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        diesel::update(tellonce_outbox::table.filter(tellonce_outbox::id.eq_any(&ids)))
            .set((
                tellonce_outbox::claim_token.eq(token),
                tellonce_outbox::next_attempt_micros.eq(now + lease_micros),
            ))
            .execute(conn)?;
        Ok(rows)
    })
}

/// Releases every claim (a single SQLite instance at start: nobody else
/// can hold one).
pub fn release_all_claims(conn: &mut AnyConnection) -> Result<usize, TellOnceError> {
    let now = Utc::now().timestamp_micros();
    let released = diesel::update(
        tellonce_outbox::table
            .filter(tellonce_outbox::status.eq(status::PENDING))
            .filter(tellonce_outbox::claim_token.is_not_null()),
    )
    .set((
        tellonce_outbox::claim_token.eq(None::<String>),
        tellonce_outbox::next_attempt_micros.eq(now),
    ))
    .execute(conn)?;
    Ok(released)
}

/// What one delivery attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered,
    /// A failure to retry at `retry_at_micros`.
    Failed {
        code: String,
        message: String,
        retry_at_micros: i64,
    },
    /// A failure that ends the attempts.
    DeadLettered {
        code: String,
        message: String,
    },
}

/// One claimed notification and its outcome.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub row: OutboxRow,
    pub token: String,
    pub outcome: Outcome,
}

fn subject_of(row: &OutboxRow) -> Option<SubjectHash> {
    row.subject.as_slice().try_into().ok()
}

fn outcome_entry(row: &OutboxRow, kind: &str, actor: &str, details: serde_json::Value) -> NewEntry {
    let mut payload = json!({
        "eventId": row.event_id,
        "department": row.department,
        "rule": row.rule_name,
    });
    if let (Some(target), Some(extra)) = (payload.as_object_mut(), details.as_object()) {
        target.extend(extra.clone());
    }
    NewEntry {
        kind: kind.into(),
        actor: actor.into(),
        subject: subject_of(row),
        payload,
    }
}

/// A notification's data once its department has it and its retention ran out.
pub const CLEARED: &str = "{}";

/// Clears the data of notifications their departments have had since
/// before `cutoff_micros` (delivered, or acknowledged); returns how many.
pub fn clear_delivered(
    conn: &mut AnyConnection,
    cutoff_micros: i64,
) -> Result<usize, TellOnceError> {
    let had = tellonce_outbox::delivered_micros
        .le(cutoff_micros)
        .or(tellonce_outbox::acknowledged_micros.le(cutoff_micros));
    Ok(diesel::update(
        tellonce_outbox::table
            .filter(tellonce_outbox::status.eq_any([status::DELIVERED, status::ACKNOWLEDGED]))
            .filter(had)
            .filter(tellonce_outbox::variables.ne(CLEARED)),
    )
    .set(tellonce_outbox::variables.eq(CLEARED))
    .execute(conn)?)
}

/// Records outcomes (with their ledger entries) in one transaction. An
/// outcome whose claim was lost (the lease ran out and another worker took
/// the row) records nothing.
pub fn record_outcomes(
    conn: &mut AnyConnection,
    ledger: &Ledger,
    results: &[AttemptResult],
    keep_data: bool,
) -> Result<usize, TellOnceError> {
    let now = Utc::now().timestamp_micros();
    write_transaction(conn, |conn| {
        let mut entries = Vec::new();
        for result in results {
            let row = &result.row;
            let attempts = row.attempts + 1;
            let mine = tellonce_outbox::table
                .filter(tellonce_outbox::id.eq(row.id))
                .filter(tellonce_outbox::status.eq(status::PENDING))
                .filter(tellonce_outbox::claim_token.eq(&result.token));
            let updated = match &result.outcome {
                Outcome::Delivered => diesel::update(mine)
                    .set((
                        tellonce_outbox::status.eq(status::DELIVERED),
                        tellonce_outbox::attempts.eq(attempts),
                        tellonce_outbox::claim_token.eq(None::<String>),
                        tellonce_outbox::last_error.eq(None::<String>),
                        tellonce_outbox::delivered_micros.eq(Some(now)),
                        tellonce_outbox::variables.eq(if keep_data {
                            row.variables.as_str()
                        } else {
                            CLEARED
                        }),
                    ))
                    .execute(conn)?,
                Outcome::Failed {
                    message,
                    retry_at_micros,
                    ..
                } => diesel::update(mine)
                    .set((
                        tellonce_outbox::attempts.eq(attempts),
                        tellonce_outbox::claim_token.eq(None::<String>),
                        tellonce_outbox::last_error.eq(Some(message)),
                        tellonce_outbox::next_attempt_micros.eq(retry_at_micros),
                    ))
                    .execute(conn)?,
                Outcome::DeadLettered { message, .. } => diesel::update(mine)
                    .set((
                        tellonce_outbox::status.eq(status::DEAD_LETTER),
                        tellonce_outbox::attempts.eq(attempts),
                        tellonce_outbox::claim_token.eq(None::<String>),
                        tellonce_outbox::last_error.eq(Some(message)),
                    ))
                    .execute(conn)?,
            };
            if updated == 0 {
                continue;
            }
            entries.push(match &result.outcome {
                Outcome::Delivered => {
                    outcome_entry(row, kinds::DELIVERED, "hub", json!({ "attempt": attempts }))
                }
                Outcome::Failed {
                    code,
                    retry_at_micros,
                    ..
                } => outcome_entry(
                    row,
                    kinds::FAILED,
                    "hub",
                    json!({ "attempt": attempts, "error": code, "retryAtMicros": retry_at_micros }),
                ),
                Outcome::DeadLettered { code, .. } => outcome_entry(
                    row,
                    kinds::DEAD_LETTERED,
                    "hub",
                    json!({ "attempts": attempts, "error": code }),
                ),
            });
        }
        let recorded = entries.len();
        if !entries.is_empty() {
            ledger.append_in(conn, entries)?;
        }
        Ok(recorded)
    })
}

/// Which dead letters to replay.
#[derive(Debug, Clone)]
pub enum ReplayFilter {
    /// One notification.
    One {
        event_id: String,
        department: String,
    },
    /// Every dead letter, or every one for a department.
    DeadLetters { department: Option<String> },
}

/// Puts dead letters back in the queue with fresh attempts, recording a
/// `replayed` ledger entry for each. Returns the rows replayed.
pub fn replay(
    conn: &mut AnyConnection,
    ledger: &Ledger,
    filter: &ReplayFilter,
    actor: &str,
) -> Result<Vec<OutboxRow>, TellOnceError> {
    let now = Utc::now().timestamp_micros();
    write_transaction(conn, |conn| {
        let mut query = tellonce_outbox::table
            .filter(tellonce_outbox::status.eq(status::DEAD_LETTER))
            .into_boxed();
        match filter {
            ReplayFilter::One {
                event_id,
                department,
            } => {
                query = query
                    .filter(tellonce_outbox::event_id.eq(event_id.clone()))
                    .filter(tellonce_outbox::department.eq(department.clone()));
            }
            ReplayFilter::DeadLetters {
                department: Some(department),
            } => {
                query = query.filter(tellonce_outbox::department.eq(department.clone()));
            }
            ReplayFilter::DeadLetters { department: None } => {}
        }
        let rows: Vec<OutboxRow> = query.order(tellonce_outbox::id).load(conn)?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut replayed = Vec::with_capacity(rows.len());
        for mut row in rows {
            diesel::update(tellonce_outbox::table.find(row.id))
                .set((
                    tellonce_outbox::status.eq(status::PENDING),
                    tellonce_outbox::attempts.eq(0i64),
                    tellonce_outbox::next_attempt_micros.eq(now),
                    tellonce_outbox::claim_token.eq(None::<String>),
                ))
                .execute(conn)?;
            entries.push(outcome_entry(
                &row,
                kinds::REPLAYED,
                actor,
                json!({ "previousAttempts": row.attempts }),
            ));
            row.status = status::PENDING.into();
            row.attempts = 0;
            row.next_attempt_micros = now;
            replayed.push(row);
        }
        if !entries.is_empty() {
            ledger.append_in(conn, entries)?;
        }
        Ok(replayed)
    })
}

/// Records that `department` has taken in event `event_id`.
pub fn acknowledge(
    conn: &mut AnyConnection,
    ledger: &Ledger,
    event_id: &str,
    department: &str,
    keep_data: bool,
) -> Result<OutboxRow, TellOnceError> {
    let now = Utc::now().timestamp_micros();
    write_transaction(conn, |conn| {
        let mut row: OutboxRow = tellonce_outbox::table
            .filter(tellonce_outbox::event_id.eq(event_id))
            .filter(tellonce_outbox::department.eq(department))
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                TellOnceError::NotFound(format!(
                    "life event {event_id} routed to department {department}"
                ))
            })?;
        if row.acknowledged_micros.is_some() {
            return Ok(row);
        }
        let new_status = if row.status == status::AWAITING_ACKNOWLEDGEMENT {
            status::ACKNOWLEDGED
        } else {
            row.status.as_str()
        }
        .to_owned();
        diesel::update(tellonce_outbox::table.find(row.id))
            .set((
                tellonce_outbox::status.eq(&new_status),
                tellonce_outbox::acknowledged_micros.eq(Some(now)),
                tellonce_outbox::variables.eq(if keep_data {
                    row.variables.as_str()
                } else {
                    CLEARED
                }),
            ))
            .execute(conn)?;
        ledger.append_in(
            conn,
            vec![outcome_entry(
                &row,
                kinds::ACKNOWLEDGED,
                department,
                json!({}),
            )],
        )?;
        row.status = new_status;
        row.acknowledged_micros = Some(now);
        Ok(row)
    })
}

/// The notifications one department has yet to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDepth {
    pub department: String,
    /// Waiting for delivery, or for a pulling department's acknowledgement.
    pub waiting: i64,
    /// When the oldest of them was told to the hub.
    pub oldest_received_micros: Option<i64>,
}

/// The waiting notifications of every department that has any.
pub fn depth_by_department(conn: &mut AnyConnection) -> Result<Vec<OutboxDepth>, TellOnceError> {
    use super::tables::tellonce_events;
    use diesel::dsl::{count_star, min};
    let rows: Vec<(String, i64, Option<i64>)> = tellonce_outbox::table
        .inner_join(tellonce_events::table)
        .filter(tellonce_outbox::status.eq_any([status::PENDING, status::AWAITING_ACKNOWLEDGEMENT]))
        .group_by(tellonce_outbox::department)
        .select((
            tellonce_outbox::department,
            count_star(),
            min(tellonce_events::received_micros),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(department, waiting, oldest_received_micros)| OutboxDepth {
                department,
                waiting,
                oldest_received_micros,
            },
        )
        .collect())
}
