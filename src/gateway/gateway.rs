//! The gateway: one supergraph, its subgraph transports and health, and the
//! request pipeline (prepare, coerce variables, execute the plan, shape the
//! response).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::data::{Data, Object};

use super::authorize::{errors_for, remove_fields, Authorization};
use super::context::RequestContext;
use super::executor::{Executor, SharedAnswer};
use super::headers::OutboundHeaders;
use super::health::{SubgraphHealth, SubgraphStatus};
use super::http_transport::{HttpTransport, SubgraphClients};
use super::limits::RequestLimits;
use super::mutation_audit::MutationAudit;
use super::operation::OperationKind;
use super::outbound_dedup::OutboundDedup;
use super::prepare::{operation_kind, parse, prepare_off_thread, PreparedOperation};
use super::projection::Projection;
use super::request::GraphQLRequest;
use super::response::{to_json, GraphQLError, GraphQLResponse, ResponseBody};
use super::shared_subscription::SharedSubscriptions;
use super::supergraph::Supergraph;
use super::transport::SubgraphTransport;
use crate::error_code::ErrorCode;
use crate::telemetry::measure::{self, RequestOutcome};

/// How a gateway reaches its subgraphs.
#[derive(Clone)]
pub struct GatewayOptions {
    /// Timeout of one subgraph call unless `subgraph_timeouts` names the subgraph.
    pub subgraph_timeout: Duration,
    pub subgraph_timeouts: HashMap<String, Duration>,
    /// Transports used instead of HTTP for the named subgraphs (e.g. the
    /// in-process hub subgraph).
    pub transports: HashMap<String, Arc<dyn SubgraphTransport>>,
    /// Identical subgraph requests of queries in flight share one call.
    pub outbound_dedup: bool,
    /// Identical subscriptions share one run (see `shared_subscription`).
    pub subscription_dedup: bool,
    /// Which headers each subgraph call carries.
    pub outbound_headers: OutboundHeaders,
    /// Directive and public-field rules; `None` lets every request see everything.
    pub authorization: Option<Arc<Authorization>>,
    /// Where clients' mutations are recorded before they reach a subgraph.
    pub mutation_audit: Option<Arc<dyn MutationAudit>>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            subgraph_timeout: Duration::from_secs(30),
            subgraph_timeouts: HashMap::new(),
            transports: HashMap::new(),
            outbound_dedup: true,
            subscription_dedup: true,
            outbound_headers: OutboundHeaders::default(),
            authorization: None,
            mutation_audit: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot build the subgraph HTTP client: {0}")]
    HttpClient(String),
}

/// Serves one supergraph.
pub struct Gateway {
    pub(super) supergraph: Arc<Supergraph>,
    pub(super) transports: HashMap<String, Arc<dyn SubgraphTransport>>,
    pub(super) health: Arc<SubgraphHealth>,
    pub(super) outbound_dedup: Option<OutboundDedup<SharedAnswer>>,
    pub(super) outbound_headers: OutboundHeaders,
    pub(super) authorization: Option<Arc<Authorization>>,
    pub(super) mutation_audit: Option<Arc<dyn MutationAudit>>,
    pub(super) shared_subscriptions: Option<SharedSubscriptions>,
}

/// What preparing a document gave: the operation, or the errors refusing it.
type Preparation = Result<Arc<PreparedOperation>, Vec<GraphQLError>>;

/// A request's operation as [`Gateway::prepared`] found it, prepared or
/// refused (`None`: the request has no document to prepare).
pub struct Prepared(Option<Preparation>);

impl Prepared {
    /// The kind of a valid operation.
    pub fn kind(&self) -> Option<OperationKind> {
        match &self.0 {
            Some(Ok(prepared)) => Some(prepared.kind),
            _ => None,
        }
    }
}

impl Gateway {
    /// HTTP transports for every `join__Graph` URL, except the subgraphs
    /// `options.transports` provides.
    pub fn from_supergraph(
        supergraph: Arc<Supergraph>,
        options: GatewayOptions,
    ) -> Result<Gateway, GatewayError> {
        let clients = Arc::new(SubgraphClients::default());
        // Built now so that a client that cannot be built stops the gateway
        // from loading instead of failing every call.
        clients
            .client()
            .map_err(|e| GatewayError::HttpClient(e.to_string()))?;
        let mut transports: HashMap<String, Arc<dyn SubgraphTransport>> = HashMap::new();
        for subgraph in supergraph.subgraphs() {
            let timeout = options
                .subgraph_timeouts
                .get(&subgraph.name)
                .copied()
                .unwrap_or(options.subgraph_timeout);
            transports.insert(
                subgraph.name.clone(),
                Arc::new(HttpTransport::new(
                    clients.clone(),
                    &subgraph.name,
                    &subgraph.url,
                    timeout,
                )),
            );
        }
        transports.extend(options.transports);
        let health = Arc::new(SubgraphHealth::new(
            supergraph
                .subgraphs()
                .iter()
                .map(|s| (s.name.as_str(), s.url.as_str())),
        ));
        Ok(Gateway {
            supergraph,
            transports,
            health,
            outbound_dedup: options.outbound_dedup.then(OutboundDedup::default),
            outbound_headers: options.outbound_headers,
            authorization: options.authorization,
            mutation_audit: options.mutation_audit,
            shared_subscriptions: options
                .subscription_dedup
                .then(SharedSubscriptions::default),
        })
    }

    /// Replaces (or adds) the transport of one subgraph.
    pub fn with_transport(mut self, name: &str, transport: Arc<dyn SubgraphTransport>) -> Self {
        self.transports.insert(name.to_string(), transport);
        self
    }

    pub fn supergraph(&self) -> &Arc<Supergraph> {
        &self.supergraph
    }

    pub fn subgraph_health(&self) -> Vec<SubgraphStatus> {
        self.health.snapshot()
    }

    /// The kind of the operation a request would run, for the HTTP layer
    /// (a mutation over GET is refused). Errors are request errors.
    pub fn operation_kind(
        &self,
        request: &GraphQLRequest,
        limits: &RequestLimits,
    ) -> Result<OperationKind, GraphQLResponse> {
        let query = query_of(request)?;
        operation_kind(query, request.operation_name.as_deref(), limits)
            .map_err(GraphQLResponse::request_error)
    }

    /// The request's operation prepared (off the HTTP worker when it is
    /// new) or refused, for [`Gateway::execute_prepared_to_json`] to run
    /// without preparing it again.
    pub async fn prepared(&self, request: &GraphQLRequest, context: &RequestContext) -> Prepared {
        let Some(query) = request.query.as_deref() else {
            return Prepared(None);
        };
        Prepared(Some(
            self.prepare(query, request.operation_name.as_deref(), context)
                .await,
        ))
    }

    /// The prepared operation for `query` under `context`'s limits.
    async fn prepare(
        &self,
        query: &str,
        operation_name: Option<&str>,
        context: &RequestContext,
    ) -> Result<Arc<PreparedOperation>, Vec<GraphQLError>> {
        prepare_off_thread(
            &self.supergraph,
            query,
            operation_name,
            &context.limits,
            context.internal,
        )
        .await
    }

    /// Runs one request anonymously under the default limits.
    pub async fn execute(&self, request: GraphQLRequest) -> GraphQLResponse {
        self.execute_in(request, &RequestContext::anonymous()).await
    }

    /// Runs one request to completion in `context`. Never panics on bad
    /// input; subgraph failures become errors beside partial data.
    pub async fn execute_in(
        &self,
        request: GraphQLRequest,
        context: &RequestContext,
    ) -> GraphQLResponse {
        match self.run_with_deadline(request, None, context).await {
            Ok(executed) => executed.into_response(),
            Err(response) => response,
        }
    }

    /// As [`Gateway::execute_in`], answering with the response's JSON text:
    /// `data` is written while it is shaped, never held as a tree.
    pub async fn execute_to_json(
        &self,
        request: GraphQLRequest,
        context: &RequestContext,
    ) -> ResponseBody {
        match self.run_with_deadline(request, None, context).await {
            Ok(executed) => executed.into_body(),
            Err(response) => ResponseBody::of(&response),
        }
    }

    /// As [`Gateway::execute_to_json`], for a request [`Gateway::prepared`]
    /// already prepared (or refused) on this gateway.
    pub async fn execute_prepared_to_json(
        &self,
        request: GraphQLRequest,
        prepared: Prepared,
        context: &RequestContext,
    ) -> ResponseBody {
        match self.run_with_deadline(request, prepared.0, context).await {
            Ok(executed) => executed.into_body(),
            Err(response) => ResponseBody::of(&response),
        }
    }

    /// [`Gateway::run`] under the request timeout: past it the request is
    /// answered with `TIMEOUT` and its subgraph calls are dropped.
    async fn run_with_deadline(
        &self,
        request: GraphQLRequest,
        known: Option<Preparation>,
        context: &RequestContext,
    ) -> Result<Executed, GraphQLResponse> {
        let deadline = Duration::from_millis(context.limits.request_timeout_ms);
        let started = std::time::Instant::now();
        let mut kind = None;
        let (result, outcome) = match tokio::time::timeout(
            deadline,
            self.run(request, known, context, &mut kind),
        )
        .await
        {
            Ok(Ok(executed)) => {
                let outcome = if executed.errors.is_empty() {
                    RequestOutcome::Ok
                } else {
                    RequestOutcome::Errors
                };
                (Ok(executed), outcome)
            }
            Ok(Err(refused)) => (Err(refused), RequestOutcome::Refused),
            Err(_) => (
                Err(GraphQLResponse::request_error(GraphQLError::new(
                    format!(
                        "the request took longer than {} ms (limit request_timeout_ms)",
                        context.limits.request_timeout_ms
                    ),
                    ErrorCode::Timeout,
                ))),
                RequestOutcome::Timeout,
            ),
        };
        measure::request(kind, outcome, started.elapsed());
        result
    }

    /// Prepares a request, applies the authorization rules and coerces its
    /// variables: everything before execution, shared by every transport.
    /// Prepares the request (unless `known` is what preparing it gave),
    /// authorizes it and coerces its variables.
    pub(super) async fn admit(
        &self,
        request: &GraphQLRequest,
        known: Option<Preparation>,
        context: &RequestContext,
    ) -> Result<Admitted, GraphQLResponse> {
        let query = query_of(request)?;
        let preparation = match known {
            Some(preparation) => preparation,
            None => {
                self.prepare(query, request.operation_name.as_deref(), context)
                    .await
            }
        };
        let mut prepared = preparation.map_err(request_errors)?;
        let mut denied_errors = Vec::new();
        if let (Some(authorization), false) = (&self.authorization, context.internal) {
            let denied = authorization.unauthorized(&prepared.guarded, &context.principal);
            if !denied.is_empty() {
                denied_errors = errors_for(&denied);
                if authorization.reject_unauthorized() {
                    return Err(request_errors(denied_errors));
                }
                let coordinates: HashSet<(String, String)> = denied
                    .iter()
                    .map(|g| (g.parent.clone(), g.field.clone()))
                    .collect();
                let document =
                    parse(query, &context.limits).map_err(|error| request_errors(vec![error]))?;
                let Some(filtered) = remove_fields(&document, &coordinates, &self.supergraph.api)
                else {
                    return Err(request_errors(denied_errors));
                };
                prepared = self
                    .prepare(
                        &filtered.to_string(),
                        request.operation_name.as_deref(),
                        context,
                    )
                    .await
                    .map_err(request_errors)?;
            }
        }
        let variables = super::variables::coerce_variables(
            &prepared.variable_definitions,
            request.variables.as_ref(),
            self.schema_for(&prepared),
        )
        .map_err(|e| {
            GraphQLResponse::request_error(GraphQLError::new(
                e.to_string(),
                ErrorCode::BadUserInput,
            ))
        })?;
        Ok(Admitted {
            prepared,
            denied_errors,
            variables,
        })
    }

    /// The schema an operation is shaped against.
    pub(super) fn schema_for(
        &self,
        prepared: &PreparedOperation,
    ) -> &super::schema_index::SchemaIndex {
        if prepared.internal {
            &self.supergraph.internal
        } else {
            &self.supergraph.api
        }
    }

    /// Prepares, executes and shapes one request; a request error is `Err`.
    async fn run(
        &self,
        request: GraphQLRequest,
        known: Option<Preparation>,
        context: &RequestContext,
        kind: &mut Option<OperationKind>,
    ) -> Result<Executed, GraphQLResponse> {
        let admitted = self.admit(&request, known, context).await?;
        *kind = Some(admitted.prepared.kind);
        if admitted.prepared.kind == OperationKind::Subscription {
            return Err(GraphQLResponse::request_error(GraphQLError::new(
                "Subscriptions are served over WebSocket, Server-Sent Events or multipart \
                 HTTP (Accept: text/event-stream or multipart/mixed), not as one response.",
                ErrorCode::BadUserInput,
            )));
        }
        let Admitted {
            prepared,
            mut denied_errors,
            variables,
        } = admitted;
        let (data, mut errors) = match prepared.plan.as_ref().and_then(|p| p.root.as_ref()) {
            Some(root) => {
                let mut executor = Executor::new(
                    &self.supergraph.internal,
                    &self.transports,
                    &self.health,
                    &variables,
                    context,
                    &self.outbound_headers,
                );
                match (prepared.kind, &self.mutation_audit) {
                    (OperationKind::Query, _) => {
                        if let Some(dedup) = &self.outbound_dedup {
                            executor = executor.sharing_calls(dedup);
                        }
                    }
                    // The hub's own delivery records its calls itself.
                    (OperationKind::Mutation, Some(audit)) if !context.internal => {
                        executor = executor.auditing(audit.as_ref());
                    }
                    _ => {}
                }
                executor.run(root).await;
                let state = executor.into_state();
                (state.data, state.errors)
            }
            None => (Data::Object(Object::new()), Vec::new()),
        };
        denied_errors.append(&mut errors);
        Ok(self.shape(&prepared, &variables, &data, denied_errors))
    }

    /// Writes the response text of executed `data` in the operation's shape.
    pub(super) fn shape(
        &self,
        prepared: &PreparedOperation,
        variables: &Map<String, Json>,
        data: &Data,
        mut errors: Vec<GraphQLError>,
    ) -> Executed {
        let hint = prepared.response_size_hint.load(Ordering::Relaxed);
        let mut json = Vec::with_capacity(hint.clamp(4096, MAX_SIZE_HINT));
        json.extend_from_slice(DATA_PREFIX);
        Projection::new(self.schema_for(prepared), variables, &mut errors, &mut json).root(
            data,
            &prepared.root_type,
            &prepared.shape,
        );
        prepared
            .response_size_hint
            .store(json.len() + json.len() / 8, Ordering::Relaxed);
        Executed {
            json,
            errors,
            cost: prepared.measure.cost,
        }
    }
}

/// A request ready to execute.
pub(super) struct Admitted {
    pub prepared: Arc<PreparedOperation>,
    /// Fields removed because the principal may not see them, reported
    /// beside the data.
    pub denied_errors: Vec<GraphQLError>,
    pub variables: Map<String, Json>,
}

/// The largest response buffer reserved up front from an earlier response.
const MAX_SIZE_HINT: usize = 4 << 20;

/// Every executed response starts so; the projection writes `data` after it.
const DATA_PREFIX: &[u8] = b"{\"data\":";

/// An executed request: its response text up to and including `data`, and
/// the errors to follow it.
pub(super) struct Executed {
    json: Vec<u8>,
    errors: Vec<GraphQLError>,
    /// The operation's estimated cost, reported in `extensions.cost`.
    cost: u64,
}

impl Executed {
    pub(super) fn into_body(self) -> ResponseBody {
        let Executed {
            mut json,
            errors,
            cost,
        } = self;
        if !errors.is_empty() {
            json.extend_from_slice(b",\"errors\":");
            json.extend_from_slice(&to_json(&errors));
        }
        json.extend_from_slice(b",\"extensions\":{\"cost\":{\"estimated\":");
        json.extend_from_slice(cost.to_string().as_bytes());
        json.extend_from_slice(b"}}}");
        ResponseBody {
            json,
            is_request_error: false,
        }
    }

    fn into_response(self) -> GraphQLResponse {
        // The projection writes well-formed JSON: reading it back cannot fail.
        let data = serde_json::from_slice(&self.json[DATA_PREFIX.len()..]).unwrap_or(Json::Null);
        let mut extensions = Map::new();
        extensions.insert("cost".into(), serde_json::json!({ "estimated": self.cost }));
        GraphQLResponse {
            data: Some(data),
            errors: self.errors,
            extensions,
        }
    }
}

fn request_errors(errors: Vec<GraphQLError>) -> GraphQLResponse {
    GraphQLResponse {
        data: None,
        errors,
        extensions: Map::new(),
    }
}

fn query_of(request: &GraphQLRequest) -> Result<&str, GraphQLResponse> {
    match request.query.as_deref() {
        Some(q) if !q.trim().is_empty() => Ok(q),
        _ => Err(GraphQLResponse::request_error(GraphQLError::new(
            "The request has no GraphQL document in `query`.",
            ErrorCode::BadUserInput,
        ))),
    }
}
