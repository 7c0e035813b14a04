//! A loaded supergraph: the parsed Apollo Federation v2 SDL, its query planner,
//! the public API schema clients see, the subgraph names and URLs, a stable
//! hash of the SDL, and the plan cache that lives and dies with it.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use graphql_tools::static_graphql::schema::{Definition, Document, TypeDefinition};
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::parsing::safe_parse_schema;
use sha2::{Digest, Sha256};

use super::plan_cache::{PlanCache, DOCUMENT_CACHE_BYTES, PLAN_CACHE_BYTES};
use super::schema_index::SchemaIndex;

#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    #[error("supergraph SDL does not parse: {0}")]
    Parse(String),
    #[error("supergraph has no join__Graph enum: it is not a federation v2 supergraph")]
    NoJoinGraph,
    #[error("line {line}: join__Graph value {value} lacks @join__graph(name:, url:)")]
    JoinGraphIncomplete { line: usize, value: String },
    #[error("supergraph cannot be planned: {0}")]
    Planner(String),
}

/// One subgraph named in `join__Graph`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphInfo {
    pub name: String,
    pub url: String,
}

/// A parsed, plannable supergraph.
pub struct Supergraph {
    pub(crate) planner: Planner,
    pub(crate) api: SchemaIndex,
    /// Type relations of the whole supergraph, inaccessible types included
    /// (entity representations may use them).
    pub(crate) internal: SchemaIndex,
    subgraphs: Vec<SubgraphInfo>,
    hash: String,
    sdl: Arc<str>,
    pub(crate) plan_cache: PlanCache,
    /// `@cost` and `@listSize` weights for the cost limit.
    pub(crate) costs: super::limits::CostModel,
    /// `@authenticated`, `@requiresScopes` and `@policy` by field and type.
    pub(crate) requirements: super::authorize::RequirementIndex,
}

impl std::fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supergraph")
            .field("hash", &self.hash)
            .field("subgraphs", &self.subgraphs)
            .finish_non_exhaustive()
    }
}

impl Supergraph {
    /// Parses a supergraph SDL and prepares everything execution needs.
    pub fn parse(sdl: &str) -> Result<Supergraph, SupergraphError> {
        let document = safe_parse_schema(sdl).map_err(|e| SupergraphError::Parse(e.to_string()))?;
        let subgraphs = join_graphs(&document)?;
        let planner = catch_unwind(AssertUnwindSafe(|| {
            Planner::new_from_supergraph(&document, QueryPlannerOptions::default())
        }))
        .map_err(|_| SupergraphError::Planner("the supergraph is malformed".into()))?
        .map_err(|e| SupergraphError::Planner(e.to_string()))?;
        let api = SchemaIndex::from_document(planner.consumer_schema.document.clone());
        let costs = super::limits::CostModel::from_schema(&document);
        let requirements = super::authorize::RequirementIndex::from_schema(&document);
        let internal = SchemaIndex::from_document(Arc::new(with_builtin_scalars(document)));
        let hash = hex::encode(Sha256::digest(sdl.as_bytes()));
        Ok(Supergraph {
            planner,
            api,
            internal,
            subgraphs,
            hash,
            sdl: Arc::from(sdl),
            plan_cache: PlanCache::new(DOCUMENT_CACHE_BYTES, PLAN_CACHE_BYTES),
            costs,
            requirements,
        })
    }

    /// Subgraphs in `join__Graph` order.
    pub fn subgraphs(&self) -> &[SubgraphInfo] {
        &self.subgraphs
    }

    /// Hex SHA-256 of the SDL text.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Number of distinct query plans cached for this supergraph.
    pub fn cached_plans(&self) -> usize {
        self.plan_cache.plan_count()
    }

    /// Estimated bytes held by this supergraph's document and plan caches.
    pub fn cache_bytes(&self) -> u64 {
        self.plan_cache.weight()
    }

    pub fn sdl(&self) -> &str {
        &self.sdl
    }

    /// The public API schema document (no join/link internals, no @inaccessible).
    pub fn api_schema(&self) -> &Document {
        self.api.document()
    }
}

/// The supergraph document with the built-in scalars declared, so that the
/// hub's own documents (delivery) can be validated against it as a whole.
fn with_builtin_scalars(mut document: Document) -> Document {
    let declared: std::collections::HashSet<String> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Scalar(s)) => Some(s.name.clone()),
            _ => None,
        })
        .collect();
    for name in ["String", "Int", "Float", "Boolean", "ID"] {
        if !declared.contains(name) {
            document
                .definitions
                .push(Definition::TypeDefinition(TypeDefinition::Scalar(
                    graphql_tools::static_graphql::schema::ScalarType::new(name.to_string()),
                )));
        }
    }
    document
}

fn join_graphs(document: &Document) -> Result<Vec<SubgraphInfo>, SupergraphError> {
    let join_graph = document
        .definitions
        .iter()
        .find_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Enum(e)) if e.name == "join__Graph" => {
                Some(e)
            }
            _ => None,
        })
        .ok_or(SupergraphError::NoJoinGraph)?;
    let mut seen = BTreeMap::new();
    let mut out = Vec::with_capacity(join_graph.values.len());
    for value in &join_graph.values {
        let directive = value.directives.iter().find(|d| d.name == "join__graph");
        let arg = |name: &str| {
            directive.and_then(|d| {
                d.arguments.iter().find_map(|(n, v)| match v {
                    graphql_tools::static_graphql::query::Value::String(s) if n == name => {
                        Some(s.clone())
                    }
                    _ => None,
                })
            })
        };
        let (Some(name), Some(url)) = (arg("name"), arg("url")) else {
            return Err(SupergraphError::JoinGraphIncomplete {
                line: value.position.line,
                value: value.name.clone(),
            });
        };
        if seen.insert(name.clone(), ()).is_none() {
            out.push(SubgraphInfo { name, url });
        }
    }
    Ok(out)
}
