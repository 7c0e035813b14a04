//! Border coordination's writes and reads, each in one database
//! transaction: a declaration (ledger entry, consignment, one assessment
//! row per agency in scope), answers and outcomes (conditional updates, so
//! nothing is recorded twice however often it is retried, then the plan
//! revised and ledgered), claims for the retry worker, and the pages and
//! totals the graph reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use serde_json::json;

use super::agencies::AgencyRegistry;
use super::declaration::Declaration;
use super::ledger_kinds;
use super::plan::{
    self, AgencyPart, AssessmentStatus, OutcomeResult, Plan, PlanStatus, RecordedOutcome,
    RiskAssessment,
};
use super::tables::{
    assessment_status, border_assessments, border_consignments, border_savings, AssessmentRow,
    ConsignmentRow, SavingRow,
};
use super::{Border, BorderError};
use crate::ledger::{NewEntry, Receipt};
use crate::store::{write_transaction, AnyConnection};

/// Rows a batch inserts in one statement at most (SQLite binds at most
/// 32,766 values per statement; the widest row has 14 columns).
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes `$rows` as upserts: on PostgreSQL, where each statement is a
/// round trip, as multi-row statements; on SQLite (in process, and diesel
/// has no multi-row upsert for it) a row at a time from one cached
/// prepared statement.
macro_rules! upsert_rows {
    ($conn:expr, $table:expr, $rows:expr, $target:expr, $set:expr) => {{
        match &mut *$conn {
            AnyConnection::Postgres(c) => {
                for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
                    diesel::insert_into($table)
                        .values(chunk)
                        .on_conflict($target)
                        .do_update()
                        .set($set)
                        .execute(c)?;
                }
            }
            AnyConnection::Sqlite(c) => {
                for row in &$rows {
                    diesel::insert_into($table)
                        .values(row)
                        .on_conflict($target)
                        .do_update()
                        .set($set)
                        .execute(c)?;
                }
            }
        }
    }};
}

/// An assessment answered with checks whose outcome is not recorded yet
/// (the agency's worklist).
pub(super) const AWAITING_OUTCOME: &str = "awaiting_outcome";
/// Attempts of a declaration that lost an idempotency-key race with another hub.
pub(super) const RACE_ATTEMPTS: usize = 3;

/// A consignment with its current plan, as the graph shows it.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub id: String,
    pub declared_by: String,
    pub trader_eori: String,
    pub declaration: Declaration,
    pub plan: Plan,
    pub revision: i64,
    pub declared_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The ledger entry recording the declaration.
    pub ledger_seq: i64,
    pub entry_hash: Vec<u8>,
    pub signature: Vec<u8>,
}

impl PlanView {
    fn from_row(row: ConsignmentRow) -> Result<PlanView, BorderError> {
        Ok(PlanView {
            declaration: serde_json::from_str(&row.declaration)?,
            plan: serde_json::from_str(&row.plan)?,
            id: row.id,
            declared_by: row.declared_by,
            trader_eori: row.trader_eori,
            revision: row.revision,
            declared_at: time(row.declared_micros),
            updated_at: time(row.updated_micros),
            ledger_seq: row.ledger_seq,
            entry_hash: row.entry_hash,
            signature: row.signature,
        })
    }
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A page of consignments.
#[derive(Debug, Clone)]
pub struct ConsignmentPage {
    pub views: Vec<PlanView>,
    pub has_next: bool,
}

/// Running totals over every plan.
#[derive(Debug, Clone, Copy, Default, QueryableByName)]
pub struct BorderTotals {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub declarations: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub checks_requested: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub inspections_requested: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub inspections_scheduled: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub interventions_scheduled: i64,
}

/// A declaration's first step.
pub(super) enum DeclarationStep {
    /// Declared before under the same key.
    Existing(PlanView),
    New(NewDeclaration),
}

/// A declaration's rows and ledger entries, waiting for their receipts.
pub(super) struct NewDeclaration {
    row: ConsignmentRow,
    plan: Plan,
    assessments: Vec<AssessmentRow>,
    pub entries: Vec<NewEntry>,
    to_ask: Vec<String>,
    token: String,
}

/// Answers' first step.
pub(super) enum AnswersStep {
    /// Nothing new: no answer was this asker's to record.
    Unchanged(PlanView),
    Revised(Revision),
}

/// A plan revision waiting for its ledger receipts.
pub(super) struct Revision {
    row: ConsignmentRow,
    plan: Plan,
    revision: i64,
    now: DateTime<Utc>,
    pub entries: Vec<NewEntry>,
}

/// What a declaration wrote, and which agencies to ask now.
pub(super) struct Declared {
    pub view: PlanView,
    /// Agency ids claimed for this caller to ask (empty for a repeat).
    pub to_ask: Vec<String>,
    pub token: String,
}

impl Declared {
    /// A declaration made before: nothing to ask.
    pub(super) fn existing(view: PlanView) -> Declared {
        Declared {
            view,
            to_ask: Vec::new(),
            token: String::new(),
        }
    }
}

pub(super) fn is_unique_violation(error: &BorderError) -> bool {
    matches!(
        error,
        BorderError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

impl Border {
    fn subject(&self, eori: &str) -> crate::ledger::SubjectHash {
        self.ledger.subject_hash(&format!("eori:{eori}"))
    }

    /// Step one of a declaration inside the batch transaction: the earlier
    /// declaration under the key (`existing`, read for the whole batch at
    /// once), or the rows and ledger entries to write.
    pub(super) fn prepare_declaration(
        &self,
        existing: Option<ConsignmentRow>,
        declaration: &Declaration,
        key: &str,
        actor: &str,
        registry: &AgencyRegistry,
    ) -> Result<DeclarationStep, BorderError> {
        let hash = declaration.content_hash();
        if let Some(row) = existing {
            if row.content_hash != hash {
                return Err(BorderError::Conflict(format!(
                    "idempotency key {key:?} was already used for a different declaration"
                )));
            }
            return Ok(DeclarationStep::Existing(PlanView::from_row(row)?));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let token = crate::tellonce::delivery::random_token();
        let now = Utc::now();
        let micros = now.timestamp_micros();
        let lease = (self.config.claim_lease_ms as i64).saturating_mul(1000);
        let mut parts = Vec::new();
        let mut rows = Vec::new();
        let mut to_ask = Vec::new();
        for agency in registry.in_scope(declaration) {
            let connected = self.agency_url(agency).is_some();
            parts.push(AgencyPart {
                agency: agency.id.clone(),
                status: if connected {
                    AssessmentStatus::Pending
                } else {
                    AssessmentStatus::NotConnected
                },
                assessment: None,
                outcome: None,
                last_error: None,
            });
            if connected {
                to_ask.push(agency.id.clone());
            }
            rows.push(AssessmentRow {
                consignment_id: id.clone(),
                agency: agency.id.clone(),
                status: if connected {
                    assessment_status::PENDING
                } else {
                    assessment_status::NOT_CONNECTED
                }
                .into(),
                attempts: 0,
                next_attempt_micros: micros + lease,
                claim_token: connected.then(|| token.clone()),
                last_error: None,
                answer: None,
                answered_micros: None,
                outcome: None,
                outcome_micros: None,
                outcome_seq: None,
            });
        }
        let plan = plan::merge(
            parts,
            declaration.border_control_post.as_deref(),
            registry,
            &self.places,
            now,
        );
        let subject = self.subject(&declaration.importer);
        let mut entries = vec![NewEntry {
            kind: ledger_kinds::DECLARED.into(),
            actor: actor.to_owned(),
            subject: Some(subject),
            payload: json!({
                "consignmentId": id,
                "contentHash": hex::encode(hash),
                "agencies": to_ask,
                "notConnected": plan.parts.iter().filter(|p| p.status == AssessmentStatus::NotConnected).map(|p| &p.agency).collect::<Vec<_>>(),
            }),
        }];
        if plan.status == PlanStatus::Decided {
            entries.push(decision_entry(&id, &plan, subject));
        }
        let row = ConsignmentRow {
            id,
            idempotency_key: key.to_owned(),
            content_hash: hash.to_vec(),
            declared_by: actor.to_owned(),
            trader_eori: declaration.importer.clone(),
            declaration: serde_json::to_string(declaration)?,
            status: plan.status.as_str().into(),
            revision: 0,
            plan: String::new(),
            declared_micros: micros,
            updated_micros: micros,
            ledger_seq: 0,
            entry_hash: Vec::new(),
            signature: Vec::new(),
        };
        Ok(DeclarationStep::New(NewDeclaration {
            row,
            plan,
            assessments: rows,
            entries,
            to_ask,
            token,
        }))
    }

    /// Step two: the rows, with the declaration's receipts, added to the
    /// batch's writes.
    pub(super) fn finish_declaration(
        new: NewDeclaration,
        receipts: &[Receipt],
        writes: &mut BatchRows,
    ) -> Result<Declared, BorderError> {
        let NewDeclaration {
            mut row,
            mut plan,
            assessments,
            to_ask,
            token,
            ..
        } = new;
        let (Some(first), Some(last)) = (receipts.first(), receipts.last()) else {
            return Err(BorderError::Ledger(crate::ledger::LedgerError::Storage(
                "the ledger returned no receipt".into(),
            )));
        };
        plan.ledger_seq = Some(last.seq as i64);
        row.plan = serde_json::to_string(&plan)?;
        row.ledger_seq = first.seq as i64;
        row.entry_hash = first.entry_hash.to_vec();
        row.signature = first.signature.to_vec();
        writes.savings.push(SavingRow::of(&row.id, &plan.saving));
        writes.assessments.extend(assessments);
        let view = PlanView::from_row(row.clone())?;
        writes.consignments.push(row);
        Ok(Declared {
            view,
            to_ask,
            token,
        })
    }

    /// Step one of recording the answers of the agencies this asker
    /// claimed (`token`), on the consignment's locked row and assessments:
    /// each answer changes its assessment only while this asker's claim on
    /// it stands (so nothing is recorded twice however often it is
    /// retried); the plan revision to write if any answer was new.
    pub(super) fn prepare_answers(
        &self,
        row: ConsignmentRow,
        mut assessments: Vec<AssessmentRow>,
        token: &str,
        answers: &[(String, Result<RiskAssessment, String>)],
        registry: &AgencyRegistry,
        writes: &mut BatchRows,
    ) -> Result<AnswersStep, BorderError> {
        let now = Utc::now();
        let micros = now.timestamp_micros();
        let mut answered = 0;
        let mut changed = vec![false; assessments.len()];
        for (agency, answer) in answers {
            let Some(index) = assessments.iter().position(|a| {
                &a.agency == agency
                    && a.status == assessment_status::PENDING
                    && a.claim_token.as_deref() == Some(token)
            }) else {
                continue;
            };
            let part = &mut assessments[index];
            changed[index] = true;
            part.claim_token = None;
            match answer {
                Ok(assessment) => {
                    part.status = if assessment.checks.is_empty() {
                        assessment_status::ANSWERED
                    } else {
                        AWAITING_OUTCOME
                    }
                    .into();
                    part.answer = Some(serde_json::to_string(assessment)?);
                    part.answered_micros = Some(micros);
                    part.last_error = None;
                    answered += 1;
                }
                Err(message) => {
                    part.attempts += 1;
                    let wait = self
                        .config
                        .backoff(u32::try_from(part.attempts).unwrap_or(u32::MAX));
                    tracing::warn!(consignment = row.id, agency, error = %message, "agency did not assess; asking again later");
                    part.last_error = Some(message.clone());
                    part.next_attempt_micros =
                        micros + i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 4);
                }
            }
        }
        let parts = parts_of(&assessments, registry)?;
        writes.assessments.extend(
            assessments
                .into_iter()
                .zip(changed)
                .filter_map(|(part, changed)| changed.then_some(part)),
        );
        if answered == 0 {
            return Ok(AnswersStep::Unchanged(PlanView::from_row(row)?));
        }
        Ok(AnswersStep::Revised(self.prepare_revision(
            row,
            parts,
            registry,
            now,
            Vec::new(),
        )?))
    }

    /// Records `agency`'s outcome once and revises the plan.
    pub(super) fn record_outcome_blocking(
        &self,
        id: &str,
        agency: &str,
        result: OutcomeResult,
        notes: String,
        actor: String,
        registry: &AgencyRegistry,
    ) -> Result<PlanView, BorderError> {
        let mut conn = self.ledger.store().get()?;
        write_transaction(&mut conn, |conn| {
            let row = match lock_consignment(conn, id) {
                Err(BorderError::Database(diesel::result::Error::NotFound)) => {
                    return Err(BorderError::NotFound(format!("intervention plan {id}")))
                }
                other => other?,
            };
            let part: Option<AssessmentRow> = border_assessments::table
                .filter(border_assessments::consignment_id.eq(id))
                .filter(border_assessments::agency.eq(agency))
                .select(AssessmentRow::as_select())
                .first(conn)
                .optional()?;
            let Some(part) = part else {
                return Err(BorderError::NotFound(format!(
                    "{agency}'s part in intervention plan {id}"
                )));
            };
            if let Some(recorded) = &part.outcome {
                let recorded: RecordedOutcome = serde_json::from_str(recorded)?;
                if recorded.result == result && recorded.notes == notes {
                    return PlanView::from_row(row);
                }
                return Err(BorderError::Conflict(format!(
                    "{agency}'s outcome for this plan is already recorded (ledger entry {}); a recorded outcome is not changed",
                    recorded.ledger_seq
                )));
            }
            if part.status != AWAITING_OUTCOME {
                return Err(BorderError::Conflict(format!(
                    "{agency} has no check awaiting an outcome in this plan (its assessment is {})",
                    part.status.replace('_', " ")
                )));
            }
            let now = Utc::now();
            let entry = NewEntry {
                kind: ledger_kinds::OUTCOME_RECORDED.into(),
                actor,
                subject: Some(self.subject(&row.trader_eori)),
                payload: json!({
                    "consignmentId": id,
                    "agency": agency,
                    "result": result,
                    "notesHash": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(notes.as_bytes())),
                }),
            };
            let seq = self
                .ledger
                .append_in(conn, vec![entry])?
                .first()
                .map(|r| r.seq as i64)
                .unwrap_or(0);
            let outcome = RecordedOutcome {
                result,
                notes,
                recorded_at: now,
                ledger_seq: seq,
            };
            let written = diesel::update(
                border_assessments::table
                    .filter(border_assessments::consignment_id.eq(id))
                    .filter(border_assessments::agency.eq(agency))
                    .filter(border_assessments::outcome.is_null()),
            )
            .set((
                border_assessments::status.eq(assessment_status::ANSWERED),
                border_assessments::outcome.eq(serde_json::to_string(&outcome)?),
                border_assessments::outcome_micros.eq(now.timestamp_micros()),
                border_assessments::outcome_seq.eq(seq),
            ))
            .execute(conn)?;
            if written == 0 {
                return Err(BorderError::Conflict(format!(
                    "{agency}'s outcome for this plan is already recorded"
                )));
            }
            let parts = parts_of(&load_assessments(conn, &[id])?, registry)?;
            let mut revision = self.prepare_revision(row, parts, registry, now, Vec::new())?;
            let receipts = self
                .ledger
                .append_in(conn, std::mem::take(&mut revision.entries))?;
            let mut writes = BatchRows::default();
            let view = finish_revision(revision, &receipts, &mut writes)?;
            writes.write(conn)?;
            Ok(view)
        })
    }

    /// Rebuilds the plan from every agency's part, with the ledger entries
    /// of the revision (and of the release decision when it is reached)
    /// after `entries`.
    fn prepare_revision(
        &self,
        row: ConsignmentRow,
        parts: Vec<AgencyPart>,
        registry: &AgencyRegistry,
        now: DateTime<Utc>,
        mut entries: Vec<NewEntry>,
    ) -> Result<Revision, BorderError> {
        let declaration: Declaration = serde_json::from_str(&row.declaration)?;
        let previous: Plan = serde_json::from_str(&row.plan)?;
        let mut plan = plan::merge(
            parts,
            declaration.border_control_post.as_deref(),
            registry,
            &self.places,
            now,
        );
        if let (Some(old), Some(_)) = (&previous.decision, &plan.decision) {
            // A decision stands as first made.
            plan.decision = Some(old.clone());
        }
        let revision = row.revision + 1;
        let subject = self.subject(&row.trader_eori);
        let plan_text = serde_json::to_string(&plan)?;
        entries.push(NewEntry {
            kind: ledger_kinds::PLAN_REVISED.into(),
            actor: crate::auth::HUB_PRINCIPAL_ID.into(),
            subject: Some(subject),
            payload: json!({
                "consignmentId": row.id,
                "revision": revision,
                "status": plan.status,
                "leadAgency": plan.lead_agency,
                "interventions": plan.interventions.iter().map(|i| json!({
                    "kind": i.kind, "agencies": i.agencies, "location": i.location, "startsAt": i.starts_at,
                })).collect::<Vec<_>>(),
                "saving": plan.saving,
                "planHash": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(plan_text.as_bytes())),
            }),
        });
        if previous.decision.is_none() && plan.decision.is_some() {
            entries.push(decision_entry(&row.id, &plan, subject));
        }
        Ok(Revision {
            row,
            plan,
            revision,
            now,
            entries,
        })
    }

    pub(super) fn load_view(&self, id: &str) -> Result<Option<PlanView>, BorderError> {
        let mut conn = self.ledger.store().get()?;
        border_consignments::table
            .filter(border_consignments::id.eq(id))
            .select(ConsignmentRow::as_select())
            .first::<ConsignmentRow>(&mut conn)
            .optional()?
            .map(PlanView::from_row)
            .transpose()
    }
}

/// Step two of a revision: the plan, with its ledger entry's sequence,
/// added to the batch's writes.
pub(super) fn finish_revision(
    revision: Revision,
    receipts: &[Receipt],
    writes: &mut BatchRows,
) -> Result<PlanView, BorderError> {
    let Revision {
        mut row,
        mut plan,
        revision,
        now,
        ..
    } = revision;
    plan.ledger_seq = receipts.last().map(|r| r.seq as i64);
    row.status = plan.status.as_str().into();
    row.revision = revision;
    row.plan = serde_json::to_string(&plan)?;
    row.updated_micros = now.timestamp_micros();
    writes.savings.push(SavingRow::of(&row.id, &plan.saving));
    let view = PlanView {
        plan,
        ..PlanView::from_row(row.clone())?
    };
    writes.consignments.push(row);
    Ok(view)
}

/// A batch's rows, written once its ledger receipts are in: one multi-row
/// statement per table (per [`ROWS_PER_STATEMENT`]) however many jobs the
/// batch holds, so a batch costs a few round trips to PostgreSQL rather
/// than a few per job. Every row here is either new or was read locked in
/// this transaction, so writing it whole changes only what the batch
/// changed.
#[derive(Default)]
pub(super) struct BatchRows {
    consignments: Vec<ConsignmentRow>,
    savings: Vec<SavingRow>,
    assessments: Vec<AssessmentRow>,
}

impl BatchRows {
    pub(super) fn write(self, conn: &mut AnyConnection) -> Result<(), BorderError> {
        use diesel::upsert::excluded;
        use {border_assessments as a, border_consignments as c, border_savings as s};
        upsert_rows!(
            conn,
            c::table,
            self.consignments,
            c::id,
            (
                c::status.eq(excluded(c::status)),
                c::revision.eq(excluded(c::revision)),
                c::plan.eq(excluded(c::plan)),
                c::updated_micros.eq(excluded(c::updated_micros)),
            )
        );
        upsert_rows!(
            conn,
            s::table,
            self.savings,
            s::consignment_id,
            (
                s::checks_requested.eq(excluded(s::checks_requested)),
                s::inspections_requested.eq(excluded(s::inspections_requested)),
                s::inspections_scheduled.eq(excluded(s::inspections_scheduled)),
                s::interventions_scheduled.eq(excluded(s::interventions_scheduled)),
            )
        );
        upsert_rows!(
            conn,
            a::table,
            self.assessments,
            (a::consignment_id, a::agency),
            (
                a::status.eq(excluded(a::status)),
                a::attempts.eq(excluded(a::attempts)),
                a::next_attempt_micros.eq(excluded(a::next_attempt_micros)),
                a::claim_token.eq(excluded(a::claim_token)),
                a::last_error.eq(excluded(a::last_error)),
                a::answer.eq(excluded(a::answer)),
                a::answered_micros.eq(excluded(a::answered_micros)),
                a::outcome.eq(excluded(a::outcome)),
                a::outcome_micros.eq(excluded(a::outcome_micros)),
                a::outcome_seq.eq(excluded(a::outcome_seq)),
            )
        );
        Ok(())
    }
}

/// The consignments declared before under `keys`, by key (plain SQL on
/// PostgreSQL, for the reason [`lock_consignments`] gives).
pub(super) fn declared_under(
    conn: &mut AnyConnection,
    keys: &[&str],
) -> Result<HashMap<String, ConsignmentRow>, BorderError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<ConsignmentRow> = match conn {
        AnyConnection::Postgres(c) => {
            diesel::sql_query("SELECT * FROM border_consignments WHERE idempotency_key = ANY($1)")
                .bind::<Array<Text>, _>(keys)
                .load(c)?
        }
        AnyConnection::Sqlite(c) => border_consignments::table
            .filter(border_consignments::idempotency_key.eq_any(keys))
            .select(ConsignmentRow::as_select())
            .load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|row| (row.idempotency_key.clone(), row))
        .collect())
}

/// The consignments `ids` and every agency's assessment of them, locked
/// for this transaction on PostgreSQL in id order (so two hubs' batches
/// cannot deadlock on them; the retry worker skips locked assessments).
/// SQLite's write transaction already excludes every other writer.
pub(super) fn lock_consignments(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, (ConsignmentRow, Vec<AssessmentRow>)>, BorderError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (rows, parts): (Vec<ConsignmentRow>, Vec<AssessmentRow>) = match conn {
        // Plain SQL, never a prepared statement diesel keeps: PostgreSQL
        // may settle a kept one on a generic plan, costed while the tables
        // were small (a new database), and keep it as they grow. Diesel keeps
        // every statement whose text is fixed, `= ANY($1)` included.
        AnyConnection::Postgres(c) => (
            diesel::sql_query(
                "SELECT * FROM border_consignments WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            )
            .bind::<Array<Text>, _>(ids)
            .load(c)?,
            diesel::sql_query(
                "SELECT * FROM border_assessments WHERE consignment_id = ANY($1) \
                 ORDER BY consignment_id, agency FOR UPDATE",
            )
            .bind::<Array<Text>, _>(ids)
            .load(c)?,
        ),
        AnyConnection::Sqlite(c) => (
            border_consignments::table
                .filter(border_consignments::id.eq_any(ids))
                .select(ConsignmentRow::as_select())
                .load(c)?,
            border_assessments::table
                .filter(border_assessments::consignment_id.eq_any(ids))
                .select(AssessmentRow::as_select())
                .load(c)?,
        ),
    };
    let mut locked: HashMap<String, (ConsignmentRow, Vec<AssessmentRow>)> = rows
        .into_iter()
        .map(|row| (row.id.clone(), (row, Vec::new())))
        .collect();
    for part in parts {
        if let Some((_, mine)) = locked.get_mut(&part.consignment_id) {
            mine.push(part);
        }
    }
    Ok(locked)
}

fn decision_entry(id: &str, plan: &Plan, subject: crate::ledger::SubjectHash) -> NewEntry {
    NewEntry {
        kind: ledger_kinds::RELEASE_DECIDED.into(),
        actor: crate::auth::HUB_PRINCIPAL_ID.into(),
        subject: Some(subject),
        payload: json!({
            "consignmentId": id,
            "decision": plan.decision.as_ref().map(|d| d.decision),
            "reasons": plan.decision.as_ref().map(|d| d.reasons.clone()).unwrap_or_default(),
        }),
    }
}

/// The consignment row, locked for this transaction on PostgreSQL (SQLite's
/// write transaction already excludes every other writer).
fn lock_consignment(conn: &mut AnyConnection, id: &str) -> Result<ConsignmentRow, BorderError> {
    let query = || border_consignments::table.filter(border_consignments::id.eq(id));
    Ok(match conn {
        AnyConnection::Postgres(c) => query()
            .select(ConsignmentRow::as_select())
            .for_update()
            .first(c)?,
        AnyConnection::Sqlite(c) => query().select(ConsignmentRow::as_select()).first(c)?,
    })
}

/// The assessments of consignments `ids`.
fn load_assessments(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<AssessmentRow>, BorderError> {
    Ok(border_assessments::table
        .filter(border_assessments::consignment_id.eq_any(ids))
        .select(AssessmentRow::as_select())
        .load(conn)?)
}

/// Every agency's part in a consignment, in the agencies file's order.
fn parts_of(
    rows: &[AssessmentRow],
    registry: &AgencyRegistry,
) -> Result<Vec<AgencyPart>, BorderError> {
    let order: HashMap<&str, usize> = registry
        .all()
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut parts = rows
        .iter()
        .map(|row| {
            let status = match row.status.as_str() {
                assessment_status::PENDING => AssessmentStatus::Pending,
                assessment_status::NOT_CONNECTED => AssessmentStatus::NotConnected,
                _ => AssessmentStatus::Answered,
            };
            Ok(AgencyPart {
                status,
                assessment: row
                    .answer
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?,
                outcome: row
                    .outcome
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()?,
                last_error: row.last_error.clone(),
                agency: row.agency.clone(),
            })
        })
        .collect::<Result<Vec<_>, BorderError>>()?;
    parts.sort_by_key(|p| order.get(p.agency.as_str()).copied().unwrap_or(usize::MAX));
    Ok(parts)
}

/// A page of consignments by id (time order), filtered.
pub(super) fn consignment_page(
    conn: &mut AnyConnection,
    trader: Option<String>,
    status: Option<PlanStatus>,
    declared_by: Option<String>,
    awaiting_agency: Option<String>,
    first: usize,
    after: Option<String>,
) -> Result<ConsignmentPage, BorderError> {
    let mut query = border_consignments::table
        .select(ConsignmentRow::as_select())
        .order(border_consignments::id.asc())
        .limit(first as i64 + 1)
        .into_boxed();
    if let Some(trader) = trader {
        query = query.filter(border_consignments::trader_eori.eq(trader));
    }
    if let Some(status) = status {
        query = query.filter(border_consignments::status.eq(status.as_str()));
    }
    if let Some(declared_by) = declared_by {
        query = query.filter(border_consignments::declared_by.eq(declared_by));
    }
    if let Some(after) = after {
        query = query.filter(border_consignments::id.gt(after));
    }
    if let Some(agency) = awaiting_agency {
        let awaiting = border_assessments::table
            .filter(border_assessments::agency.eq(agency))
            .filter(border_assessments::status.eq(AWAITING_OUTCOME))
            .select(border_assessments::consignment_id);
        query = query.filter(border_consignments::id.eq_any(awaiting));
    }
    let mut rows: Vec<ConsignmentRow> = query.load(conn)?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    Ok(ConsignmentPage {
        views: rows
            .into_iter()
            .map(PlanView::from_row)
            .collect::<Result<_, _>>()?,
        has_next,
    })
}

pub(super) fn totals(conn: &mut AnyConnection) -> Result<BorderTotals, BorderError> {
    const TOTALS: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS declarations, \
        CAST(COALESCE(SUM(checks_requested), 0) AS BIGINT) AS checks_requested, \
        CAST(COALESCE(SUM(inspections_requested), 0) AS BIGINT) AS inspections_requested, \
        CAST(COALESCE(SUM(inspections_scheduled), 0) AS BIGINT) AS inspections_scheduled, \
        CAST(COALESCE(SUM(interventions_scheduled), 0) AS BIGINT) AS interventions_scheduled \
        FROM border_savings";
    Ok(match conn {
        AnyConnection::Postgres(c) => diesel::sql_query(TOTALS).get_result(c)?,
        AnyConnection::Sqlite(c) => diesel::sql_query(TOTALS).get_result(c)?,
    })
}

/// Claims up to `limit` pending assessments that are due, for `token`.
pub(super) fn claim_due(
    conn: &mut AnyConnection,
    limit: i64,
    lease_micros: i64,
    token: &str,
) -> Result<Vec<AssessmentRow>, BorderError> {
    let now = Utc::now().timestamp_micros();
    write_transaction(conn, |conn| {
        let due = || {
            border_assessments::table
                .filter(border_assessments::status.eq(assessment_status::PENDING))
                .filter(border_assessments::next_attempt_micros.le(now))
                .order(border_assessments::next_attempt_micros)
                .limit(limit)
        };
        let rows: Vec<AssessmentRow> = match conn {
            AnyConnection::Postgres(c) => due()
                .select(AssessmentRow::as_select())
                .for_update()
                .skip_locked()
                .load(c)?,
            AnyConnection::Sqlite(c) => due().select(AssessmentRow::as_select()).load(c)?,
        };
        for row in &rows {
            diesel::update(
                border_assessments::table
                    .filter(border_assessments::consignment_id.eq(&row.consignment_id))
                    .filter(border_assessments::agency.eq(&row.agency)),
            )
            .set((
                border_assessments::claim_token.eq(token),
                border_assessments::next_attempt_micros.eq(now + lease_micros),
            ))
            .execute(conn)?;
        }
        Ok(rows)
    })
}

/// Releases every claim (one SQLite hub at start: nobody else holds any).
pub(super) fn release_all_claims(conn: &mut AnyConnection) -> Result<usize, BorderError> {
    let now = Utc::now().timestamp_micros();
    Ok(diesel::update(
        border_assessments::table
            .filter(border_assessments::status.eq(assessment_status::PENDING))
            .filter(border_assessments::claim_token.is_not_null()),
    )
    .set((
        border_assessments::claim_token.eq(None::<String>),
        border_assessments::next_attempt_micros.eq(now),
    ))
    .execute(conn)?)
}

/// The declarations of consignments, by id.
pub(super) fn declarations(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, Declaration>, BorderError> {
    let rows: Vec<(String, String)> = border_consignments::table
        .filter(border_consignments::id.eq_any(ids))
        .select((border_consignments::id, border_consignments::declaration))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, text)| Ok((id, serde_json::from_str(&text)?)))
        .collect()
}
