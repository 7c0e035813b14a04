//! One typed configuration: `tellonce.toml` plus `TELLONCE_*` environment
//! overrides, with defaults that run with no file at all (SQLite under
//! `./data`, in-process broker).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// A supergraph SDL file to serve as is (hot-reloaded when it changes).
    /// When absent, the hub composes `subgraphs` with its own subgraph.
    pub supergraph: Option<PathBuf>,
    /// Department subgraphs to compose at start.
    pub subgraphs: Vec<SubgraphConfig>,
    pub gateway: GatewayConfig,
    pub ledger: LedgerConfig,
    pub tellonce: crate::tellonce::TellOnceConfig,
    /// Credentials: API keys, JWTs, the hub's identity key.
    pub auth: crate::auth::AuthConfig,
    /// Who may see what: public fields, policies.
    pub authorization: crate::gateway::AuthorizationConfig,
    /// What no request may exceed.
    pub limits: crate::gateway::RequestLimits,
    pub rate_limit: crate::auth::rate_limit::RateLimitConfig,
    pub trusted_documents: crate::gateway::trusted_documents::TrustedDocumentsConfig,
    /// Which client headers reach which subgraph.
    pub headers: crate::gateway::headers::HeadersConfig,
    /// Headers GraphiQL starts with, as JSON text (the demo preloads its
    /// example credential).
    pub graphiql_headers: Option<String>,
}

/// One department subgraph registered with the hub.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    pub name: String,
    /// The subgraph's GraphQL endpoint.
    pub url: String,
    /// Its SDL file; when absent the hub asks the subgraph for `_service { sdl }`.
    pub schema_file: Option<PathBuf>,
}

/// Execution settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// How long one subgraph call may take, in milliseconds.
    pub subgraph_timeout_ms: u64,
    /// Per-subgraph overrides of `subgraph_timeout_ms`, by subgraph name.
    pub subgraph_timeouts_ms: std::collections::HashMap<String, u64>,
    /// How often the supergraph file is checked for changes, in milliseconds.
    pub reload_poll_ms: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Identical queries in flight at once share one execution.
    pub inbound_dedup: bool,
    /// Identical subgraph requests of queries in flight share one call.
    pub outbound_dedup: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            subgraph_timeout_ms: 30_000,
            subgraph_timeouts_ms: std::collections::HashMap::new(),
            reload_poll_ms: 1_000,
            max_body_bytes: 2 * 1024 * 1024,
            inbound_dedup: true,
            outbound_dedup: true,
        }
    }
}

impl GatewayConfig {
    pub fn subgraph_timeout(&self) -> Duration {
        Duration::from_millis(self.subgraph_timeout_ms)
    }

    /// The per-subgraph timeouts that differ from the default.
    pub fn subgraph_timeouts(&self) -> std::collections::HashMap<String, Duration> {
        self.subgraph_timeouts_ms
            .iter()
            .map(|(name, ms)| (name.clone(), Duration::from_millis(*ms)))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
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
    /// Most entries waiting for a group commit; an append beyond it is
    /// refused as busy (the caller is told to retry) instead of queueing
    /// without bound while the database is slow.
    pub max_queued_entries: usize,
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
            supergraph: None,
            subgraphs: Vec::new(),
            gateway: GatewayConfig::default(),
            ledger: LedgerConfig::default(),
            tellonce: crate::tellonce::TellOnceConfig::default(),
            auth: crate::auth::AuthConfig::default(),
            authorization: crate::gateway::AuthorizationConfig::default(),
            limits: crate::gateway::RequestLimits::default(),
            rate_limit: crate::auth::rate_limit::RateLimitConfig::default(),
            trusted_documents: crate::gateway::trusted_documents::TrustedDocumentsConfig::default(),
            headers: crate::gateway::headers::HeadersConfig::default(),
            graphiql_headers: None,
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
            max_queued_entries: 50_000,
            subject_key_file: None,
            witness_keys: Vec::new(),
        }
    }
}

impl Config {
    /// Reads `path` (when given) and applies `TELLONCE_*` overrides:
    /// `TELLONCE_LISTEN`, `TELLONCE_DATA_DIR`, `TELLONCE_DATABASE_URL`, `TELLONCE_SUPERGRAPH`,
    /// `TELLONCE_REDIS_URL`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: error.to_string(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(value) = var("TELLONCE_LISTEN") {
            self.listen =
                value
                    .parse()
                    .map_err(|error: std::net::AddrParseError| ConfigError::Env {
                        name: "TELLONCE_LISTEN",
                        value: value.clone(),
                        message: error.to_string(),
                    })?;
        }
        if let Some(value) = var("TELLONCE_DATA_DIR") {
            self.data_dir = PathBuf::from(value);
        }
        if let Some(value) = var("TELLONCE_DATABASE_URL") {
            self.database_url = Some(value);
        }
        if let Some(value) = var("TELLONCE_SUPERGRAPH") {
            self.supergraph = Some(PathBuf::from(value));
        }
        if let Some(value) = var("TELLONCE_REDIS_URL") {
            self.rate_limit.redis_url = Some(value);
        }
        Ok(())
    }

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
