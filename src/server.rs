//! Starting a whole hub: the live gateway (with the hub subgraph in process),
//! hot reload, and the HTTP server, from one [`Config`].

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use std::time::Duration;

use actix_http::{HttpService, KeepAlive};
use actix_service::{fn_factory, fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use actix_web::{web, App};

use crate::auth::hub_token::HubIdentity;
use crate::auth::jwt::JwtVerifier;
use crate::auth::rate_limit::RateLimiter;
use crate::auth::Authenticator;
use crate::border::{Border, BorderDataError};
use crate::config::Config;
use crate::events::{Broker, LedgerTail};
use crate::gateway::compose::SubgraphSource;
use crate::gateway::headers::{IdentityTokens, OutboundHeaders};
use crate::gateway::reload::{LiveGateway, ReloadError, SupergraphSource};
use crate::gateway::trusted_documents::TrustedDocuments;
use crate::gateway::{Authorization, GatewayOptions};
use crate::http::{self, HttpState};
use crate::hub::{self, HubContext, InProcessTransport, HUB_SUBGRAPH_NAME};
use crate::ledger::{Ledger, LedgerError};
use crate::tellonce::live_feed::LiveFeeds;
use crate::tellonce::TellOnce;

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
    #[error("cannot open the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("routing rules: {0}")]
    Routes(#[from] crate::tellonce::RouteError),
    #[error("cannot start the HTTP server: {0}")]
    Http(std::io::Error),
    #[error("border agencies: {0}")]
    Border(#[from] BorderDataError),
    #[error("the hub's identity key: {0}")]
    Identity(#[from] crate::auth::hub_token::HubTokenError),
    #[error("[auth.jwt]: {0}")]
    Jwt(#[from] crate::auth::jwt::JwtError),
    #[error("{0}")]
    RateLimit(#[from] crate::auth::rate_limit::RateLimitError),
    #[error("trusted documents: {0}")]
    TrustedDocuments(#[from] crate::gateway::trusted_documents::TrustedDocumentError),
    #[error("[events] redis_url is not a usable Redis URL: {0}")]
    Events(#[from] redis::RedisError),
}

/// A hub serving HTTP; stop it with [`RunningHub::stop`] or let it run.
pub struct RunningHub {
    pub addr: SocketAddr,
    pub gateway: Arc<LiveGateway>,
    pub ledger: Arc<Ledger>,
    server: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningHub {
    /// The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// The hub's root URL, e.g. `http://127.0.0.1:4000`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and lets in-flight requests finish.
    pub async fn stop(self) {
        self.background.iter().for_each(|task| task.abort());
        self.server.stop(true).await;
        let _ = self.task.await;
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully: no new
    /// connections, requests in flight finish.
    pub async fn serve_until(mut self, mut signals: ShutdownSignals) -> std::io::Result<()> {
        tokio::select! {
            finished = &mut self.task => {
                self.background.iter().for_each(|task| task.abort());
                match finished {
                    Ok(result) => result,
                    Err(error) => Err(std::io::Error::other(error)),
                }
            }
            signal = signals.recv() => {
                tracing::info!(signal, "stopping gracefully");
                self.stop().await;
                Ok(())
            }
        }
    }
}

/// SIGINT and SIGTERM, listened for from the moment of [`ShutdownSignals::install`]
/// so that a signal sent as soon as the hub says it is up is never lost.
pub struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Must be called inside the tokio runtime.
    pub fn install() -> std::io::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Waits for the next shutdown signal and names it.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
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

/// Blocking threads per HTTP worker at most.
const MAX_BLOCKING_THREADS: usize = 16;

/// As [`start`], on a listener the caller bound (tests bind port 0).
pub async fn start_on(config: &Config, listener: TcpListener) -> Result<RunningHub, StartError> {
    if config.telemetry.metrics {
        crate::telemetry::install_metrics();
    }
    let ledger = open_ledger(config).await?;
    let identity_path = config
        .auth
        .identity_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("hub-identity.key"));
    let identity = Arc::new(HubIdentity::load_or_create(
        &identity_path,
        &config.auth.issuer,
    )?);
    let outbound_headers = OutboundHeaders::new(
        config.headers.clone(),
        Some(identity.clone() as Arc<dyn IdentityTokens>),
    );
    let propagated_headers = outbound_headers.propagated();
    let options = GatewayOptions {
        subgraph_timeout: config.gateway.subgraph_timeout(),
        subgraph_timeouts: config.gateway.subgraph_timeouts(),
        outbound_dedup: config.gateway.outbound_dedup,
        subscription_dedup: config.gateway.subscription_dedup,
        outbound_headers,
        authorization: Some(Arc::new(Authorization::new(config.authorization.clone()))),
        mutation_audit: Some(Arc::new(hub::MutationLedger::new(
            ledger.clone(),
            [HUB_SUBGRAPH_NAME.to_string()],
        ))),
        ..GatewayOptions::default()
    };
    let jwt = if config.auth.jwt.enabled() {
        Some(Arc::new(JwtVerifier::load(config.auth.jwt.clone()).await?))
    } else {
        None
    };
    let authenticator = Arc::new(Authenticator::new(
        ledger.store().clone(),
        jwt.clone(),
        &config.auth,
    ));
    let rate_limiter = Arc::new(RateLimiter::connect(&config.rate_limit).await?);
    let trusted_documents = Arc::new(TrustedDocuments::new(&config.trusted_documents)?);
    let live = Arc::new(LiveGateway::new(supergraph_source(config), options));
    let tellonce = TellOnce::new(config.tellonce.clone(), ledger.clone(), live.clone())?;
    let border = Border::new(
        config.border.clone(),
        ledger.clone(),
        Some(identity.clone()),
    )?;
    let broker = match &config.events.redis_url {
        Some(url) => Broker::redis(url, &ledger.options().origin)?,
        None => Broker::InProcess,
    };
    let (tail, tail_tasks) = LedgerTail::start(ledger.clone(), broker, &config.events).await?;
    let hub_schema = hub::build_schema(HubContext {
        gateway_status: live.clone(),
        ledger: ledger.clone(),
        tellonce: Some(tellonce.clone()),
        border: Some(border.clone()),
        live_feeds: Some(LiveFeeds::new(
            tellonce.clone(),
            tail.clone(),
            config.events.subscriber_buffer,
        )),
        tail: Some(tail),
    });
    live.set_transport(
        HUB_SUBGRAPH_NAME,
        Arc::new(InProcessTransport::new(hub_schema)),
    );
    live.reload().await?;
    tellonce.check_routes()?;
    let watcher = live.watch(std::time::Duration::from_millis(
        config.gateway.reload_poll_ms,
    ));
    let witnesses = crate::ledger::witness::WitnessClient::new(&config.ledger.witnesses)?;
    let checkpointer = issue_checkpoints(
        ledger.clone(),
        config.ledger.checkpoint_every_seconds,
        witnesses,
    );
    let mut background = vec![watcher, checkpointer];
    background.extend(tail_tasks);
    background.extend(jwt.as_ref().and_then(|jwt| jwt.spawn_refresh()));
    background.extend(tellonce.start_workers());
    background.extend(border.start_workers());

    let addr = listener.local_addr().map_err(StartError::Http)?;
    let state = web::Data::new(HttpState {
        gateway: live.clone(),
        ledger: ledger.clone(),
        max_body_bytes: config.gateway.max_body_bytes,
        inbound_dedup: config
            .gateway
            .inbound_dedup
            .then(|| crate::http::InboundDedup::on_runtime(tokio::runtime::Handle::current())),
        authenticator,
        rate_limiter,
        trusted_documents,
        limits: Arc::new(config.limits.clone()),
        propagated_headers,
        identity: Some(identity),
        graphiql: http::GraphiqlSettings {
            endpoint: "/graphql".into(),
            query: config.graphiql_query.clone(),
            headers: config.graphiql_headers.clone(),
        },
        subscription_limits: Default::default(),
        sse_streams: Default::default(),
        metrics_path: config
            .telemetry
            .metrics
            .then(|| config.telemetry.metrics_path.clone()),
    });
    let server = http_server(state, listener, addr)?;
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, "tellonce hub listening");
    Ok(RunningHub {
        addr,
        gateway: live,
        ledger,
        server: handle,
        task,
        background,
    })
}

/// The HTTP server: the actix-web application for requests, and WebSocket
/// handshakes handed to [`http::serve_upgrade`] with their socket, so an open
/// WebSocket keeps none of the HTTP/1 dispatcher's buffers.
fn http_server(
    state: web::Data<HttpState>,
    listener: TcpListener,
    addr: SocketAddr,
) -> Result<actix_server::Server, StartError> {
    let builder = actix_server::Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder
        // Signals are ours (ShutdownSignals), so several servers in one
        // process (the demo, tests) stop in the order we choose.
        .disable_signals()
        .shutdown_timeout(30)
        // Blocking work on the workers is store reads (the pool holds 8
        // connections) and preparing documents (a few at a time): beyond
        // this many threads, more only wait, and each would keep its stack
        // and allocator heap (10,000 subscribers opening at once grew 250
        // threads and half a gigabyte).
        .worker_max_blocking_threads(MAX_BLOCKING_THREADS)
        .listen("tellonce-http", listener, move || {
            let app_state = state.clone();
            let app = App::new()
                .configure(move |cfg| http::configure(cfg, app_state))
                .into_factory()
                .map_err(|error: actix_web::Error| error.error_response());
            let upgrade_state = state.clone();
            let (closing, upgrade_closing) = (shutdown.clone(), shutdown.clone());
            let upgrade = fn_factory(move || {
                let (state, closing) = (upgrade_state.clone(), upgrade_closing.clone());
                async move {
                    Ok::<_, ()>(fn_service(move |(request, framed)| {
                        http::serve_upgrade(state.clone(), closing.clone(), request, framed)
                    }))
                }
            });
            // The settings actix-web's own server gives a connection.
            HttpService::build()
                .graceful_shutdown_signal(move || {
                    let closing = closing.clone();
                    async move { closing.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(addr)
                .upgrade(upgrade)
                // The application's host and address come from each request
                // (nothing reads the configured defaults).
                .finish(map_config(app, |_| AppConfig::default()))
                .tcp()
        })
        .map_err(StartError::Http)?
        .run();
    Ok(server)
}

/// Opens (and on first start creates) the ledger off the async threads.
async fn open_ledger(config: &Config) -> Result<Arc<Ledger>, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| {
        StartError::Ledger(LedgerError::Storage(format!(
            "cannot create the data directory {}: {source}",
            config.data_dir.display()
        )))
    })?;
    let config = config.clone();
    let ledger = tokio::task::spawn_blocking(move || config.open_ledger())
        .await
        .map_err(|error| StartError::Ledger(LedgerError::Storage(error.to_string())))??;
    Ok(Arc::new(ledger))
}

/// Issues a checkpoint whenever one is due by age, even when no append
/// comes along to trigger it.
fn issue_checkpoints(
    ledger: Arc<Ledger>,
    every_seconds: u64,
    witnesses: Option<crate::ledger::witness::WitnessClient>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker =
            tokio::time::interval(std::time::Duration::from_secs(every_seconds.max(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let issuing = ledger.clone();
            match tokio::task::spawn_blocking(move || issuing.checkpoint_if_due()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "checkpoint not issued"),
                Err(error) => tracing::warn!(%error, "checkpoint task failed"),
            }
            if let Some(witnesses) = &witnesses {
                for error in witnesses.cosign_latest(&ledger).await {
                    tracing::warn!(%error, "checkpoint not cosigned");
                }
            }
        }
    })
}
