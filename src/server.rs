//! Starting a whole hub: the live gateway (with the hub subgraph in process),
//! hot reload, and the HTTP server, from one [`Config`].

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{web, App, HttpServer};

use crate::config::Config;
use crate::gateway::compose::SubgraphSource;
use crate::gateway::reload::{LiveGateway, ReloadError, SupergraphSource};
use crate::gateway::GatewayOptions;
use crate::http::{self, HttpState};
use crate::hub::{self, HubContext, InProcessTransport, HUB_SUBGRAPH_NAME};

/// The URL the hub subgraph is registered under; it is never dialled.
pub const HUB_SUBGRAPH_URL: &str = "inprocess://hub";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no supergraph to serve: {0}")]
    Supergraph(#[from] ReloadError),
    #[error("cannot start the HTTP server: {0}")]
    Http(std::io::Error),
}

/// A hub serving HTTP; stop it with [`RunningHub::stop`] or let it run.
pub struct RunningHub {
    pub addr: SocketAddr,
    pub gateway: Arc<LiveGateway>,
    server: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl RunningHub {
    /// The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// Stops accepting connections and lets in-flight requests finish.
    pub async fn stop(self) {
        self.watcher.abort();
        self.server.stop(true).await;
        let _ = self.task.await;
    }

    /// Runs until the server stops (SIGINT or SIGTERM stop it gracefully).
    pub async fn wait(self) -> std::io::Result<()> {
        let result = match self.task.await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        };
        self.watcher.abort();
        result
    }
}

/// Where the supergraph comes from for `config`: its file, or the
/// composition of its subgraphs with the hub's own.
pub fn supergraph_source(config: &Config) -> SupergraphSource {
    match &config.supergraph {
        Some(path) => SupergraphSource::File(path.clone()),
        None => SupergraphSource::Composed {
            subgraphs: config.subgraphs.clone(),
            in_process: vec![hub_subgraph_source()],
        },
    }
}

/// The hub's own subgraph as composition sees it.
pub fn hub_subgraph_source() -> SubgraphSource {
    SubgraphSource {
        name: HUB_SUBGRAPH_NAME.into(),
        url: HUB_SUBGRAPH_URL.into(),
        sdl: hub::sdl(),
    }
}

/// Loads the supergraph, binds `config.listen` and serves.
pub async fn start(config: &Config) -> Result<RunningHub, StartError> {
    let listener = TcpListener::bind(config.listen).map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    start_on(config, listener).await
}

/// As [`start`], on a listener the caller bound (tests bind port 0).
pub async fn start_on(config: &Config, listener: TcpListener) -> Result<RunningHub, StartError> {
    let options = GatewayOptions {
        subgraph_timeout: config.gateway.subgraph_timeout(),
        ..GatewayOptions::default()
    };
    let live = Arc::new(LiveGateway::new(supergraph_source(config), options));
    let hub_schema = hub::build_schema(HubContext {
        gateway_status: live.clone(),
    });
    live.set_transport(HUB_SUBGRAPH_NAME, Arc::new(InProcessTransport::new(hub_schema)));
    live.reload().await?;
    let watcher = live.watch(std::time::Duration::from_millis(config.gateway.reload_poll_ms));

    let addr = listener.local_addr().map_err(StartError::Http)?;
    let state = web::Data::new(HttpState {
        gateway: live.clone(),
        max_body_bytes: config.gateway.max_body_bytes,
    });
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new().configure(move |cfg| http::configure(cfg, state))
    })
    .listen(listener)
    .map_err(StartError::Http)?
    .shutdown_timeout(30)
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, "tellonce hub listening");
    Ok(RunningHub {
        addr,
        gateway: live,
        server: handle,
        task,
        watcher,
    })
}
