//! Border coordination: declare once, inspect once. A consignment is
//! declared once ([`Border::declare`]); the agencies whose scope covers it
//! ([`agencies`]) are asked concurrently for their assessments ([`assess`]);
//! the answers are merged into one intervention plan ([`plan`]), every
//! revision ledgered; an agency that is late or down leaves the plan
//! provisional and is asked again by the retry worker ([`worker`]) until it
//! answers. Each agency records its own outcome; when every check has one,
//! the plan carries the release decision.

pub mod agencies;
pub mod assess;
pub mod config;
pub mod countries;
pub mod declaration;
pub mod places;
pub mod plan;
mod record;
pub mod tables;
mod worker;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use chrono::Utc;
use tokio::sync::Notify;

pub use agencies::{Agency, AgencyRegistry};
pub use config::BorderConfig;
pub use declaration::{ConsignmentDeclarationInput, Declaration, DeclarationError};
pub use places::Places;
pub use plan::{OutcomeResult, Plan, PlanStatus};
pub use record::{BorderTotals, ConsignmentPage, PlanView};

use crate::auth::hub_token::HubIdentity;
use crate::auth::{Principal, PrincipalKind};
use crate::error_code::ErrorCode;
use crate::ledger::{Ledger, LedgerError};
use crate::store::StoreError;

/// The scope a principal needs to declare consignments.
pub const DECLARE_SCOPE: &str = "border:declare";
/// The scope that reads every consignment and plan.
pub const READ_SCOPE: &str = "border:read";

/// The ledger kinds border coordination writes.
pub mod ledger_kinds {
    pub const DECLARED: &str = "border.consignment.declared";
    pub const PLAN_REVISED: &str = "border.plan.revised";
    pub const OUTCOME_RECORDED: &str = "border.outcome.recorded";
    pub const RELEASE_DECIDED: &str = "border.release.decided";
}

/// An agencies or places file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct BorderDataError {
    pub file: String,
    pub message: String,
}

/// Everything border coordination can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum BorderError {
    #[error(transparent)]
    Invalid(#[from] DeclarationError),
    #[error("{0}")]
    BadArgument(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the hub is taking in more than it can write just now; retry shortly with the same idempotency key")]
    Busy,
    #[error("the database: {0}")]
    Store(#[from] StoreError),
    #[error("the database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("the ledger: {0}")]
    Ledger(LedgerError),
    #[error("a stored plan or declaration does not read back: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("a background task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A batch written together failed as one; nothing of it was written.
    #[error("not recorded ({0}); send it again with the same idempotency key")]
    Batch(#[source] Arc<BorderError>),
    #[error("the border writer has stopped")]
    Stopped,
}

impl From<LedgerError> for BorderError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Busy { .. } => BorderError::Busy,
            e => BorderError::Ledger(e),
        }
    }
}

impl BorderError {
    /// The `extensions.code` this error is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            BorderError::Invalid(_) | BorderError::BadArgument(_) => ErrorCode::BadUserInput,
            BorderError::Conflict(_) => ErrorCode::Conflict,
            BorderError::NotFound(_) => ErrorCode::NotFound,
            BorderError::Forbidden(_) => ErrorCode::Forbidden,
            BorderError::Busy => ErrorCode::RateLimited,
            BorderError::Batch(inner) => inner.code(),
            BorderError::Stopped
            | BorderError::Store(_)
            | BorderError::Database(_)
            | BorderError::Ledger(_)
            | BorderError::Corrupt(_)
            | BorderError::Task(_) => ErrorCode::InternalServerError,
        }
    }
}

/// The agencies file in force and where it came from.
struct LoadedAgencies {
    registry: Arc<AgencyRegistry>,
    modified: Option<SystemTime>,
}

/// Border coordination for one hub process.
pub struct Border {
    config: BorderConfig,
    ledger: Arc<Ledger>,
    places: Arc<Places>,
    agencies: RwLock<LoadedAgencies>,
    client: assess::AgencyClient,
    /// Agency subgraph name → its URL (`[border.subgraphs]`).
    endpoints: HashMap<String, reqwest::Url>,
    writes: writer::WriteQueue,
    /// Woken when an assessment is left to retry.
    work: Arc<Notify>,
}

impl std::fmt::Debug for Border {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Border").finish_non_exhaustive()
    }
}

fn read_file(path: &std::path::Path) -> Result<(String, Option<SystemTime>), BorderDataError> {
    let text = std::fs::read_to_string(path).map_err(|e| BorderDataError {
        file: path.display().to_string(),
        message: format!("cannot be read: {e}"),
    })?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok((text, modified))
}

/// Loads and checks the places and agencies files `config` names.
pub fn load_data(
    config: &BorderConfig,
) -> Result<(Places, AgencyRegistry, Option<SystemTime>), BorderDataError> {
    let places = match &config.places_file {
        Some(path) => Places::parse(&read_file(path)?.0, &path.display().to_string())?,
        None => Places::builtin()?,
    };
    let (registry, modified) = match &config.agencies_file {
        Some(path) => {
            let (text, modified) = read_file(path)?;
            (
                AgencyRegistry::parse(&text, &path.display().to_string(), &places)?,
                modified,
            )
        }
        None => (
            AgencyRegistry::parse(
                agencies::BUILTIN_AGENCIES,
                "schema/border/agencies.toml",
                &places,
            )?,
            None,
        ),
    };
    Ok((places, registry, modified))
}

impl Border {
    /// Loads the reference data (refusing a file that is not valid). Call
    /// inside a tokio runtime, then [`Border::start_workers`].
    pub fn new(
        config: BorderConfig,
        ledger: Arc<Ledger>,
        identity: Option<Arc<HubIdentity>>,
    ) -> Result<Arc<Border>, BorderDataError> {
        let (places, registry, modified) = load_data(&config)?;
        // Parsed once: a URL parsed on every call shows in the profile.
        let mut endpoints = HashMap::new();
        for (subgraph, url) in &config.subgraphs {
            let parsed = reqwest::Url::parse(url).map_err(|e| BorderDataError {
                file: "[border.subgraphs]".into(),
                message: format!("{subgraph} = {url:?} is not a URL: {e}"),
            })?;
            endpoints.insert(subgraph.clone(), parsed);
        }
        let client = assess::AgencyClient::new(identity, config.assessment_timeout());
        Ok(Arc::new_cyclic(|weak| Border {
            config,
            ledger,
            places: Arc::new(places),
            agencies: RwLock::new(LoadedAgencies {
                registry: Arc::new(registry),
                modified,
            }),
            client,
            endpoints,
            writes: writer::WriteQueue::start(weak.clone()),
            work: Arc::new(Notify::new()),
        }))
    }

    /// The agencies in force.
    pub fn registry(&self) -> Arc<AgencyRegistry> {
        match self.agencies.read() {
            Ok(loaded) => loaded.registry.clone(),
            Err(poisoned) => poisoned.into_inner().registry.clone(),
        }
    }

    /// The URL the hub asks `agency` at, when it is connected.
    pub fn agency_url(&self, agency: &Agency) -> Option<&reqwest::Url> {
        agency.subgraph.as_ref().and_then(|s| self.endpoints.get(s))
    }

    /// Reads the configured agencies file again if it changed. A file that
    /// is not valid is refused whole (the agencies in force stay) and the
    /// error returned.
    pub fn reload_agencies(&self) -> Result<bool, BorderDataError> {
        let Some(path) = &self.config.agencies_file else {
            return Ok(false);
        };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let current = self.agencies.read().map(|l| l.modified).unwrap_or(None);
        if modified.is_some() && modified == current {
            return Ok(false);
        }
        let (text, modified) = read_file(path)?;
        let parsed = AgencyRegistry::parse(&text, &path.display().to_string(), &self.places);
        let mut loaded = match self.agencies.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Not tried again until the file changes once more.
        loaded.modified = modified;
        let registry = parsed?;
        tracing::info!(file = %path.display(), agencies = registry.all().len(), "border agencies reloaded");
        loaded.registry = Arc::new(registry);
        Ok(true)
    }

    /// Declares a consignment under `idempotency_key` and answers with its
    /// plan, complete if every agency in scope answered in time.
    pub async fn declare(
        self: &Arc<Self>,
        input: ConsignmentDeclarationInput,
        idempotency_key: String,
        principal: &Principal,
    ) -> Result<PlanView, BorderError> {
        check_idempotency_key(&idempotency_key)?;
        if !principal.has_scope(DECLARE_SCOPE) {
            return Err(BorderError::Forbidden(format!(
                "declaring a consignment needs the {DECLARE_SCOPE} scope"
            )));
        }
        let registry = self.registry();
        let declaration = input.validate(&self.places, &registry, Utc::now())?;
        let written = self
            .writes
            .write(writer::Job::Declare {
                declaration: Box::new(declaration),
                key: idempotency_key,
                actor: principal.id.clone(),
            })
            .await?;
        let writer::Written::Declared(record::Declared {
            view,
            to_ask,
            token,
        }) = written
        else {
            return Err(BorderError::Stopped);
        };
        if to_ask.is_empty() {
            return Ok(view);
        }
        let answers = self.ask(&view.id, &view.declaration, &to_ask).await;
        let revised = self.record_answers(view.id.clone(), token, answers).await?;
        if revised.plan.status == PlanStatus::Provisional {
            self.work.notify_one();
        }
        Ok(revised)
    }

    /// Records the answers of the agencies the asker holding `token` asked.
    async fn record_answers(
        &self,
        id: String,
        token: String,
        answers: Vec<(String, Result<plan::RiskAssessment, String>)>,
    ) -> Result<PlanView, BorderError> {
        match self
            .writes
            .write(writer::Job::Answers { id, token, answers })
            .await?
        {
            writer::Written::Revised(view) => Ok(view),
            writer::Written::Declared(declared) => Ok(declared.view),
        }
    }

    /// Asks each of `agencies` (ids) concurrently.
    async fn ask(
        &self,
        reference: &str,
        declaration: &Declaration,
        agencies: &[String],
    ) -> Vec<(String, Result<plan::RiskAssessment, String>)> {
        let registry = self.registry();
        let asks = agencies.iter().map(|id| {
            let registry = registry.clone();
            async move {
                let agency = registry.get(id);
                let target =
                    agency.and_then(|a| Some((a.subgraph.as_deref()?, self.agency_url(a)?)));
                let answer = match target {
                    Some((subgraph, url)) => {
                        self.client
                            .assess(subgraph, url, reference, declaration)
                            .await
                    }
                    None => Err(format!("{id} is no longer connected")),
                };
                (id.clone(), answer)
            }
        });
        futures::future::join_all(asks).await
    }

    /// Records `agency`'s outcome for plan `plan_id`, as that agency's principal only.
    pub async fn record_outcome(
        self: &Arc<Self>,
        plan_id: String,
        agency: String,
        result: OutcomeResult,
        notes: String,
        principal: &Principal,
    ) -> Result<PlanView, BorderError> {
        if notes.chars().count() > 2000 {
            return Err(BorderError::BadArgument(
                "notes are at most 2000 characters".into(),
            ));
        }
        let registry = self.registry();
        let Some(known) = registry.get(&agency) else {
            return Err(BorderError::NotFound(format!("agency {agency}")));
        };
        let own = known.is_acted_for_by(principal);
        if !own {
            return Err(BorderError::Forbidden(format!(
                "only {}'s own principal may record its outcome",
                known.name
            )));
        }
        let this = self.clone();
        let actor = principal.id.clone();
        tokio::task::spawn_blocking(move || {
            this.record_outcome_blocking(&plan_id, &agency, result, notes, actor, &registry)
        })
        .await?
    }

    /// A plan by id, if `principal` may see it.
    pub async fn plan(
        self: &Arc<Self>,
        id: String,
        principal: &Principal,
    ) -> Result<Option<PlanView>, BorderError> {
        let this = self.clone();
        let view = tokio::task::spawn_blocking(move || this.load_view(&id)).await??;
        match view {
            Some(view) if self.may_read(principal, &view) => Ok(Some(view)),
            Some(_) => Err(BorderError::Forbidden("this plan is for its declarant, the agencies assessing it and those with the border:read scope".into())),
            None => Ok(None),
        }
    }

    /// Who may see a plan: its declarant, the agencies in it, operators,
    /// and principals with [`READ_SCOPE`].
    pub fn may_read(&self, principal: &Principal, view: &PlanView) -> bool {
        if matches!(principal.kind, PrincipalKind::Operator | PrincipalKind::Hub)
            || principal.has_scope(READ_SCOPE)
            || principal.id == view.declared_by
        {
            return true;
        }
        let registry = self.registry();
        view.plan.parts.iter().any(|p| {
            registry
                .get(&p.agency)
                .is_some_and(|agency| agency.is_acted_for_by(principal))
        })
    }

    /// A page of consignments, oldest first: every one for operators and
    /// [`READ_SCOPE`], otherwise the principal's own declarations.
    pub async fn consignments(
        self: &Arc<Self>,
        trader: Option<String>,
        status: Option<PlanStatus>,
        first: usize,
        after: Option<String>,
        principal: &Principal,
    ) -> Result<ConsignmentPage, BorderError> {
        let trader = trader
            .map(|t| {
                tellonce_identifiers::parse_eori(&t)
                    .map_err(|e| BorderError::BadArgument(format!("trader: {e}")))
            })
            .transpose()?;
        let everyone = matches!(principal.kind, PrincipalKind::Operator | PrincipalKind::Hub)
            || principal.has_scope(READ_SCOPE);
        if principal.is_anonymous() {
            return Err(BorderError::Forbidden(
                "listing consignments needs a credential".into(),
            ));
        }
        let declared_by = (!everyone).then(|| principal.id.clone());
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = this.ledger.store().get()?;
            record::consignment_page(&mut conn, trader, status, declared_by, None, first, after)
        })
        .await?
    }

    /// The plans in which `agency` has checks without an outcome, oldest first.
    pub async fn worklist(
        self: &Arc<Self>,
        agency: String,
        first: usize,
        after: Option<String>,
        principal: &Principal,
    ) -> Result<ConsignmentPage, BorderError> {
        let registry = self.registry();
        let Some(known) = registry.get(&agency) else {
            return Err(BorderError::NotFound(format!("agency {agency}")));
        };
        let own = known.is_acted_for_by(principal);
        if !own && !matches!(principal.kind, PrincipalKind::Operator | PrincipalKind::Hub) {
            return Err(BorderError::Forbidden(format!(
                "only {}'s own principal (or an operator) may read its worklist",
                known.name
            )));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = this.ledger.store().get()?;
            record::consignment_page(&mut conn, None, None, None, Some(agency), first, after)
        })
        .await?
    }

    /// The running totals over every plan.
    pub async fn totals(self: &Arc<Self>) -> Result<BorderTotals, BorderError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = this.ledger.store().get()?;
            record::totals(&mut conn)
        })
        .await?
    }

    /// Starts the retry worker and, for a configured agencies file, the
    /// task that reloads it when it changes.
    pub fn start_workers(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![worker::start(self.clone())];
        if self.config.agencies_file.is_some() {
            let this = Arc::downgrade(self);
            tasks.push(tokio::spawn(async move {
                let mut ticker = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    ticker.tick().await;
                    let Some(border) = this.upgrade() else { return };
                    if let Err(error) = border.reload_agencies() {
                        tracing::error!(%error, "border agencies file refused; the agencies in force stay");
                    }
                }
            }));
        }
        tasks
    }
}

fn check_idempotency_key(key: &str) -> Result<(), BorderError> {
    match crate::idempotency::refusal(key) {
        Some(refusal) => Err(BorderError::BadArgument(refusal)),
        None => Ok(()),
    }
}
