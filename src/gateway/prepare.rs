//! Turning a request's document into a prepared operation: scan (tokens,
//! nesting), parse, pick the operation, measure it against the limits,
//! validate against the public API schema, compile the response shape,
//! normalize and plan. Results are cached per supergraph: documents by their
//! text and operation name, plans by normalized operation hash and name.
//!
//! A document not yet cached is prepared on a blocking thread under a
//! deadline ([`prepare_off_thread`]), so a slow one never holds an HTTP
//! worker; the limits run first and are linear in the document's size.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use graphql_tools::static_graphql::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, TypeCondition,
    VariableDefinition,
};
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::validate;
use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::safe_parse_operation_with_token_limit;

use super::executor::plan::ExecutablePlan;
use super::limits::{self, Measure, RequestLimits};
use super::operation::{select_operation, OperationKind};
use super::plan_cache::DocumentKey;
use super::response::{GraphQLError, Location};
use super::shape::{compile, SelectionShape};
use super::supergraph::Supergraph;
use crate::error_code::ErrorCode;
use crate::telemetry::measure::{self, Cache};

/// An operation ready to execute with any variables.
pub struct PreparedOperation {
    source: String,
    requested_name: Option<String>,
    pub kind: OperationKind,
    pub variable_definitions: Vec<VariableDefinition>,
    pub root_type: String,
    pub shape: SelectionShape,
    /// `None` when only introspection or `__typename` is asked at the root.
    pub plan: Option<Arc<ExecutablePlan>>,
    /// The length of the last response written for this operation: the next
    /// response buffer starts that large instead of growing (and copying)
    /// its way there.
    pub response_size_hint: AtomicUsize,
    /// The operation's size, fragments expanded; a cache hit is checked
    /// against the limits of the request that finds it.
    pub measure: Measure,
    /// Validated against the whole supergraph (the hub's own delivery).
    pub internal: bool,
    /// Fields someone might not be allowed to see, checked per request.
    pub guarded: Vec<super::authorize::GuardedField>,
}

impl super::plan_cache::CacheWeight for PreparedOperation {
    /// The document text, each expanded field's shape and each guarded
    /// field; the plan is counted in the plan cache.
    fn cache_weight(&self) -> u64 {
        use super::plan_cache::NODE_BYTES;
        std::mem::size_of::<Self>() as u64
            + 2 * self.source.len() as u64
            + NODE_BYTES
                * (self.measure.fields
                    + self.variable_definitions.len() as u64
                    + self.guarded.len() as u64)
    }
}

fn document_key(
    hasher: &ahash::RandomState,
    query: &str,
    operation_name: Option<&str>,
    internal: bool,
) -> DocumentKey {
    DocumentKey(hasher.hash_one((query, operation_name, internal)))
}

/// Parses only as far as needed to tell the operation's kind.
pub fn operation_kind(
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
) -> Result<OperationKind, GraphQLError> {
    let document = parse(query, limits)?;
    select_operation(&document, operation_name).map(|op| op.kind)
}

/// Scans and parses a document under `limits`.
pub(crate) fn parse(query: &str, limits: &RequestLimits) -> Result<Document, GraphQLError> {
    limits::scan(query, limits).map_err(|e| e.to_graphql())?;
    let token_limit = usize::try_from(limits.max_tokens).unwrap_or(usize::MAX);
    safe_parse_operation_with_token_limit(query, token_limit).map_err(|e| {
        let message = e.to_string();
        let mut error = GraphQLError::new(
            format!("Syntax error: {}", message.trim()),
            ErrorCode::GraphqlParseFailed,
        );
        if let Some(location) = parse_error_location(&message) {
            error.locations.push(location);
        }
        error
    })
}

fn parse_error_location(message: &str) -> Option<Location> {
    let rest = &message[message.find(" at ")? + 4..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let (line, column) = rest[..end].split_once(':')?;
    Some(Location {
        line: line.parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// The prepared operation in the cache, checked against `limits`.
/// `None` when the document has not been prepared yet.
pub fn cached(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
    internal: bool,
) -> Option<Result<Arc<PreparedOperation>, Vec<GraphQLError>>> {
    let hit = find(supergraph, query, operation_name, limits, internal);
    measure::cache_lookup(Cache::Document, hit.is_some());
    hit
}

/// [`cached`] without counting the lookup.
fn find(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
    internal: bool,
) -> Option<Result<Arc<PreparedOperation>, Vec<GraphQLError>>> {
    let key = document_key(
        &supergraph.plan_cache.key_hasher,
        query,
        operation_name,
        internal,
    );
    let hit = supergraph.plan_cache.documents.get(&key);
    let hit =
        hit.filter(|hit| hit.source == query && hit.requested_name.as_deref() == operation_name)?;
    Some(match hit.measure.check(limits) {
        Ok(()) => Ok(hit),
        Err(error) => Err(vec![error.to_graphql()]),
    })
}

/// Prepares (or finds in the cache) the operation a request asks for, on
/// the calling thread.
pub fn prepare(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
    internal: bool,
) -> Result<Arc<PreparedOperation>, Vec<GraphQLError>> {
    if let Some(hit) = cached(supergraph, query, operation_name, limits, internal) {
        return hit;
    }
    prepare_and_cache(supergraph, query, operation_name, limits, internal)
}

/// Prepares a document not found in the cache (looking again first: another
/// request may have prepared it meanwhile) and caches it.
fn prepare_and_cache(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
    internal: bool,
) -> Result<Arc<PreparedOperation>, Vec<GraphQLError>> {
    if let Some(hit) = find(supergraph, query, operation_name, limits, internal) {
        return hit;
    }
    let prepared = Arc::new(prepare_uncached(
        supergraph,
        query,
        operation_name,
        limits,
        internal,
    )?);
    let key = document_key(
        &supergraph.plan_cache.key_hasher,
        query,
        operation_name,
        internal,
    );
    supergraph
        .plan_cache
        .documents
        .insert(key, prepared.clone());
    Ok(prepared)
}

/// As [`prepare`], but a document not in the cache is prepared on a
/// blocking thread, and refused with `TIMEOUT` when that takes longer than
/// `limits.prepare_timeout_ms` (planning is cancelled at the same deadline).
pub async fn prepare_off_thread(
    supergraph: &Arc<Supergraph>,
    query: &str,
    operation_name: Option<&str>,
    limits: &Arc<RequestLimits>,
    internal: bool,
) -> Result<Arc<PreparedOperation>, Vec<GraphQLError>> {
    if let Some(hit) = cached(supergraph, query, operation_name, limits, internal) {
        return hit;
    }
    let (supergraph, query, name, task_limits) = (
        supergraph.clone(),
        query.to_string(),
        operation_name.map(str::to_string),
        limits.clone(),
    );
    let deadline = std::time::Duration::from_millis(limits.prepare_timeout_ms);
    let started = tokio::time::Instant::now();
    // New documents are prepared a few at a time: a flood of them waits its
    // turn (and times out) instead of taking every blocking thread.
    let permit = match tokio::time::timeout(deadline, preparing().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            return Err(vec![GraphQLError::new(
                "the hub is preparing too many new documents; retry shortly",
                ErrorCode::RateLimited,
            )])
        }
    };
    let span = tracing::Span::current();
    let task = tokio::task::spawn_blocking(move || {
        let _in_request = span.enter();
        let _permit = permit;
        prepare_and_cache(&supergraph, &query, name.as_deref(), &task_limits, internal)
    });
    match tokio::time::timeout(deadline.saturating_sub(started.elapsed()), task).await {
        Ok(Ok(prepared)) => prepared,
        Ok(Err(_)) => Err(vec![GraphQLError::new(
            "The operation could not be prepared.",
            ErrorCode::InternalServerError,
        )]),
        Err(_) => Err(vec![GraphQLError::new(
            format!(
                "validating and planning the operation took longer than {} ms (limit prepare_timeout_ms)",
                limits.prepare_timeout_ms
            ),
            ErrorCode::Timeout,
        )]),
    }
}

/// How many new documents are prepared at once: one per core, at least two.
fn preparing() -> Arc<tokio::sync::Semaphore> {
    static PREPARING: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    PREPARING
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Arc::new(tokio::sync::Semaphore::new(cores.max(2)))
        })
        .clone()
}

fn prepare_uncached(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    limits: &RequestLimits,
    internal: bool,
) -> Result<PreparedOperation, Vec<GraphQLError>> {
    let document = parse(query, limits).map_err(|e| vec![e])?;
    let selected = select_operation(&document, operation_name).map_err(|e| vec![e])?;
    let schema = if internal {
        &supergraph.internal
    } else {
        &supergraph.api
    };
    let kind = selected.kind;
    let root_type = schema
        .root_type(kind)
        .ok_or_else(|| {
            vec![GraphQLError::new(
                format!("The schema has no {} type.", kind.as_str()),
                ErrorCode::GraphqlValidationFailed,
            )]
        })?
        .to_string();
    // Counted before validation: the validation rules cost more than linear
    // time in the number of fields (overlapping fields are compared pairwise).
    let measure = limits::measure(
        &document,
        selected.selection_set,
        &root_type,
        schema,
        &supergraph.costs,
        limits,
    )
    .map_err(|e| vec![e.to_graphql()])?;
    measure.check(limits).map_err(|e| vec![e.to_graphql()])?;
    let validation_plan = default_rules_validation_plan();
    let problems = validate(schema.document(), &document, &validation_plan);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| {
                let mut error = GraphQLError::new(p.message, ErrorCode::GraphqlValidationFailed);
                error.locations = p
                    .locations
                    .iter()
                    .map(|pos| Location {
                        line: pos.line,
                        column: pos.column,
                    })
                    .collect();
                error
            })
            .collect());
    }
    let guarded = if internal {
        Vec::new()
    } else {
        super::authorize::collect(
            &document,
            selected.selection_set,
            &root_type,
            schema,
            &supergraph.requirements,
        )
    };
    let shape = compile(&document, selected.selection_set, &root_type, schema).map_err(|e| {
        vec![GraphQLError::new(
            e.to_string(),
            ErrorCode::GraphqlValidationFailed,
        )]
    })?;
    let variable_definitions = selected.variables.to_vec();
    let name = selected.name.map(str::to_string);

    let mut planned_document = document.clone();
    let has_remote_fields =
        strip_root_meta_fields(&mut planned_document, name.as_deref(), &root_type);
    let plan = if has_remote_fields {
        Some(plan(
            supergraph,
            &planned_document,
            name.as_deref(),
            limits,
        )?)
    } else {
        None
    };
    Ok(PreparedOperation {
        source: query.to_string(),
        requested_name: operation_name.map(str::to_string),
        kind,
        variable_definitions,
        root_type,
        shape,
        plan,
        response_size_hint: AtomicUsize::new(0),
        measure,
        internal,
        guarded,
    })
}

fn plan(
    supergraph: &Supergraph,
    document: &Document,
    name: Option<&str>,
    limits: &RequestLimits,
) -> Result<Arc<ExecutablePlan>, Vec<GraphQLError>> {
    let planner = &supergraph.planner;
    let normalized = normalize_operation(&planner.supergraph, document, name).map_err(|e| {
        vec![GraphQLError::new(
            e.to_string(),
            ErrorCode::GraphqlValidationFailed,
        )]
    })?;
    let key = (normalized.operation.hash(), name.map(str::to_string));
    let hit = supergraph.plan_cache.plans.get(&key);
    measure::cache_lookup(Cache::Plan, hit.is_some());
    if let Some(hit) = hit {
        return Ok(hit);
    }
    let planned = catch_unwind(AssertUnwindSafe(|| {
        planner.plan_from_normalized_operation(
            &normalized.operation,
            PlannerOverrideContext::default(),
            &CancellationToken::with_timeout(std::time::Duration::from_millis(
                limits.prepare_timeout_ms,
            )),
        )
    }));
    let query_plan = match planned {
        Ok(Ok(plan)) => plan,
        Ok(Err(error)) => {
            tracing::warn!(%error, "query planning failed");
            return Err(vec![GraphQLError::new(
                "The operation could not be planned.",
                ErrorCode::InternalServerError,
            )]);
        }
        Err(_) => {
            tracing::error!("query planner panicked");
            return Err(vec![GraphQLError::new(
                "The operation could not be planned.",
                ErrorCode::InternalServerError,
            )]);
        }
    };
    let executable = Arc::new(ExecutablePlan::from_query_plan(&query_plan));
    supergraph.plan_cache.plans.insert(key, executable.clone());
    Ok(executable)
}

/// Removes `__schema`, `__type` and `__typename` at the root (the gateway
/// answers them) and says whether any field is left for subgraphs.
fn strip_root_meta_fields(document: &mut Document, name: Option<&str>, root_type: &str) -> bool {
    // A root fragment left empty empties every root fragment that only
    // spreads it: repeat until no more become empty (at most one round per
    // fragment).
    let mut empty_fragments = HashSet::new();
    loop {
        let before = empty_fragments.len();
        for definition in &mut document.definitions {
            if let Definition::Fragment(fragment) = definition {
                let TypeCondition::On(on) = &fragment.type_condition;
                if on == root_type
                    && !empty_fragments.contains(&fragment.name)
                    && !strip_selection(&mut fragment.selection_set, &empty_fragments)
                {
                    empty_fragments.insert(fragment.name.clone());
                }
            }
        }
        if empty_fragments.len() == before {
            break;
        }
    }
    let mut remote = false;
    for definition in &mut document.definitions {
        if let Definition::Operation(op) = definition {
            let (op_name, set) = match op {
                OperationDefinition::SelectionSet(s) => (None, s),
                OperationDefinition::Query(q) => (q.name.as_deref(), &mut q.selection_set),
                OperationDefinition::Mutation(m) => (m.name.as_deref(), &mut m.selection_set),
                OperationDefinition::Subscription(s) => (s.name.as_deref(), &mut s.selection_set),
            };
            let selected = name.is_none() || op_name == name;
            let has = strip_selection(set, &empty_fragments);
            if selected {
                remote = has;
            }
        }
    }
    remote
}

fn strip_selection(set: &mut SelectionSet, empty_fragments: &HashSet<String>) -> bool {
    set.items.retain_mut(|item| match item {
        Selection::Field(field) => !field.name.starts_with("__"),
        Selection::InlineFragment(fragment) => {
            strip_selection(&mut fragment.selection_set, empty_fragments)
        }
        Selection::FragmentSpread(spread) => !empty_fragments.contains(&spread.fragment_name),
    });
    !set.items.is_empty()
}
