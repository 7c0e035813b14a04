-- API-key principals: the key itself is never stored, only its SHA-256.
CREATE TABLE auth_principals (
    name TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    scopes TEXT NOT NULL,
    department TEXT,
    nino TEXT,
    key_hash BLOB NOT NULL UNIQUE,
    created_micros BIGINT NOT NULL,
    revoked_micros BIGINT
);
