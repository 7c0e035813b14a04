-- The audit ledger: entry headers, payloads stored apart, Merkle subtree
-- hashes, the single head row that serializes appends, checkpoints and
-- witness cosignatures.
CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    recorded_micros BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject BYTEA,
    payload_hash BYTEA NOT NULL,
    prev_hash BYTEA NOT NULL,
    entry_hash BYTEA NOT NULL,
    signature BYTEA NOT NULL
);
CREATE INDEX ledger_entries_kind ON ledger_entries (kind, seq);
-- Most entries have no subject: a partial index skips them (`subject = ?`
-- implies `subject IS NOT NULL`, so subject look-ups still use it).
CREATE INDEX ledger_entries_subject ON ledger_entries (subject, seq) WHERE subject IS NOT NULL;

CREATE TABLE ledger_payloads (
    seq BIGINT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE ledger_nodes (
    id BIGINT PRIMARY KEY NOT NULL,
    hash BYTEA NOT NULL
);

CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    size BIGINT NOT NULL,
    last_hash BYTEA NOT NULL,
    frontier BYTEA NOT NULL,
    checkpoint_size BIGINT NOT NULL,
    checkpoint_micros BIGINT NOT NULL,
    signer_vkey TEXT NOT NULL
);
INSERT INTO ledger_head (id, size, last_hash, frontier, checkpoint_size, checkpoint_micros, signer_vkey)
VALUES (1, 0, '\x'::bytea, '\x'::bytea, 0, 0, '');

CREATE TABLE ledger_checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BYTEA NOT NULL,
    issued_micros BIGINT NOT NULL,
    note TEXT NOT NULL
);

CREATE TABLE ledger_cosignatures (
    tree_size BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (tree_size, witness)
);
