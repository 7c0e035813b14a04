//! `[ledger]` in `tellonce.toml`: the signing key, checkpoint cadence and
//! limits, witnesses.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Ledger settings: signing key, checkpoint cadence, limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// The Ed25519 signing key file; `None` means `<data_dir>/ledger.key`,
    /// created on first start of an empty ledger.
    pub key_file: Option<PathBuf>,
    /// The checkpoint origin line (the log's name).
    pub origin: String,
    /// Issue a checkpoint after this many new entries…
    pub checkpoint_every_entries: u64,
    /// …or after this many seconds with new entries, whichever comes first.
    pub checkpoint_every_seconds: u64,
    /// Largest payload accepted, in bytes.
    pub max_payload_bytes: usize,
    /// Most entries waiting for a group commit; an append beyond it is
    /// refused as busy (the caller is told to retry) instead of queueing
    /// without bound while the database is slow.
    pub max_queued_entries: usize,
    /// The subject HMAC key file; `None` means `<data_dir>/subject.key`,
    /// created with the signing key. Every instance sharing a ledger needs
    /// the same one.
    pub subject_key_file: Option<PathBuf>,
    /// Witness verifier keys (`name+id+base64`, `cosignature/v1`) whose
    /// checkpoint cosignatures are accepted and served when they push them.
    pub witness_keys: Vec<String>,
    /// Witnesses the hub calls (C2SP tlog-witness `add-checkpoint`) with
    /// every new checkpoint.
    pub witnesses: Vec<WitnessConfig>,
    /// How many witnesses' cosignatures a checkpoint needs before
    /// `/ledger/checkpoint` serves it; default: every one in `witnesses`.
    pub witness_quorum: Option<usize>,
}

/// One witness the hub calls.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Its verifier key (`name+id+base64`, `cosignature/v1`).
    pub vkey: String,
    /// Its submission prefix: the hub posts to `<url>/add-checkpoint`.
    pub url: String,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            key_file: None,
            origin: "tellonce.gov.uk/ledger".into(),
            checkpoint_every_entries: 1000,
            checkpoint_every_seconds: 10,
            max_payload_bytes: 64 * 1024,
            max_queued_entries: 50_000,
            subject_key_file: None,
            witness_keys: Vec::new(),
            witnesses: Vec::new(),
            witness_quorum: None,
        }
    }
}

impl LedgerConfig {
    /// The signing key file and the subject key file in force.
    pub fn key_paths(&self, data_dir: &Path) -> (PathBuf, PathBuf) {
        let key = self
            .key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("ledger.key"));
        let subject = self
            .subject_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("subject.key"));
        (key, subject)
    }
}
