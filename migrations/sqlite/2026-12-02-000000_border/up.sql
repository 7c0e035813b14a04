-- Border coordination: one row per declared consignment (keyed by the
-- declarant's idempotency key) holding its current intervention plan, and
-- one row per agency in scope holding that agency's assessment (asked and
-- retried like an outbox) and, later, its recorded outcome.
CREATE TABLE border_consignments (
    id TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    content_hash BLOB NOT NULL,
    declared_by TEXT NOT NULL,
    trader_eori TEXT NOT NULL,
    declaration TEXT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    plan TEXT NOT NULL,
    declared_micros BIGINT NOT NULL,
    updated_micros BIGINT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    entry_hash BLOB NOT NULL,
    signature BLOB NOT NULL
);
CREATE INDEX border_consignments_trader ON border_consignments (trader_eori, id);
CREATE INDEX border_consignments_status ON border_consignments (status, id);

-- What each plan saves, summed for the hub's running totals.
CREATE TABLE border_savings (
    consignment_id TEXT PRIMARY KEY NOT NULL REFERENCES border_consignments (id),
    checks_requested BIGINT NOT NULL,
    inspections_requested BIGINT NOT NULL,
    inspections_scheduled BIGINT NOT NULL,
    interventions_scheduled BIGINT NOT NULL
);

CREATE TABLE border_assessments (
    consignment_id TEXT NOT NULL REFERENCES border_consignments (id),
    agency TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_micros BIGINT NOT NULL,
    claim_token TEXT,
    last_error TEXT,
    answer TEXT,
    answered_micros BIGINT,
    outcome TEXT,
    outcome_micros BIGINT,
    outcome_seq BIGINT,
    PRIMARY KEY (consignment_id, agency)
);
CREATE INDEX border_assessments_due ON border_assessments (status, next_attempt_micros);
CREATE INDEX border_assessments_agency ON border_assessments (agency, status, consignment_id);
