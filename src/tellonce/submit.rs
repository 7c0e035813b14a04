//! Accepting life events: a queue that group-commits concurrent
//! submissions. One writer task takes whatever is queued and, in ONE
//! database transaction, looks up the idempotency keys, appends a ledger
//! entry per new event (`Ledger::append_in`), and writes the event rows and
//! one outbox row per department. Either all of that is written or none.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::event::LifeEvent;
use super::route_check::CheckedRoutes;
use super::routes::DeliveryMode;
use super::tables::{status, tellonce_events, tellonce_outbox, EventRow, NewOutboxRow};
use super::{TellOnce, TellOnceError};
use crate::ledger::{NewEntry, Receipt};
use crate::store::{write_transaction, AnyConnection};

/// Rows per multi-row INSERT (under both backends' bind limits).
const INSERT_CHUNK: usize = 500;
/// Attempts of a batch that lost a race on an idempotency key with another hub.
const RACE_ATTEMPTS: usize = 3;
/// The ledger kind of an accepted event.
pub const EVENT_RECORDED: &str = "tellonce.event.recorded";

/// What `tellUsOnce` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifeEventReceipt {
    pub event_id: String,
    pub ledger_seq: u64,
    pub entry_hash: [u8; 32],
    pub signature: [u8; 64],
    pub departments: Vec<String>,
}

impl LifeEventReceipt {
    fn from_row(row: &EventRow) -> LifeEventReceipt {
        LifeEventReceipt {
            event_id: row.id.clone(),
            ledger_seq: row.ledger_seq as u64,
            entry_hash: row.entry_hash.as_slice().try_into().unwrap_or([0; 32]),
            signature: row.signature.as_slice().try_into().unwrap_or([0; 64]),
            departments: split_departments(&row.departments),
        }
    }
}

pub(crate) fn split_departments(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One submission waiting for the writer.
struct Submission {
    event: LifeEvent,
    key: String,
    routes: Arc<CheckedRoutes>,
    /// The principal who told the hub, recorded as the entry's actor.
    actor: String,
}

/// Submissions waiting for the writer at most; beyond it callers are asked
/// to retry (`RATE_LIMITED`) instead of queueing without bound.
const QUEUE_CAPACITY: usize = 4096;

type Reply = oneshot::Sender<Result<LifeEventReceipt, TellOnceError>>;

/// The queue in front of the writer task.
pub struct SubmissionQueue {
    sender: mpsc::Sender<(Submission, Reply)>,
}

impl SubmissionQueue {
    /// Starts the writer task (inside a tokio runtime).
    pub(crate) fn start(tellonce: Weak<TellOnce>, batch: usize) -> SubmissionQueue {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_loop(tellonce, receiver, batch.max(1)));
        SubmissionQueue { sender }
    }

    pub(crate) async fn submit(
        &self,
        event: LifeEvent,
        key: String,
        routes: Arc<CheckedRoutes>,
        actor: String,
    ) -> Result<LifeEventReceipt, TellOnceError> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            event,
            key,
            routes,
            actor,
        };
        self.sender
            .try_send((submission, reply))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => TellOnceError::Busy,
                mpsc::error::TrySendError::Closed(_) => {
                    TellOnceError::Unavailable("the writer has stopped".into())
                }
            })?;
        answer
            .await
            .map_err(|_| TellOnceError::Unavailable("the writer has stopped".into()))?
    }
}

async fn write_loop(
    tellonce: Weak<TellOnce>,
    mut receiver: mpsc::Receiver<(Submission, Reply)>,
    batch: usize,
) {
    while let Some(first) = receiver.recv().await {
        let mut items = vec![first];
        while items.len() < batch {
            match receiver.try_recv() {
                Ok(item) => items.push(item),
                Err(_) => break,
            }
        }
        let Some(this) = tellonce.upgrade() else {
            return;
        };
        let (submissions, replies): (Vec<Submission>, Vec<Reply>) = items.into_iter().unzip();
        let count = submissions.len();
        let results = tokio::task::spawn_blocking(move || this.write_batch(&submissions))
            .await
            .unwrap_or_else(|error| {
                vec![Err(TellOnceError::Unavailable(error.to_string())); count]
            });
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// A failure inside the batch transaction: a database error (which may be a
/// lost race worth retrying) or anything else.
enum BatchError {
    Database(diesel::result::Error),
    Other(TellOnceError),
}

impl From<diesel::result::Error> for BatchError {
    fn from(e: diesel::result::Error) -> Self {
        BatchError::Database(e)
    }
}

impl From<crate::ledger::LedgerError> for BatchError {
    fn from(e: crate::ledger::LedgerError) -> Self {
        BatchError::Other(e.into())
    }
}

/// Where one submission's answer comes from.
enum Slot {
    Existing(LifeEventReceipt),
    New(usize),
    Refused(TellOnceError),
}

/// Each fact's keyed hash by input path, as `tellonce_events.fact_hashes` holds it.
type FactHashes = serde_json::Map<String, serde_json::Value>;

/// The type and subject by which a once-only event is found again.
fn once_only_key(event: &LifeEvent) -> Option<(&'static str, &str)> {
    event
        .event_type
        .once_only()
        .then(|| (event.event_type.input_field(), event.subject.value.as_str()))
}

/// A new event being written.
struct NewEvent<'a> {
    submission: &'a Submission,
    id: String,
    hash: [u8; 32],
}

impl TellOnce {
    fn write_batch(&self, items: &[Submission]) -> Vec<Result<LifeEventReceipt, TellOnceError>> {
        let all = |error: TellOnceError| vec![Err(error); items.len()];
        let mut conn = match self.ledger.store().get() {
            Ok(conn) => conn,
            Err(error) => {
                tracing::error!(%error, "life events not recorded: no database connection");
                return all(TellOnceError::Unavailable(error.to_string()));
            }
        };
        for attempt in 1..=RACE_ATTEMPTS {
            match write_transaction(&mut conn, |conn| self.write_in(conn, items)) {
                Ok(results) => return results,
                Err(BatchError::Database(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ))) if attempt < RACE_ATTEMPTS => continue,
                Err(BatchError::Database(error)) => {
                    tracing::error!(%error, "life events not recorded");
                    return all(TellOnceError::Unavailable(error.to_string()));
                }
                Err(BatchError::Other(error)) => {
                    tracing::error!(%error, "life events not recorded");
                    return all(TellOnceError::Unavailable(error.to_string()));
                }
            }
        }
        all(TellOnceError::Unavailable("lost every race".into()))
    }

    fn write_in(
        &self,
        conn: &mut AnyConnection,
        items: &[Submission],
    ) -> Result<Vec<Result<LifeEventReceipt, TellOnceError>>, BatchError> {
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let existing: HashMap<String, EventRow> = tellonce_events::table
            .filter(tellonce_events::idempotency_key.eq_any(&keys))
            .load::<EventRow>(conn)?
            .into_iter()
            .map(|row| (row.idempotency_key.clone(), row))
            .collect();
        let recorded = self.recorded_once_only(conn, items, &existing)?;
        let mut new_events: Vec<NewEvent> = Vec::new();
        let mut new_by_key: HashMap<&str, usize> = HashMap::new();
        let mut new_by_subject: HashMap<(&str, &str), usize> = HashMap::new();
        let mut slots = Vec::with_capacity(items.len());
        for item in items {
            let hash = item.event.content_hash();
            let once = once_only_key(&item.event);
            let slot = if let Some(row) = existing.get(&item.key) {
                if row.content_hash == hash {
                    Slot::Existing(LifeEventReceipt::from_row(row))
                } else {
                    Slot::Refused(TellOnceError::Conflict(item.key.clone()))
                }
            } else if let Some(&index) = new_by_key.get(item.key.as_str()) {
                if new_events[index].hash == hash {
                    Slot::New(index)
                } else {
                    Slot::Refused(TellOnceError::Conflict(item.key.clone()))
                }
            } else if let Some(row) = once.and_then(|key| recorded.get(&key)) {
                // Told before under another key: the same facts are the same
                // event; other facts contradict it.
                if row.content_hash == hash {
                    Slot::Existing(LifeEventReceipt::from_row(row))
                } else {
                    let recorded = serde_json::from_str(&row.fact_hashes).unwrap_or_default();
                    Slot::Refused(self.contradiction(&item.event, &recorded))
                }
            } else if let Some(&index) = once.and_then(|key| new_by_subject.get(&key)) {
                let earlier = &new_events[index];
                if earlier.hash == hash {
                    Slot::New(index)
                } else {
                    let hashes = self.fact_hashes(&earlier.submission.event);
                    Slot::Refused(self.contradiction(&item.event, &hashes))
                }
            } else {
                if let Some(key) = once {
                    new_by_subject.insert(key, new_events.len());
                }
                new_by_key.insert(&item.key, new_events.len());
                new_events.push(NewEvent {
                    submission: item,
                    id: uuid::Uuid::now_v7().to_string(),
                    hash,
                });
                Slot::New(new_events.len() - 1)
            };
            slots.push(slot);
        }
        let entries = new_events.iter().map(|n| self.ledger_entry(n)).collect();
        let receipts = if new_events.is_empty() {
            Vec::new()
        } else {
            self.ledger.append_in(conn, entries)?
        };
        let now = Utc::now().timestamp_micros();
        let mut event_rows = Vec::with_capacity(new_events.len());
        let mut outbox_rows = Vec::new();
        for (new, receipt) in new_events.iter().zip(&receipts) {
            let (event_row, rows) = self.rows_for(new, receipt, now);
            event_rows.push(event_row);
            outbox_rows.extend(rows);
        }
        insert_events(conn, &event_rows)?;
        insert_outbox(conn, &outbox_rows)?;
        let new_receipts: Vec<LifeEventReceipt> =
            event_rows.iter().map(LifeEventReceipt::from_row).collect();
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Existing(receipt) => Ok(receipt),
                Slot::New(index) => new_receipts
                    .get(index)
                    .cloned()
                    .ok_or_else(|| TellOnceError::Storage("no receipt".into())),
                Slot::Refused(error) => Err(error),
            })
            .collect())
    }

    /// Once-only events already recorded about the subjects of `items`
    /// (those not already answered by their idempotency key), by type and
    /// subject.
    fn recorded_once_only<'a>(
        &self,
        conn: &mut AnyConnection,
        items: &'a [Submission],
        existing: &HashMap<String, EventRow>,
    ) -> Result<HashMap<(&'a str, &'a str), EventRow>, BatchError> {
        let wanted: Vec<(&str, &str)> = items
            .iter()
            .filter(|i| !existing.contains_key(&i.key))
            .filter_map(|i| once_only_key(&i.event))
            .collect();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let subjects: Vec<&str> = wanted.iter().map(|(_, subject)| *subject).collect();
        let rows = tellonce_events::table
            .filter(tellonce_events::subject_value.eq_any(&subjects))
            .order(tellonce_events::ledger_seq)
            .load::<EventRow>(conn)?;
        let mut found = HashMap::new();
        for key in wanted {
            if let Some(row) = rows
                .iter()
                .find(|r| r.event_type == key.0 && r.subject_value == key.1)
            {
                found.entry(key).or_insert_with(|| row.clone());
            }
        }
        Ok(found)
    }

    /// Each fact's keyed hash (over the subject, the input path and the
    /// value): a later report can be compared field by field, and the facts
    /// need not be kept.
    fn fact_hashes(&self, event: &LifeEvent) -> FactHashes {
        let subject = event.subject.ledger_identifier();
        event
            .facts()
            .into_iter()
            .map(|(path, value)| {
                let hash = self
                    .ledger
                    .subject_hash(&format!("fact:{subject}:{path}={value}"));
                (path, serde_json::Value::String(hex::encode(hash)))
            })
            .collect()
    }

    /// The refusal of `event`, which differs from a recorded event whose
    /// fact hashes are `recorded`: the paths that differ, in input order.
    fn contradiction(&self, event: &LifeEvent, recorded: &FactHashes) -> TellOnceError {
        let new = self.fact_hashes(event);
        let mut fields: Vec<String> = new
            .iter()
            .filter(|(path, hash)| recorded.get(*path) != Some(*hash))
            .map(|(path, _)| path.clone())
            .collect();
        // A recorded fact the new report leaves out differs too.
        fields.extend(recorded.keys().filter(|p| !new.contains_key(*p)).cloned());
        if fields.is_empty() {
            // Recorded before facts were hashed: the event as a whole differs.
            fields.push(format!("event.{}", event.event_type.input_field()));
        }
        TellOnceError::Contradicts {
            event: event.event_type.input_field(),
            fields,
        }
    }

    /// The ledger entry of an accepted event: its type, who is told which
    /// fields (names, never values), and the keyed subject hash.
    fn ledger_entry(&self, new: &NewEvent) -> NewEntry {
        let event = &new.submission.event;
        let told: Vec<_> = new
            .submission
            .routes
            .for_event(event.event_type)
            .iter()
            .map(|rule| {
                json!({
                    "department": rule.department,
                    "rule": rule.name,
                    "mode": rule.mode().as_str(),
                    "fields": rule.variables.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        NewEntry {
            kind: EVENT_RECORDED.into(),
            actor: new.submission.actor.clone(),
            subject: Some(self.ledger.subject_hash(&event.subject.ledger_identifier())),
            payload: json!({
                "eventId": new.id,
                "type": event.event_type.input_field(),
                "contentHash": hex::encode(new.hash),
                "told": told,
            }),
        }
    }

    fn rows_for(
        &self,
        new: &NewEvent,
        receipt: &Receipt,
        now: i64,
    ) -> (EventRow, Vec<NewOutboxRow>) {
        let submission = new.submission;
        let event = &submission.event;
        let rules = submission.routes.for_event(event.event_type);
        let subject = self
            .ledger
            .subject_hash(&event.subject.ledger_identifier())
            .to_vec();
        let outbox = rules
            .iter()
            .map(|rule| {
                let mode = rule.mode();
                let idempotency_key = format!("{}:{}", new.id, rule.department);
                let mut variables = rule.variables_from(&event.fields);
                if mode == DeliveryMode::Push {
                    variables.insert(
                        rule.idempotency_key_variable.clone(),
                        serde_json::Value::String(idempotency_key.clone()),
                    );
                }
                NewOutboxRow {
                    event_id: new.id.clone(),
                    department: rule.department.clone(),
                    rule_name: rule.name.clone(),
                    document: rule.document.clone().unwrap_or_default(),
                    variables: serde_json::Value::Object(variables).to_string(),
                    idempotency_key,
                    subject: subject.clone(),
                    event_seq: receipt.seq as i64,
                    status: match mode {
                        DeliveryMode::Push => status::PENDING,
                        DeliveryMode::Pull => status::AWAITING_ACKNOWLEDGEMENT,
                    }
                    .into(),
                    attempts: 0,
                    next_attempt_micros: now,
                }
            })
            .collect();
        let departments: Vec<&str> = rules.iter().map(|r| r.department.as_str()).collect();
        let row = EventRow {
            id: new.id.clone(),
            idempotency_key: submission.key.clone(),
            event_type: event.event_type.input_field().into(),
            content_hash: new.hash.to_vec(),
            subject_scheme: event.subject.scheme.into(),
            subject_value: event.subject.value.clone(),
            received_micros: now,
            ledger_seq: receipt.seq as i64,
            entry_hash: receipt.entry_hash.to_vec(),
            signature: receipt.signature.to_vec(),
            departments: departments.join(","),
            fact_hashes: serde_json::Value::Object(self.fact_hashes(event)).to_string(),
        };
        (row, outbox)
    }
}

fn insert_events(conn: &mut AnyConnection, rows: &[EventRow]) -> Result<(), BatchError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            AnyConnection::Postgres(c) => {
                diesel::insert_into(tellonce_events::table)
                    .values(chunk)
                    .execute(c)?;
            }
            AnyConnection::Sqlite(c) => {
                diesel::insert_into(tellonce_events::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

fn insert_outbox(conn: &mut AnyConnection, rows: &[NewOutboxRow]) -> Result<(), BatchError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        match conn {
            AnyConnection::Postgres(c) => {
                diesel::insert_into(tellonce_outbox::table)
                    .values(chunk)
                    .execute(c)?;
            }
            AnyConnection::Sqlite(c) => {
                diesel::insert_into(tellonce_outbox::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}
