//! One typed configuration: `tellonce.toml` plus `TELLONCE_*` environment
//! overrides, with defaults that run with no file at all (SQLite under
//! `./data`, in-process broker). Each section's type lives in the module
//! that uses it; this one only assembles them and reads them the same way
//! for every command ([`ConfigArgs`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::gateway::config::{GatewayConfig, SubgraphConfig};
pub use crate::ledger::config::LedgerConfig;

/// The whole hub configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// Border coordination: agencies, their subgraphs, retries.
    pub border: crate::border::BorderConfig,
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
    /// The operation GraphiQL opens with (the demo's example query).
    pub graphiql_query: Option<String>,
    /// How ledger changes reach subscribers, across instances with Redis.
    pub events: crate::events::EventsConfig,
    /// Metrics and traces.
    pub telemetry: crate::telemetry::TelemetryConfig,
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
            border: crate::border::BorderConfig::default(),
            auth: crate::auth::AuthConfig::default(),
            authorization: crate::gateway::AuthorizationConfig::default(),
            limits: crate::gateway::RequestLimits::default(),
            rate_limit: crate::auth::rate_limit::RateLimitConfig::default(),
            trusted_documents: crate::gateway::trusted_documents::TrustedDocumentsConfig::default(),
            headers: crate::gateway::headers::HeadersConfig::default(),
            graphiql_headers: None,
            graphiql_query: None,
            events: crate::events::EventsConfig::default(),
            telemetry: crate::telemetry::TelemetryConfig::default(),
        }
    }
}

/// Where every command finds its configuration, read the same way by all:
/// the file (`--config`, else `tellonce.toml` in the working directory when
/// there is one), then the `TELLONCE_*` variables, then these flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// A configuration file (TOML) [default: ./tellonce.toml if it exists; TELLONCE_* variables apply].
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The data directory for the embedded database and keys [default: the configured one].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The database (`postgres://…` or a SQLite file) [default: the configured one].
    #[arg(long)]
    pub database: Option<String>,
    /// Redis shared by every hub instance, for subscriptions and rate limits
    /// (`redis://host:port`) [default: the configured one; none: this instance only].
    #[arg(long)]
    pub redis: Option<String>,
}

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "tellonce.toml";

impl ConfigArgs {
    /// The configuration in force for a command.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let default = Path::new(DEFAULT_CONFIG_FILE);
        let file = match &self.config {
            Some(path) => Some(path.as_path()),
            None if default.is_file() => Some(default),
            None => None,
        };
        let mut config = Config::load(file)?;
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
        if let Some(database) = &self.database {
            config.database_url = Some(database.clone());
        }
        if let Some(redis) = &self.redis {
            config.rate_limit.redis_url = Some(redis.clone());
            config.events.redis_url = Some(redis.clone());
        }
        Ok(config)
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
            self.rate_limit.redis_url = Some(value.clone());
            self.events.redis_url = Some(value);
        }
        Ok(())
    }

    /// The configuration as TOML, every option with its value in force;
    /// passwords in URLs and values of secret-looking keys are masked.
    pub fn effective_toml(&self) -> Result<String, toml::ser::Error> {
        let mut value = toml::Value::try_from(self)?;
        mask_secrets(&mut value, "");
        toml::to_string_pretty(&value)
    }

    /// Opens the configured ledger (see [`crate::ledger::Ledger::open`]).
    pub fn open_ledger(&self) -> Result<crate::ledger::Ledger, crate::ledger::LedgerError> {
        crate::ledger::Ledger::open(&self.ledger, &self.database_url(), &self.data_dir)
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

/// What stands in for a secret in printed configuration.
const MASK: &str = "********";

fn mask_secrets(value: &mut toml::Value, key: &str) {
    match value {
        toml::Value::String(text) => {
            let secret = ["password", "secret", "token"]
                .iter()
                .any(|word| key.contains(word))
                && !key.ends_with("_file");
            if secret {
                *text = MASK.into();
            } else if let Some(masked) = url_without_password(text) {
                *text = masked;
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(|item| mask_secrets(item, key)),
        toml::Value::Table(table) => table
            .iter_mut()
            .for_each(|(key, item)| mask_secrets(item, key)),
        _ => {}
    }
}

/// `scheme://user:password@host…` with the password masked, if it has one.
fn url_without_password(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let (userinfo, host) = rest.split_once('@')?;
    if host.contains('/') && userinfo.contains('/') {
        return None;
    }
    let (user, _password) = userinfo.split_once(':')?;
    Some(format!("{scheme}://{user}:{MASK}@{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_and_secret_keys_are_masked() {
        assert_eq!(
            url_without_password("postgres://hub:s3cret@db:5432/tellonce").as_deref(),
            Some("postgres://hub:********@db:5432/tellonce")
        );
        assert_eq!(url_without_password("redis://127.0.0.1:6379"), None);
        assert_eq!(url_without_password("postgres://hub@db/tellonce"), None);
        let config = Config {
            database_url: Some("postgres://hub:s3cret@db/tellonce".into()),
            ..Config::default()
        };
        let printed = config.effective_toml().expect("serializes");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("listen = \"127.0.0.1:4000\""), "{printed}");
    }
}
