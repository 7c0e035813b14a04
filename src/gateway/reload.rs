//! The live gateway: where the supergraph comes from (a file, or the
//! composition of registered subgraphs), and atomic hot reload.
//!
//! A reload builds a whole new [`Gateway`] and swaps it in one pointer store;
//! requests already running keep the `Arc<Gateway>` they started with, so they
//! finish on the old supergraph. A new supergraph that does not load is
//! refused with an error in the log and the old one keeps serving.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

use super::compose::{compose_subgraphs, ComposeError, SubgraphSource};
use super::{Gateway, GatewayOptions, SubgraphTransport, Supergraph};
use crate::config::SubgraphConfig;

/// Where the supergraph comes from.
#[derive(Debug, Clone)]
pub enum SupergraphSource {
    /// A supergraph SDL file, served as is.
    File(PathBuf),
    /// Department subgraphs composed at load time, together with the extra
    /// subgraphs given in process (the hub's own) as `(name, url, sdl)`.
    Composed {
        subgraphs: Vec<SubgraphConfig>,
        in_process: Vec<SubgraphSource>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot read the supergraph file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the SDL of subgraph {subgraph} from {path}: {source}")]
    ReadSubgraphFile {
        subgraph: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot fetch the SDL of subgraph {subgraph} from {url}: {reason}")]
    FetchSubgraph {
        subgraph: String,
        url: String,
        reason: String,
    },
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error("the supergraph is not valid: {0}")]
    Supergraph(String),
    #[error("cannot build the gateway: {0}")]
    Gateway(String),
}

/// The gateway in force, replaced atomically on reload.
pub struct LiveGateway {
    current: ArcSwapOption<Gateway>,
    source: SupergraphSource,
    options: Mutex<GatewayOptions>,
    /// The modification time of the supergraph file last loaded.
    loaded_mtime: Mutex<Option<SystemTime>>,
    /// Serializes reloads so two triggers never interleave.
    reloading: tokio::sync::Mutex<()>,
}

impl LiveGateway {
    /// A live gateway with nothing loaded yet; call [`LiveGateway::reload`].
    pub fn new(source: SupergraphSource, options: GatewayOptions) -> Self {
        LiveGateway {
            current: ArcSwapOption::empty(),
            source,
            options: Mutex::new(options),
            loaded_mtime: Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// Routes the named subgraph through `transport` from the next load on.
    pub fn set_transport(&self, name: &str, transport: Arc<dyn SubgraphTransport>) {
        if let Ok(mut options) = self.options.lock() {
            options.transports.insert(name.to_owned(), transport);
        }
    }

    /// The gateway serving new requests, once one has loaded.
    pub fn current(&self) -> Option<Arc<Gateway>> {
        self.current.load_full()
    }

    /// Loads the supergraph from its source and swaps it in. On error the
    /// gateway in force (if any) stays.
    pub async fn reload(&self) -> Result<Arc<Gateway>, ReloadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let (sdl, mtime) = self.load_sdl().await?;
        let supergraph =
            Supergraph::parse(&sdl).map_err(|error| ReloadError::Supergraph(error.to_string()))?;
        let options = self
            .options
            .lock()
            .map(|options| options.clone())
            .unwrap_or_default();
        let gateway = Gateway::from_supergraph(Arc::new(supergraph), options)
            .map_err(|error| ReloadError::Gateway(error.to_string()))?;
        let gateway = Arc::new(gateway);
        self.current.store(Some(gateway.clone()));
        if let Ok(mut loaded) = self.loaded_mtime.lock() {
            *loaded = mtime;
        }
        tracing::info!(
            supergraph_hash = gateway.supergraph().hash(),
            subgraphs = gateway.supergraph().subgraphs().len(),
            "supergraph loaded"
        );
        Ok(gateway)
    }

    /// Reloads when the supergraph file changes (checked every `poll`) and on
    /// SIGHUP, until the task is dropped or aborted.
    pub fn watch(self: &Arc<Self>, poll: Duration) -> tokio::task::JoinHandle<()> {
        let live = Arc::clone(self);
        tokio::spawn(async move {
            let mut hangups = hangup_signals();
            let mut ticker = tokio::time::interval(poll);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let hangup = tokio::select! {
                    _ = ticker.tick() => false,
                    _ = next_hangup(&mut hangups) => true,
                };
                if !hangup && !live.file_changed() {
                    continue;
                }
                match live.reload().await {
                    Ok(_) => {}
                    Err(error) => {
                        // Remember the refused file so it is not retried every tick.
                        if let (SupergraphSource::File(path), Ok(mut loaded)) =
                            (&live.source, live.loaded_mtime.lock())
                        {
                            *loaded = modified(path);
                        }
                        tracing::error!(%error, "supergraph reload refused; the previous supergraph keeps serving");
                    }
                }
            }
        })
    }

    fn file_changed(&self) -> bool {
        let SupergraphSource::File(path) = &self.source else {
            return false;
        };
        let now = modified(path);
        let loaded = self.loaded_mtime.lock().map(|m| *m).unwrap_or(None);
        now.is_some() && now != loaded
    }

    async fn load_sdl(&self) -> Result<(String, Option<SystemTime>), ReloadError> {
        match &self.source {
            SupergraphSource::File(path) => {
                let mtime = modified(path);
                let sdl = tokio::fs::read_to_string(path).await.map_err(|source| {
                    ReloadError::ReadFile {
                        path: path.clone(),
                        source,
                    }
                })?;
                Ok((sdl, mtime))
            }
            SupergraphSource::Composed {
                subgraphs,
                in_process,
            } => {
                let mut sources = Vec::with_capacity(subgraphs.len() + in_process.len());
                for subgraph in subgraphs {
                    sources.push(subgraph_source(subgraph).await?);
                }
                sources.extend(in_process.iter().cloned());
                let composition = compose_subgraphs(&sources)?;
                for warning in &composition.warnings {
                    tracing::warn!(warning = %warning, "composition warning");
                }
                Ok((composition.supergraph_sdl, None))
            }
        }
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A subgraph's SDL from its file, or from its own `_service { sdl }`.
pub async fn subgraph_source(subgraph: &SubgraphConfig) -> Result<SubgraphSource, ReloadError> {
    let sdl = match &subgraph.schema_file {
        Some(path) => tokio::fs::read_to_string(path).await.map_err(|source| {
            ReloadError::ReadSubgraphFile {
                subgraph: subgraph.name.clone(),
                path: path.clone(),
                source,
            }
        })?,
        None => fetch_service_sdl(&subgraph.name, &subgraph.url).await?,
    };
    Ok(SubgraphSource {
        name: subgraph.name.clone(),
        url: subgraph.url.clone(),
        sdl,
    })
}

async fn fetch_service_sdl(name: &str, url: &str) -> Result<String, ReloadError> {
    let failed = |reason: String| ReloadError::FetchSubgraph {
        subgraph: name.to_owned(),
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let response = client
        .post(url)
        .json(&serde_json::json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let body: serde_json::Value = response.json().await.map_err(|e| failed(e.to_string()))?;
    body.pointer("/data/_service/sdl")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| failed("the answer has no data._service.sdl".into()))
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangup_signals() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}
#[cfg(not(unix))]
fn hangup_signals() -> Hangups {}

#[cfg(unix)]
async fn next_hangup(hangups: &mut Hangups) {
    match hangups {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) {
    std::future::pending().await
}
