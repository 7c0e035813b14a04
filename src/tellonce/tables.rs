//! The diesel tables of tell-us-once (see the `*_tellonce` migrations) and
//! their rows.

use diesel::prelude::*;

diesel::table! {
    tellonce_events (id) {
        id -> Text,
        idempotency_key -> Text,
        event_type -> Text,
        content_hash -> Binary,
        subject_scheme -> Text,
        subject_value -> Text,
        received_micros -> BigInt,
        ledger_seq -> BigInt,
        entry_hash -> Binary,
        signature -> Binary,
        departments -> Text,
        fact_hashes -> Text,
    }
}

diesel::table! {
    tellonce_outbox (id) {
        id -> BigInt,
        event_id -> Text,
        department -> Text,
        rule_name -> Text,
        document -> Text,
        variables -> Text,
        idempotency_key -> Text,
        subject -> Binary,
        event_seq -> BigInt,
        status -> Text,
        attempts -> BigInt,
        next_attempt_micros -> BigInt,
        claim_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        delivered_micros -> Nullable<BigInt>,
        acknowledged_micros -> Nullable<BigInt>,
    }
}

diesel::joinable!(tellonce_outbox -> tellonce_events (event_id));
diesel::allow_tables_to_appear_in_same_query!(tellonce_events, tellonce_outbox);

/// One accepted life event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tellonce_events)]
pub struct EventRow {
    pub id: String,
    pub idempotency_key: String,
    pub event_type: String,
    pub content_hash: Vec<u8>,
    pub subject_scheme: String,
    pub subject_value: String,
    pub received_micros: i64,
    pub ledger_seq: i64,
    pub entry_hash: Vec<u8>,
    pub signature: Vec<u8>,
    /// Department names, comma-separated, in rule order.
    pub departments: String,
    /// Each fact's keyed hash, as a JSON object (see `LifeEvent::fact_hashes`).
    pub fact_hashes: String,
}

/// One notification to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tellonce_outbox)]
pub struct NewOutboxRow {
    pub event_id: String,
    pub department: String,
    pub rule_name: String,
    pub document: String,
    /// The variables to send, the idempotency key among them (push), or
    /// the fields the department is told (pull).
    pub variables: String,
    pub idempotency_key: String,
    pub subject: Vec<u8>,
    pub event_seq: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_micros: i64,
}

/// One notification as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tellonce_outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: String,
    pub department: String,
    pub rule_name: String,
    pub document: String,
    /// The variables to send, the idempotency key among them (push), or
    /// the fields the department is told (pull).
    pub variables: String,
    pub idempotency_key: String,
    pub subject: Vec<u8>,
    pub event_seq: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_micros: i64,
    pub claim_token: Option<String>,
    pub last_error: Option<String>,
    pub delivered_micros: Option<i64>,
    pub acknowledged_micros: Option<i64>,
}

/// Where a notification is in its life.
pub mod status {
    /// Waiting for (another) delivery attempt.
    pub const PENDING: &str = "PENDING";
    /// The department applied it.
    pub const DELIVERED: &str = "DELIVERED";
    /// Attempts exhausted (or refused for good); an operator may replay it.
    pub const DEAD_LETTER: &str = "DEAD_LETTER";
    /// A pull department has not acknowledged it yet.
    pub const AWAITING_ACKNOWLEDGEMENT: &str = "AWAITING_ACKNOWLEDGEMENT";
    /// A pull department acknowledged it.
    pub const ACKNOWLEDGED: &str = "ACKNOWLEDGED";
    /// The subject's data was erased before the department had it.
    pub const CANCELLED: &str = "CANCELLED";
}
