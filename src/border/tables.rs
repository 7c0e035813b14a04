//! The diesel tables of border coordination (see the `*_border`
//! migrations) and their rows.

use diesel::prelude::*;

diesel::table! {
    border_consignments (id) {
        id -> Text,
        idempotency_key -> Text,
        content_hash -> Binary,
        declared_by -> Text,
        trader_eori -> Text,
        declaration -> Text,
        status -> Text,
        revision -> BigInt,
        plan -> Text,
        declared_micros -> BigInt,
        updated_micros -> BigInt,
        ledger_seq -> BigInt,
        entry_hash -> Binary,
        signature -> Binary,
    }
}

diesel::table! {
    border_savings (consignment_id) {
        consignment_id -> Text,
        checks_requested -> BigInt,
        inspections_requested -> BigInt,
        inspections_scheduled -> BigInt,
        interventions_scheduled -> BigInt,
    }
}

diesel::table! {
    border_assessments (consignment_id, agency) {
        consignment_id -> Text,
        agency -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_micros -> BigInt,
        claim_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        answer -> Nullable<Text>,
        answered_micros -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
        outcome_micros -> Nullable<BigInt>,
        outcome_seq -> Nullable<BigInt>,
    }
}

diesel::joinable!(border_assessments -> border_consignments (consignment_id));
diesel::joinable!(border_savings -> border_consignments (consignment_id));
diesel::allow_tables_to_appear_in_same_query!(
    border_consignments,
    border_assessments,
    border_savings
);

/// An assessment's state.
pub mod assessment_status {
    /// Not yet answered: to be asked (again) at `next_attempt_micros`.
    pub const PENDING: &str = "pending";
    pub const ANSWERED: &str = "answered";
    /// The agency is in scope but has no subgraph the hub can ask.
    pub const NOT_CONNECTED: &str = "not_connected";
}

/// A consignment's state.
pub mod consignment_status {
    /// Some agency has not answered yet.
    pub const PROVISIONAL: &str = "provisional";
    /// Every connected agency answered; checks await their outcomes.
    pub const PLANNED: &str = "planned";
    /// A release decision was reached.
    pub const DECIDED: &str = "decided";
}

/// One declared consignment and its current plan.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = border_consignments)]
pub struct ConsignmentRow {
    pub id: String,
    pub idempotency_key: String,
    pub content_hash: Vec<u8>,
    /// The principal who declared it.
    pub declared_by: String,
    pub trader_eori: String,
    /// The validated declaration, as JSON.
    pub declaration: String,
    pub status: String,
    pub revision: i64,
    /// The current plan, as JSON.
    pub plan: String,
    pub declared_micros: i64,
    pub updated_micros: i64,
    /// The ledger entry recording the declaration.
    pub ledger_seq: i64,
    pub entry_hash: Vec<u8>,
    pub signature: Vec<u8>,
}

/// What one plan saves (its current revision).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = border_savings)]
pub struct SavingRow {
    pub consignment_id: String,
    pub checks_requested: i64,
    pub inspections_requested: i64,
    pub inspections_scheduled: i64,
    pub interventions_scheduled: i64,
}

impl SavingRow {
    pub fn of(consignment_id: &str, saving: &super::plan::PlanSaving) -> SavingRow {
        SavingRow {
            consignment_id: consignment_id.to_owned(),
            checks_requested: saving.checks_requested,
            inspections_requested: saving.inspections_requested,
            inspections_scheduled: saving.inspections_scheduled,
            interventions_scheduled: saving.interventions_scheduled,
        }
    }
}

/// One agency's part in one consignment.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = border_assessments)]
pub struct AssessmentRow {
    pub consignment_id: String,
    pub agency: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_micros: i64,
    /// The asker holding this row (until `next_attempt_micros`).
    pub claim_token: Option<String>,
    pub last_error: Option<String>,
    /// The agency's answer, as JSON.
    pub answer: Option<String>,
    pub answered_micros: Option<i64>,
    /// The agency's recorded outcome, as JSON.
    pub outcome: Option<String>,
    pub outcome_micros: Option<i64>,
    pub outcome_seq: Option<i64>,
}
