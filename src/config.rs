//! One typed configuration: `tellonce.toml` plus `TELLONCE_*` environment
//! overrides, with defaults that run with no file at all (SQLite under
//! `./data`, in-process broker).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// The whole hub configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Folder for the embedded database, keys and other local state.
    pub data_dir: PathBuf,
    /// `postgres://…` or a SQLite file path; `None` means `<data_dir>/tellonce.db`.
    pub database_url: Option<String>,
    pub ledger: LedgerConfig,
}

/// Ledger settings: signing key, checkpoint cadence, limits.
#[derive(Debug, Clone, Deserialize)]
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
    /// The subject HMAC key file; `None` means `<data_dir>/subject.key`,
    /// created with the signing key. Every instance sharing a ledger needs
    /// the same one.
    pub subject_key_file: Option<PathBuf>,
    /// Witness verifier keys (`name+id+base64`, `cosignature/v1`) whose
    /// checkpoint cosignatures are accepted and served.
    pub witness_keys: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            ledger: LedgerConfig::default(),
        }
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            key_file: None,
            origin: "tellonce.gov.uk/ledger".into(),
            checkpoint_every_entries: 1000,
            checkpoint_every_seconds: 10,
            max_payload_bytes: 64 * 1024,
            subject_key_file: None,
            witness_keys: Vec::new(),
        }
    }
}

impl Config {
    /// The database URL in force: the configured one or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => self
                .data_dir
                .join("tellonce.db")
                .to_string_lossy()
                .into_owned(),
        }
    }
}
