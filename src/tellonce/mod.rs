//! Tell us once: a life event submitted once is recorded in the ledger with
//! one outbox row per department in one transaction ([`submit`]), delivered
//! through the federation executor by workers that retry with backoff and
//! dead-letter what they cannot deliver ([`delivery`], [`outbox`]), and can
//! be followed per department ([`status`]). Routing rules are data
//! ([`routes`]) checked against the supergraph in force ([`route_check`]).

pub mod config;
pub mod delivery;
pub mod erasure;
pub mod event;
pub mod live_feed;
pub mod outbox;
pub mod route_check;
pub mod routes;
pub mod status;
pub mod submit;
pub mod tables;
pub mod trail;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

pub use config::TellOnceConfig;
pub use event::{EventError, LifeEvent, LifeEventInput, LifeEventType};
pub use route_check::CheckedRoutes;
pub use routes::{RouteError, RouteRule};
pub use submit::LifeEventReceipt;

use crate::error_code::ErrorCode;
use crate::gateway::reload::LiveGateway;
use crate::ledger::{Ledger, LedgerError};
use crate::store::StoreError;

/// Everything tell-us-once can refuse or fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TellOnceError {
    #[error(transparent)]
    Invalid(#[from] EventError),
    #[error("idempotency key {0:?} was already used for a different life event")]
    Conflict(String),
    #[error("the routing rules do not fit the supergraph in force: {0}")]
    Routes(#[from] RouteError),
    #[error("{event} is already recorded for this subject with a different {}; a second report is not a correction: if the recorded facts are wrong, ask the hub's operators to correct them", .fields.join(", "))]
    Contradicts {
        event: &'static str,
        /// The input paths whose values differ from the recorded event's.
        fields: Vec<String>,
    },
    #[error("this supergraph does not serve tell us once")]
    NotServed,
    #[error("no supergraph is loaded yet")]
    NotReady,
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("the event was not recorded: the database could not be reached or refused the write, and nothing was written; submit it again with the same idempotency key")]
    Unavailable(String),
    #[error("storage: {0}")]
    Storage(String),
    #[error("the hub is taking in more life events than it can write just now; retry shortly with the same idempotency key")]
    Busy,
    #[error("{0}")]
    Forbidden(String),
}

impl TellOnceError {
    /// The `extensions.code` this error is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            TellOnceError::Invalid(_) | TellOnceError::BadArgument(_) => ErrorCode::BadUserInput,
            TellOnceError::Conflict(_) | TellOnceError::Contradicts { .. } => ErrorCode::Conflict,
            TellOnceError::NotFound(_) => ErrorCode::NotFound,
            TellOnceError::Busy => ErrorCode::RateLimited,
            TellOnceError::Forbidden(_) => ErrorCode::Forbidden,
            TellOnceError::Routes(_)
            | TellOnceError::NotServed
            | TellOnceError::NotReady
            | TellOnceError::Unavailable(_)
            | TellOnceError::Storage(_) => ErrorCode::InternalServerError,
        }
    }
}

/// A registrar may tell any life event; a citizen only one about themselves
/// (the event's National Insurance number is their token's).
fn may_tell(
    principal: &crate::auth::Principal,
    event: &crate::tellonce::event::LifeEvent,
) -> Result<(), TellOnceError> {
    use crate::auth::PrincipalKind;
    match principal.kind {
        PrincipalKind::Registrar => Ok(()),
        PrincipalKind::Citizen => {
            let own = event.subject.scheme == "nino"
                && principal.nino.as_deref() == Some(event.subject.value.as_str());
            if own {
                Ok(())
            } else {
                Err(TellOnceError::Forbidden(
                    "a citizen may tell only life events about themselves: the event's National Insurance number must be their own".into(),
                ))
            }
        }
        PrincipalKind::Anonymous => Err(TellOnceError::Forbidden(
            "telling a life event needs a registrar's or citizen's credential".into(),
        )),
        other => Err(TellOnceError::Forbidden(format!(
            "a {other} principal may not tell life events; registrars and citizens may"
        ))),
    }
}

impl From<diesel::result::Error> for TellOnceError {
    fn from(e: diesel::result::Error) -> Self {
        TellOnceError::Storage(e.to_string())
    }
}

impl From<StoreError> for TellOnceError {
    fn from(e: StoreError) -> Self {
        TellOnceError::Storage(e.to_string())
    }
}

impl From<LedgerError> for TellOnceError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Busy { .. } => TellOnceError::Busy,
            e => TellOnceError::Storage(e.to_string()),
        }
    }
}

/// The outcome of checking the rules against one supergraph.
type RouteCheck = Result<Option<Arc<CheckedRoutes>>, RouteError>;

/// The tell-us-once service of one hub process.
pub struct TellOnce {
    config: TellOnceConfig,
    ledger: Arc<Ledger>,
    gateway: Arc<LiveGateway>,
    rules: Vec<RouteRule>,
    checked: Mutex<Option<(String, RouteCheck)>>,
    submissions: submit::SubmissionQueue,
    /// Woken when new notifications are written, so idle workers start at once.
    work: Arc<Notify>,
}

impl std::fmt::Debug for TellOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TellOnce")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl TellOnce {
    /// Loads the routing rules and starts the submission writer. Call
    /// inside a tokio runtime; check the rules with [`TellOnce::check_routes`]
    /// once the gateway has loaded, then start [`TellOnce::start_workers`].
    pub fn new(
        config: TellOnceConfig,
        ledger: Arc<Ledger>,
        gateway: Arc<LiveGateway>,
    ) -> Result<Arc<TellOnce>, RouteError> {
        let rules = match &config.routes_dir {
            Some(dir) => routes::load_rules(dir)?,
            None => routes::builtin_rules()?,
        };
        routes::check_every_event_routed(&rules)?;
        let work = Arc::new(Notify::new());
        let tellonce = Arc::new_cyclic(|weak| TellOnce {
            submissions: submit::SubmissionQueue::start(weak.clone(), config.submit_batch),
            config,
            ledger,
            gateway,
            rules,
            checked: Mutex::new(None),
            work,
        });
        Ok(tellonce)
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    pub fn config(&self) -> &TellOnceConfig {
        &self.config
    }

    /// The departments some routing rule tells, sorted.
    pub fn departments(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.rules.iter().map(|r| r.department.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// `Ok` when a routing rule tells `department`; otherwise `NotFound`
    /// naming the departments there are.
    pub fn known_department(&self, department: &str) -> Result<(), TellOnceError> {
        let departments = self.departments();
        if departments.contains(&department) {
            return Ok(());
        }
        Err(TellOnceError::NotFound(format!(
            "department {department:?} (no routing rule tells it; the departments are {})",
            departments.join(", ")
        )))
    }

    /// The rules checked against the supergraph in force (checked again
    /// whenever the supergraph changes). `None` when the supergraph does not
    /// serve tell-us-once.
    pub fn check_routes(&self) -> Result<Option<Arc<CheckedRoutes>>, RouteError> {
        let Some(gateway) = self.gateway.current() else {
            return Ok(None);
        };
        let hash = gateway.supergraph().hash().to_owned();
        if let Ok(guard) = self.checked.lock() {
            if let Some((checked_hash, result)) = guard.as_ref() {
                if *checked_hash == hash {
                    return result.clone();
                }
            }
        }
        let result = route_check::check_routes(
            &self.rules,
            gateway.supergraph(),
            self.config.routes_dir.is_none(),
        )
        .map(|r| r.map(Arc::new));
        match &result {
            Ok(Some(_)) => {
                tracing::info!(supergraph_hash = %hash, rules = self.rules.len(), "routing rules checked")
            }
            Ok(None) => {
                tracing::info!(supergraph_hash = %hash, "the supergraph has no LifeEventInput: tell us once is not served")
            }
            Err(error) => tracing::error!(%error, supergraph_hash = %hash, "routing rules refused"),
        }
        if let Ok(mut guard) = self.checked.lock() {
            *guard = Some((hash, result.clone()));
        }
        result
    }

    /// Records `event` under `idempotency_key` and answers with its receipt.
    pub async fn tell_us_once(
        &self,
        event: LifeEventInput,
        idempotency_key: String,
        principal: &crate::auth::Principal,
    ) -> Result<LifeEventReceipt, TellOnceError> {
        if let Some(refusal) = crate::idempotency::refusal(&idempotency_key) {
            return Err(TellOnceError::BadArgument(refusal));
        }
        let event = event.validate()?;
        may_tell(principal, &event)?;
        let routes = match self.gateway.current() {
            None => return Err(TellOnceError::NotReady),
            Some(_) => self.check_routes()?.ok_or(TellOnceError::NotServed)?,
        };
        let receipt = self
            .submissions
            .submit(event, idempotency_key, routes, principal.id.clone())
            .await?;
        self.work.notify_waiters();
        Ok(receipt)
    }

    /// Starts the configured delivery workers and the task that re-checks
    /// the rules when the supergraph changes.
    pub fn start_workers(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = delivery::start_workers(self.clone());
        tasks.push(self.watch_supergraph());
        tasks
    }

    fn watch_supergraph(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                ticker.tick().await;
                let Some(tellonce) = this.upgrade() else {
                    return;
                };
                let _ = tellonce.check_routes();
            }
        })
    }

    fn gateway(&self) -> &Arc<LiveGateway> {
        &self.gateway
    }

    fn work(&self) -> &Arc<Notify> {
        &self.work
    }
}
