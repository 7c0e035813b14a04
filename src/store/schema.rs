//! The diesel table definitions shared by both backends (only column types
//! that SQLite and PostgreSQL both support: BigInt, Text, Binary).

diesel::table! {
    ledger_entries (seq) {
        seq -> BigInt,
        recorded_micros -> BigInt,
        kind -> Text,
        actor -> Text,
        subject -> Nullable<Binary>,
        payload_hash -> Binary,
        prev_hash -> Binary,
        entry_hash -> Binary,
        signature -> Binary,
    }
}

diesel::table! {
    ledger_payloads (seq) {
        seq -> BigInt,
        body -> Text,
    }
}

diesel::table! {
    ledger_nodes (id) {
        id -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> BigInt,
        size -> BigInt,
        last_hash -> Binary,
        frontier -> Binary,
        checkpoint_size -> BigInt,
        checkpoint_micros -> BigInt,
        signer_vkey -> Text,
    }
}

diesel::table! {
    ledger_checkpoints (tree_size) {
        tree_size -> BigInt,
        root_hash -> Binary,
        issued_micros -> BigInt,
        note -> Text,
    }
}

diesel::table! {
    ledger_cosignatures (tree_size, witness) {
        tree_size -> BigInt,
        witness -> Text,
        line -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(ledger_entries, ledger_payloads);

diesel::table! {
    auth_principals (name) {
        name -> Text,
        kind -> Text,
        scopes -> Text,
        department -> Nullable<Text>,
        nino -> Nullable<Text>,
        key_hash -> Binary,
        created_micros -> BigInt,
        revoked_micros -> Nullable<BigInt>,
    }
}
