//! Border coordination's writes and reads, each in one database
//! transaction: a declaration (ledger entry, consignment, one assessment
//! row per agency in scope), answers and outcomes (conditional updates, so
//! nothing is recorded twice however often it is retried, then the plan
//! revised and ledgered), claims for the retry worker, and the pages and
//! totals the graph reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
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

/// Inserts a declaration's rows on one concrete connection.
macro_rules! insert_declared {
    ($conn:expr, $row:expr, $saving:expr, $rows:expr) => {{
        diesel::insert_into(border_consignments::table)
            .values($row)
            .execute($conn)?;
        diesel::insert_into(border_savings::table)
            .values($saving)
            .execute($conn)?;
        diesel::insert_into(border_assessments::table)
            .values($rows)
            .execute($conn)?;
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

    /// Step one of a declaration inside the batch transaction: an earlier
    /// declaration under the key, or the rows and ledger entries to write.
    pub(super) fn prepare_declaration(
        &self,
        conn: &mut AnyConnection,
        declaration: &Declaration,
        key: &str,
        actor: &str,
        registry: &AgencyRegistry,
    ) -> Result<DeclarationStep, BorderError> {
        let hash = declaration.content_hash();
        let existing = border_consignments::table
            .filter(border_consignments::idempotency_key.eq(key))
            .select(ConsignmentRow::as_select())
            .first::<ConsignmentRow>(conn)
            .optional()?;
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

    /// Step two: the rows written with the declaration's receipts.
    pub(super) fn finish_declaration(
        conn: &mut AnyConnection,
        new: NewDeclaration,
        receipts: &[Receipt],
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
        let saving = SavingRow::of(&row.id, &plan.saving);
        // Multi-row inserts do not compile on the connection enum.
        match conn {
            AnyConnection::Postgres(c) => insert_declared!(c, &row, &saving, &assessments),
            AnyConnection::Sqlite(c) => insert_declared!(c, &row, &saving, &assessments),
        }
        Ok(Declared {
            view: PlanView::from_row(row)?,
            to_ask,
            token,
        })
    }

    /// Step one of recording the answers of the agencies this asker
    /// claimed (`token`): the plan revision to write if any answer was new.
    pub(super) fn prepare_answers(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        token: &str,
        answers: &[(String, Result<RiskAssessment, String>)],
        registry: &AgencyRegistry,
    ) -> Result<AnswersStep, BorderError> {
        let row = lock_consignment(conn, id)?;
        let now = Utc::now();
        let micros = now.timestamp_micros();
        let mut answered = 0;
        for (agency, answer) in answers {
            let mine = border_assessments::table
                .filter(border_assessments::consignment_id.eq(id))
                .filter(border_assessments::agency.eq(agency))
                .filter(border_assessments::status.eq(assessment_status::PENDING))
                .filter(border_assessments::claim_token.eq(token));
            match answer {
                Ok(assessment) => {
                    let status = if assessment.checks.is_empty() {
                        assessment_status::ANSWERED
                    } else {
                        AWAITING_OUTCOME
                    };
                    answered += diesel::update(mine)
                        .set((
                            border_assessments::status.eq(status),
                            border_assessments::answer.eq(serde_json::to_string(assessment)?),
                            border_assessments::answered_micros.eq(micros),
                            border_assessments::claim_token.eq(None::<String>),
                            border_assessments::last_error.eq(None::<String>),
                        ))
                        .execute(conn)?;
                }
                Err(message) => {
                    let attempts: Option<i64> = mine
                        .select(border_assessments::attempts)
                        .first(conn)
                        .optional()?;
                    let Some(attempts) = attempts else { continue };
                    let wait = self
                        .config
                        .backoff(u32::try_from(attempts + 1).unwrap_or(u32::MAX));
                    tracing::warn!(consignment = id, agency, error = %message, "agency did not assess; asking again later");
                    diesel::update(mine)
                        .set((
                            border_assessments::attempts.eq(attempts + 1),
                            border_assessments::last_error.eq(message),
                            border_assessments::claim_token.eq(None::<String>),
                            border_assessments::next_attempt_micros
                                .eq(micros
                                    + i64::try_from(wait.as_micros()).unwrap_or(i64::MAX / 4)),
                        ))
                        .execute(conn)?;
                }
            }
        }
        if answered == 0 {
            return Ok(AnswersStep::Unchanged(PlanView::from_row(row)?));
        }
        Ok(AnswersStep::Revised(self.prepare_revision(
            conn,
            row,
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
            let mut revision = self.prepare_revision(conn, row, registry, now, Vec::new())?;
            let receipts = self
                .ledger
                .append_in(conn, std::mem::take(&mut revision.entries))?;
            finish_revision(conn, revision, &receipts)
        })
    }

    /// Rebuilds the plan from every agency's part, with the ledger entries
    /// of the revision (and of the release decision when it is reached)
    /// after `entries`.
    fn prepare_revision(
        &self,
        conn: &mut AnyConnection,
        row: ConsignmentRow,
        registry: &AgencyRegistry,
        now: DateTime<Utc>,
        mut entries: Vec<NewEntry>,
    ) -> Result<Revision, BorderError> {
        let declaration: Declaration = serde_json::from_str(&row.declaration)?;
        let previous: Plan = serde_json::from_str(&row.plan)?;
        let parts = load_parts(conn, &row.id, registry)?;
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

/// Step two of a revision: the plan stored with its ledger entry's sequence.
pub(super) fn finish_revision(
    conn: &mut AnyConnection,
    revision: Revision,
    receipts: &[Receipt],
) -> Result<PlanView, BorderError> {
    let Revision {
        row,
        mut plan,
        revision,
        now,
        ..
    } = revision;
    plan.ledger_seq = receipts.last().map(|r| r.seq as i64);
    diesel::update(border_consignments::table.filter(border_consignments::id.eq(&row.id)))
        .set((
            border_consignments::status.eq(plan.status.as_str()),
            border_consignments::revision.eq(revision),
            border_consignments::plan.eq(serde_json::to_string(&plan)?),
            border_consignments::updated_micros.eq(now.timestamp_micros()),
        ))
        .execute(conn)?;
    diesel::update(border_savings::table.filter(border_savings::consignment_id.eq(&row.id)))
        .set(&SavingRow::of(&row.id, &plan.saving))
        .execute(conn)?;
    Ok(PlanView {
        plan,
        revision,
        updated_at: now,
        ..PlanView::from_row(row)?
    })
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

/// Every agency's part, in the agencies file's order.
fn load_parts(
    conn: &mut AnyConnection,
    id: &str,
    registry: &AgencyRegistry,
) -> Result<Vec<AgencyPart>, BorderError> {
    let rows: Vec<AssessmentRow> = border_assessments::table
        .filter(border_assessments::consignment_id.eq(id))
        .select(AssessmentRow::as_select())
        .load(conn)?;
    let order: HashMap<&str, usize> = registry
        .all()
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut parts = rows
        .into_iter()
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
                last_error: row.last_error,
                agency: row.agency,
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
