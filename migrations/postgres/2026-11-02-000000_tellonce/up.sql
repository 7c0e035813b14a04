-- Tell us once: life events (one row per accepted event, keyed by the
-- caller's idempotency key) and the outbox (one row per department to tell).
CREATE TABLE tellonce_events (
    id TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    content_hash BYTEA NOT NULL,
    subject_scheme TEXT NOT NULL,
    subject_value TEXT NOT NULL,
    received_micros BIGINT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    entry_hash BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    departments TEXT NOT NULL
);

CREATE TABLE tellonce_outbox (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES tellonce_events (id),
    department TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    document TEXT NOT NULL,
    variables TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    subject BYTEA NOT NULL,
    event_seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_micros BIGINT NOT NULL,
    claim_token TEXT,
    last_error TEXT,
    delivered_micros BIGINT,
    acknowledged_micros BIGINT,
    UNIQUE (event_id, department)
);
CREATE INDEX tellonce_outbox_due ON tellonce_outbox (status, next_attempt_micros);
CREATE INDEX tellonce_outbox_feed ON tellonce_outbox (department, event_seq);
