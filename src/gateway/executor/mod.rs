//! Execution of a query plan: walks sequence, parallel, condition, fetch,
//! flatten and batched entity fetches, calls subgraphs through their
//! transports, and merges every answer into one data tree with errors whose
//! paths point into the client's response.

pub mod entities;
pub mod merge;
pub mod plan;
pub mod representation;
pub mod rewrites;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use bytestring::ByteString;
use futures::future::{join_all, BoxFuture};
use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer as _};
use serde_json::{Map, Value as Json};
use tracing::Instrument;

use super::data::{Data, DataSeed, Object};

use self::entities::Representations;
use self::merge::deep_merge;
use self::plan::{BatchStep, ExecNode, FetchStep, PathStep};
use super::context::RequestContext;
use super::headers::OutboundHeaders;
use super::health::SubgraphHealth;
use super::mutation_audit::{AuditTicket, ForwardedMutation, MutationAudit, MutationOutcome};
use super::outbound_dedup::OutboundDedup;
use super::response::{GraphQLError, PathSegment};
use super::schema_index::SchemaIndex;
use super::transport::{SubgraphRequest, SubgraphTransport, TransportError};
use crate::error_code::ErrorCode;

/// Data and errors accumulated while a plan runs.
#[derive(Default)]
pub struct ExecutionState {
    pub data: Data,
    pub errors: Vec<GraphQLError>,
}

/// Everything one plan execution reads.
pub struct Executor<'a> {
    pub schema: &'a SchemaIndex,
    pub transports: &'a HashMap<String, Arc<dyn SubgraphTransport>>,
    pub health: &'a Arc<SubgraphHealth>,
    /// Set for queries: identical subgraph requests in flight share one call.
    pub shared_calls: Option<&'a OutboundDedup<SharedAnswer>>,
    pub variables: &'a Map<String, Json>,
    /// Who is asking, and what they sent.
    pub context: &'a RequestContext,
    /// Decides each call's headers.
    pub outbound: &'a OutboundHeaders,
    /// Set for mutations from clients: told of every root fetch before and
    /// after it is sent.
    pub audit: Option<&'a dyn MutationAudit>,
    state: Mutex<ExecutionState>,
}

/// A subgraph's answer, parsed.
#[derive(Clone)]
pub struct SubgraphResponse {
    data: Option<Data>,
    errors: Option<Vec<SubgraphError>>,
}

#[derive(Clone, Deserialize)]
struct SubgraphError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    path: Option<Vec<Json>>,
    #[serde(default)]
    extensions: Option<Map<String, Json>>,
}

impl SubgraphError {
    fn into_graphql(self, subgraph: &str, path: Option<Vec<PathSegment>>) -> GraphQLError {
        let mut extensions = self.extensions.unwrap_or_default();
        if !extensions.contains_key("code") {
            extensions.insert(
                "code".into(),
                Json::String(ErrorCode::SubgraphError.as_str().into()),
            );
        }
        extensions.insert("serviceName".into(), Json::String(subgraph.to_string()));
        GraphQLError {
            message: self
                .message
                .unwrap_or_else(|| format!("Subgraph {subgraph} reported an error.")),
            locations: Vec::new(),
            path,
            extensions,
        }
    }

    fn raw_path(&self) -> Option<Vec<PathSegment>> {
        self.path.as_ref().map(|p| {
            p.iter()
                .filter_map(|s| match s {
                    Json::String(k) => Some(PathSegment::Key(k.clone())),
                    Json::Number(n) => n.as_u64().map(|i| PathSegment::Index(i as usize)),
                    _ => None,
                })
                .collect()
        })
    }
}

/// What a subgraph call came to, parsed once and shared by every
/// execution that joined the call (see `OutboundDedup`).
pub type SharedAnswer = Result<Arc<SubgraphResponse>, GraphQLError>;

/// A subgraph's raw answer as a parsed response or the error to report,
/// recording how the subgraph answered.
fn answer_of(
    health: &SubgraphHealth,
    subgraph: &str,
    raw: Result<Bytes, TransportError>,
) -> Result<SubgraphResponse, GraphQLError> {
    let bytes = match raw {
        Ok(bytes) => bytes,
        Err(error) => {
            health.record_failure(subgraph, &error.to_string());
            return Err(match error {
                TransportError::Unavailable { .. } => service_error(
                    subgraph,
                    format!("Subgraph {subgraph} is unavailable."),
                    ErrorCode::SubgraphUnavailable,
                ),
                TransportError::Timeout { .. } => service_error(
                    subgraph,
                    format!("Subgraph {subgraph} did not answer in time."),
                    ErrorCode::Timeout,
                ),
                TransportError::Status { status, body, .. } => match parse_response(&body) {
                    Some(parsed) if parsed.data.is_some() || parsed.errors.is_some() => {
                        return Ok(parsed)
                    }
                    _ => service_error(
                        subgraph,
                        format!("Subgraph {subgraph} answered HTTP {status}."),
                        ErrorCode::SubgraphError,
                    ),
                },
            });
        }
    };
    match parse_response(&bytes) {
        Some(parsed) => {
            health.record_success(subgraph);
            if let Some(errors) = parsed.errors.as_ref().filter(|e| !e.is_empty()) {
                crate::telemetry::measure::subgraph_errors(subgraph, errors.len());
            }
            Ok(parsed)
        }
        None => {
            health.record_failure(subgraph, "answered with a body that is not GraphQL JSON");
            Err(service_error(
                subgraph,
                format!("Subgraph {subgraph} answered with invalid JSON."),
                ErrorCode::SubgraphError,
            ))
        }
    }
}

/// Parses a subgraph's answer. The body is checked as UTF-8 once, as a
/// whole, so the parser need not check each string it reads, and strings
/// without escapes stay slices of the body.
fn parse_response(body: &Bytes) -> Option<SubgraphResponse> {
    let source = ByteString::try_from(body.clone()).ok()?;
    let mut parser = serde_json::Deserializer::from_str(&source);
    let response = parser
        .deserialize_map(ResponseVisitor { source: &source })
        .ok()?;
    parser.end().ok()?;
    Some(response)
}

/// The top level of a subgraph's answer: `data` parsed into the data tree
/// (strings sliced from `source`), `errors` as they are, the rest ignored.
struct ResponseVisitor<'s> {
    source: &'s ByteString,
}

impl<'de> Visitor<'de> for ResponseVisitor<'_> {
    type Value = SubgraphResponse;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a GraphQL response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SubgraphResponse, A::Error> {
        let (mut data, mut errors) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "data" if data.is_some() => return Err(A::Error::duplicate_field("data")),
                "data" => {
                    let seed = DataSeed {
                        source: Some(self.source),
                    };
                    data = Some(map.next_value_seed(seed)?);
                }
                "errors" if errors.is_some() => return Err(A::Error::duplicate_field("errors")),
                "errors" => errors = Some(map.next_value::<Option<Vec<SubgraphError>>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(SubgraphResponse {
            data: data.filter(|data| !data.is_null()),
            errors: errors.flatten(),
        })
    }
}

/// How a forwarded mutation ended, for its audit record.
fn outcome_of(answer: &Result<SubgraphResponse, GraphQLError>) -> MutationOutcome {
    let code_of = |extensions: &Map<String, Json>| {
        extensions
            .get("code")
            .and_then(Json::as_str)
            .unwrap_or(ErrorCode::SubgraphError.as_str())
            .to_string()
    };
    match answer {
        Err(error) => MutationOutcome::Failed(code_of(&error.extensions)),
        Ok(response) => match response.errors.as_deref() {
            None | Some([]) => MutationOutcome::Applied,
            Some(errors) => MutationOutcome::Refused(
                errors
                    .iter()
                    .map(|e| {
                        e.extensions
                            .as_ref()
                            .map_or_else(|| ErrorCode::SubgraphError.as_str().to_string(), code_of)
                    })
                    .collect(),
            ),
        },
    }
}

fn service_error(subgraph: &str, message: String, code: ErrorCode) -> GraphQLError {
    let mut error = GraphQLError::new(message, code);
    error
        .extensions
        .insert("serviceName".into(), Json::String(subgraph.to_string()));
    error
}

impl<'a> Executor<'a> {
    pub fn new(
        schema: &'a SchemaIndex,
        transports: &'a HashMap<String, Arc<dyn SubgraphTransport>>,
        health: &'a Arc<SubgraphHealth>,
        variables: &'a Map<String, Json>,
        context: &'a RequestContext,
        outbound: &'a OutboundHeaders,
    ) -> Self {
        Executor {
            schema,
            transports,
            health,
            shared_calls: None,
            variables,
            context,
            outbound,
            audit: None,
            state: Mutex::new(ExecutionState {
                data: Data::Object(Object::new()),
                errors: Vec::new(),
            }),
        }
    }

    /// Lets this execution share identical subgraph calls with others in
    /// flight; only for operations that change nothing.
    pub fn sharing_calls(mut self, dedup: &'a OutboundDedup<SharedAnswer>) -> Self {
        self.shared_calls = Some(dedup);
        self
    }

    /// Records every root fetch (each a mutation's root field) with `audit`.
    pub fn auditing(mut self, audit: &'a dyn MutationAudit) -> Self {
        self.audit = Some(audit);
        self
    }

    pub fn into_state(self) -> ExecutionState {
        self.state.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExecutionState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn run<'s>(&'s self, node: &'s ExecNode) -> BoxFuture<'s, ()> {
        Box::pin(async move {
            match node {
                ExecNode::Fetch(fetch) => {
                    self.root_fetch(fetch)
                        .instrument(plan_node_span("fetch", &fetch.subgraph))
                        .await
                }
                ExecNode::Flatten { paths, fetch } => {
                    self.flatten_fetch(paths, fetch)
                        .instrument(plan_node_span("flatten", &fetch.subgraph))
                        .await
                }
                ExecNode::Batch(batch) => {
                    self.batch_fetch(batch)
                        .instrument(plan_node_span("batch", &batch.subgraph))
                        .await
                }
                ExecNode::Sequence(nodes) => {
                    for child in nodes {
                        self.run(child).await;
                    }
                }
                ExecNode::Parallel(nodes) => {
                    join_all(nodes.iter().map(|n| self.run(n))).await;
                }
                ExecNode::Condition {
                    variable,
                    if_clause,
                    else_clause,
                } => {
                    let value = self
                        .variables
                        .get(variable)
                        .and_then(Json::as_bool)
                        .unwrap_or(false);
                    let branch = if value { if_clause } else { else_clause };
                    if let Some(branch) = branch {
                        self.run(branch).await;
                    }
                }
                ExecNode::Subscription { .. } => {
                    self.lock().errors.push(GraphQLError::new(
                        "A subscription is served only over a streaming transport.",
                        ErrorCode::BadUserInput,
                    ));
                }
                ExecNode::Unsupported(what) => {
                    self.lock().errors.push(GraphQLError::new(
                        format!("The gateway does not execute {what} yet."),
                        ErrorCode::InternalServerError,
                    ));
                }
            }
        })
    }

    /// `{"query":...,"variables":{` with the forwarded operation variables.
    fn body_start(&self, query_json: &str, variable_usages: &[String]) -> (Vec<u8>, bool) {
        let mut body = Vec::with_capacity(query_json.len() + 64);
        body.extend_from_slice(b"{\"query\":");
        body.extend_from_slice(query_json.as_bytes());
        body.extend_from_slice(b",\"variables\":{");
        let mut first = true;
        for name in variable_usages {
            if let Some(value) = self.variables.get(name) {
                if !first {
                    body.push(b',');
                }
                first = false;
                write_json_key(&mut body, name);
                write_json(&mut body, value);
            }
        }
        (body, first)
    }

    async fn call(&self, subgraph: &str, body: Vec<u8>) -> Result<SubgraphResponse, GraphQLError> {
        let Some(transport) = self.transports.get(subgraph) else {
            return Err(service_error(
                subgraph,
                format!("Subgraph {subgraph} has no transport."),
                ErrorCode::SubgraphUnavailable,
            ));
        };
        let in_process = transport.in_process();
        let request = SubgraphRequest {
            body: Bytes::from(body),
            headers: self
                .outbound
                .for_subgraph(subgraph, self.context, in_process),
            principal: in_process.then(|| self.context.principal.clone()),
            request_id: Some(self.context.request_id.clone()),
        };
        let Some(dedup) = self.shared_calls else {
            return answer_of(self.health, subgraph, transport.call(request).await);
        };
        let (health, name) = (self.health.clone(), subgraph.to_string());
        let shared = dedup
            .call(transport, request, move |raw| {
                answer_of(&health, &name, raw).map(Arc::new)
            })
            .await;
        // Moved out when no other execution shares it (the usual case once
        // the others have taken theirs), copied otherwise: still no re-parse.
        shared.map(|shared| Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone()))
    }

    async fn root_fetch(&self, fetch: &FetchStep) {
        let (mut body, _) = self.body_start(&fetch.query_json, &fetch.variable_usages);
        body.extend_from_slice(b"}}");
        let ticket = match self.audit {
            Some(audit) => match self.audit_before(audit, fetch).await {
                Ok(ticket) => ticket.map(|ticket| (audit, ticket)),
                Err(error) => {
                    self.lock().errors.push(error);
                    return;
                }
            },
            None => None,
        };
        let answer = self.call(&fetch.subgraph, body).await;
        if let Some((audit, ticket)) = ticket {
            audit.after(ticket, self.context, outcome_of(&answer)).await;
        }
        self.absorb_root(fetch, answer);
    }

    /// Takes one event of a subscription's primary fetch as the data the
    /// rest of the plan completes.
    pub fn absorb_event(&self, fetch: &FetchStep, raw: Result<Bytes, TransportError>) {
        self.absorb_root(fetch, answer_of(self.health, &fetch.subgraph, raw));
    }

    fn absorb_root(&self, fetch: &FetchStep, answer: Result<SubgraphResponse, GraphQLError>) {
        let response = match answer {
            Ok(r) => r,
            Err(error) => {
                self.lock().errors.push(error);
                return;
            }
        };
        let mut state = self.lock();
        if let Some(mut data) = response.data {
            rewrites::apply_all(&mut data, &fetch.output_rewrites, self.schema);
            deep_merge(&mut state.data, data, self.schema);
        }
        for error in response.errors.into_iter().flatten() {
            let path = error.raw_path();
            state.errors.push(error.into_graphql(&fetch.subgraph, path));
        }
    }

    /// The request a subscription's primary fetch opens on its subgraph.
    pub fn subscription_request(&self, fetch: &FetchStep) -> SubgraphRequest {
        let (mut body, _) = self.body_start(&fetch.query_json, &fetch.variable_usages);
        body.extend_from_slice(b"}}");
        let in_process = self
            .transports
            .get(&fetch.subgraph)
            .is_some_and(|t| t.in_process());
        SubgraphRequest {
            body: Bytes::from(body),
            headers: self
                .outbound
                .for_subgraph(&fetch.subgraph, self.context, in_process),
            principal: in_process.then(|| self.context.principal.clone()),
            request_id: Some(self.context.request_id.clone()),
        }
    }

    async fn audit_before(
        &self,
        audit: &dyn MutationAudit,
        fetch: &FetchStep,
    ) -> Result<Option<AuditTicket>, GraphQLError> {
        let operation: String = serde_json::from_str(&fetch.query_json).unwrap_or_default();
        let variables: Map<String, Json> = fetch
            .variable_usages
            .iter()
            .filter_map(|name| Some((name.clone(), self.variables.get(name)?.clone())))
            .collect();
        audit
            .before(ForwardedMutation {
                subgraph: &fetch.subgraph,
                operation: &operation,
                variables: &variables,
                context: self.context,
            })
            .await
    }

    async fn flatten_fetch(&self, paths: &Vec<Vec<PathStep>>, fetch: &FetchStep) {
        let Some(requires) = &fetch.requires else {
            return self.flatten_root_fetch(paths, fetch).await;
        };
        let reps = {
            let state = self.lock();
            Representations::collect(
                &state.data,
                paths,
                requires,
                &fetch.input_rewrites,
                self.schema,
            )
        };
        if reps.is_empty() {
            return;
        }
        let (mut body, first) = self.body_start(&fetch.query_json, &fetch.variable_usages);
        if !first {
            body.push(b',');
        }
        body.extend_from_slice(b"\"representations\":");
        reps.write_json_array(&mut body);
        body.extend_from_slice(b"}}");
        let response = match self.call(&fetch.subgraph, body).await {
            Ok(r) => r,
            Err(error) => {
                self.lock().errors.push(error);
                return;
            }
        };
        let mut entities = match response.data {
            Some(Data::Object(mut data)) => match data.remove("_entities") {
                Some(Data::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        for entity in &mut entities {
            rewrites::apply_all(entity, &fetch.output_rewrites, self.schema);
        }
        let mut state = self.lock();
        let errors = self.entity_errors(
            &state.data,
            response.errors,
            &fetch.subgraph,
            |p| match p.first() {
                Some(PathSegment::Key(k)) if k == "_entities" => Some(0),
                _ => None,
            },
            &[(&reps, paths)],
        );
        reps.merge_back(&mut state.data, paths, entities, self.schema);
        state.errors.extend(errors);
    }

    /// A non-entity fetch under a flatten: run once, merge into every target.
    async fn flatten_root_fetch(&self, paths: &[Vec<PathStep>], fetch: &FetchStep) {
        let targets = {
            let state = self.lock();
            let mut count = 0usize;
            for path in paths {
                entities::visit(&state.data, path, self.schema, &mut |_| count += 1);
            }
            count
        };
        if targets == 0 {
            return;
        }
        let (mut body, _) = self.body_start(&fetch.query_json, &fetch.variable_usages);
        body.extend_from_slice(b"}}");
        let response = match self.call(&fetch.subgraph, body).await {
            Ok(r) => r,
            Err(error) => {
                self.lock().errors.push(error);
                return;
            }
        };
        let mut state = self.lock();
        if let Some(mut data) = response.data {
            rewrites::apply_all(&mut data, &fetch.output_rewrites, self.schema);
            for path in paths {
                entities::visit_mut(&mut state.data, path, self.schema, &mut |target| {
                    deep_merge(target, data.clone(), self.schema);
                });
            }
        }
        for error in response.errors.into_iter().flatten() {
            state.errors.push(error.into_graphql(&fetch.subgraph, None));
        }
    }

    async fn batch_fetch(&self, batch: &BatchStep) {
        let collected: Vec<Representations> = {
            let state = self.lock();
            batch
                .aliases
                .iter()
                .map(|a| {
                    Representations::collect(
                        &state.data,
                        &a.paths,
                        &a.requires,
                        &a.input_rewrites,
                        self.schema,
                    )
                })
                .collect()
        };
        if collected.iter().all(Representations::is_empty) {
            return;
        }
        let (mut body, mut first) = self.body_start(&batch.query_json, &batch.variable_usages);
        let mut written: Vec<&str> = Vec::new();
        for (alias, reps) in batch.aliases.iter().zip(&collected) {
            if written.contains(&alias.representations_variable.as_str()) {
                continue;
            }
            written.push(&alias.representations_variable);
            if !first {
                body.push(b',');
            }
            first = false;
            write_json_key(&mut body, &alias.representations_variable);
            reps.write_json_array(&mut body);
        }
        body.extend_from_slice(b"}}");
        let response = match self.call(&batch.subgraph, body).await {
            Ok(r) => r,
            Err(error) => {
                self.lock().errors.push(error);
                return;
            }
        };
        let mut data = match response.data {
            Some(Data::Object(data)) => data,
            _ => Object::new(),
        };
        let mut state = self.lock();
        let groups: Vec<(&Representations, &Vec<Vec<PathStep>>)> = collected
            .iter()
            .zip(&batch.aliases)
            .map(|(r, a)| (r, &a.paths))
            .collect();
        let errors = self.entity_errors(
            &state.data,
            response.errors,
            &batch.subgraph,
            |p| match p.first() {
                Some(PathSegment::Key(k)) => batch.aliases.iter().position(|a| &a.alias == k),
                _ => None,
            },
            &groups,
        );
        for (alias, reps) in batch.aliases.iter().zip(&collected) {
            let mut results = match data.remove(&alias.alias) {
                Some(Data::Array(items)) => items,
                _ => continue,
            };
            for entity in &mut results {
                rewrites::apply_all(entity, &alias.output_rewrites, self.schema);
            }
            reps.merge_back(&mut state.data, &alias.paths, results, self.schema);
        }
        state.errors.extend(errors);
    }

    /// Maps `[<root>, i, rest..]` error paths to the entity's response path.
    fn entity_errors(
        &self,
        data: &Data,
        errors: Option<Vec<SubgraphError>>,
        subgraph: &str,
        group_of: impl Fn(&[PathSegment]) -> Option<usize>,
        groups: &[(&Representations, &Vec<Vec<PathStep>>)],
    ) -> Vec<GraphQLError> {
        let mut out = Vec::new();
        for error in errors.into_iter().flatten() {
            let raw = error.raw_path();
            let mapped = raw.as_ref().and_then(|p| {
                let group = group_of(p)?;
                let (reps, paths) = groups.get(group)?;
                // Some subgraphs leave the entity index out; with one
                // representation it can only be the first.
                let (index, rest) = match p.get(1) {
                    Some(PathSegment::Index(i)) => (*i, 2),
                    _ if reps.unique.len() == 1 => (0, 1),
                    _ => return None,
                };
                let mut path = reps.path_of(data, paths, index, self.schema)?;
                path.extend(p.iter().skip(rest).cloned());
                Some(path)
            });
            out.push(error.into_graphql(subgraph, mapped));
        }
        out
    }
}

/// One fetch of the plan, as a trace sees it (debug level: not built unless
/// traces or debug logs want it).
fn plan_node_span(kind: &'static str, subgraph: &str) -> tracing::Span {
    tracing::debug_span!("plan_node", plan.node = kind, subgraph = subgraph)
}

fn write_json_key(body: &mut Vec<u8>, key: &str) {
    write_json(body, &Json::String(key.to_string()));
    body.push(b':');
}

fn write_json(body: &mut Vec<u8>, value: &Json) {
    // Writing into a Vec cannot fail; a failure would only mean an unencodable value.
    if serde_json::to_writer(&mut *body, value).is_err() {
        body.extend_from_slice(b"null");
    }
}
