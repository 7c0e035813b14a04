//! The gateway: one supergraph, its subgraph transports and health, and the
//! request pipeline (prepare, coerce variables, execute the plan, shape the
//! response).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::data::{Data, Object};

use super::executor::{Executor, SharedAnswer};
use super::health::{SubgraphHealth, SubgraphStatus};
use super::http_transport::{HttpTransport, SubgraphClients};
use super::operation::OperationKind;
use super::outbound_dedup::OutboundDedup;
use super::prepare::{operation_kind, prepare};
use super::projection::Projection;
use super::request::GraphQLRequest;
use super::response::{to_json, GraphQLError, GraphQLResponse, ResponseBody};
use super::supergraph::Supergraph;
use super::transport::SubgraphTransport;
use crate::error_code::ErrorCode;

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
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            subgraph_timeout: Duration::from_secs(30),
            subgraph_timeouts: HashMap::new(),
            transports: HashMap::new(),
            outbound_dedup: true,
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
    supergraph: Arc<Supergraph>,
    transports: HashMap<String, Arc<dyn SubgraphTransport>>,
    health: Arc<SubgraphHealth>,
    outbound_dedup: Option<OutboundDedup<SharedAnswer>>,
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
    ) -> Result<OperationKind, GraphQLResponse> {
        let query = query_of(request)?;
        operation_kind(query, request.operation_name.as_deref())
            .map_err(GraphQLResponse::request_error)
    }

    /// The kind of a valid operation, from the prepared-operation cache (a
    /// repeat costs one hash); `None` when the request would fail anyway.
    pub fn prepared_kind(&self, request: &GraphQLRequest) -> Option<OperationKind> {
        let query = request.query.as_deref()?;
        prepare(&self.supergraph, query, request.operation_name.as_deref())
            .ok()
            .map(|prepared| prepared.kind)
    }

    /// Runs one request to completion. Never panics on bad input; subgraph
    /// failures become errors beside partial data.
    pub async fn execute(&self, request: GraphQLRequest) -> GraphQLResponse {
        self.execute_with_headers(request, &[]).await
    }

    /// As [`Gateway::execute`], forwarding `headers` to every subgraph call.
    pub async fn execute_with_headers(
        &self,
        request: GraphQLRequest,
        headers: &[(String, String)],
    ) -> GraphQLResponse {
        match self.run(request, headers).await {
            Ok(executed) => executed.into_response(),
            Err(response) => response,
        }
    }

    /// As [`Gateway::execute`], answering with the response's JSON text:
    /// `data` is written while it is shaped, never held as a tree.
    pub async fn execute_to_json(&self, request: GraphQLRequest) -> ResponseBody {
        match self.run(request, &[]).await {
            Ok(executed) => executed.into_body(),
            Err(response) => ResponseBody::of(&response),
        }
    }

    /// Prepares, executes and shapes one request; a request error is `Err`.
    async fn run(
        &self,
        request: GraphQLRequest,
        headers: &[(String, String)],
    ) -> Result<Executed, GraphQLResponse> {
        let query = query_of(&request)?;
        let prepared = prepare(&self.supergraph, query, request.operation_name.as_deref())
            .map_err(|errors| GraphQLResponse {
                data: None,
                errors,
                extensions: Map::new(),
            })?;
        if prepared.kind == OperationKind::Subscription {
            return Err(GraphQLResponse::request_error(GraphQLError::new(
                "Subscriptions are not served over this transport.",
                ErrorCode::BadUserInput,
            )));
        }
        let variables = super::variables::coerce_variables(
            &prepared.variable_definitions,
            request.variables.as_ref(),
            &self.supergraph.api,
        )
        .map_err(|e| {
            GraphQLResponse::request_error(GraphQLError::new(
                e.to_string(),
                ErrorCode::BadUserInput,
            ))
        })?;
        let (data, mut errors) = match prepared.plan.as_ref().and_then(|p| p.root.as_ref()) {
            Some(root) => {
                let mut executor = Executor::new(
                    &self.supergraph.internal,
                    &self.transports,
                    &self.health,
                    &variables,
                    headers,
                );
                if prepared.kind == OperationKind::Query {
                    if let Some(dedup) = &self.outbound_dedup {
                        executor = executor.sharing_calls(dedup);
                    }
                }
                executor.run(root).await;
                let state = executor.into_state();
                (state.data, state.errors)
            }
            None => (Data::Object(Object::new()), Vec::new()),
        };
        let hint = prepared.response_size_hint.load(Ordering::Relaxed);
        let mut json = Vec::with_capacity(hint.clamp(4096, MAX_SIZE_HINT));
        json.extend_from_slice(DATA_PREFIX);
        Projection::new(&self.supergraph.api, &variables, &mut errors, &mut json).root(
            &data,
            &prepared.root_type,
            &prepared.shape,
        );
        prepared
            .response_size_hint
            .store(json.len() + json.len() / 8, Ordering::Relaxed);
        Ok(Executed { json, errors })
    }
}

/// The largest response buffer reserved up front from an earlier response.
const MAX_SIZE_HINT: usize = 4 << 20;

/// Every executed response starts so; the projection writes `data` after it.
const DATA_PREFIX: &[u8] = b"{\"data\":";

/// An executed request: its response text up to and including `data`, and
/// the errors to follow it.
struct Executed {
    json: Vec<u8>,
    errors: Vec<GraphQLError>,
}

impl Executed {
    fn into_body(self) -> ResponseBody {
        let Executed { mut json, errors } = self;
        if !errors.is_empty() {
            json.extend_from_slice(b",\"errors\":");
            json.extend_from_slice(&to_json(&errors));
        }
        json.push(b'}');
        ResponseBody {
            json,
            is_request_error: false,
        }
    }

    fn into_response(self) -> GraphQLResponse {
        // The projection writes well-formed JSON: reading it back cannot fail.
        let data = serde_json::from_slice(&self.json[DATA_PREFIX.len()..]).unwrap_or(Json::Null);
        GraphQLResponse {
            data: Some(data),
            errors: self.errors,
            extensions: Map::new(),
        }
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
