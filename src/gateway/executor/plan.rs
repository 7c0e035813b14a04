//! The executable form of a query plan, built once per cached plan: fetch
//! operations pre-rendered as JSON strings, flatten paths pre-parsed, and the
//! plan nodes the executor walks.

use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    FetchNode, FetchRewrite, FlattenNodePath, FlattenNodePathSegment, PlanNode, QueryPlan,
};

/// One step of a flatten path.
#[derive(Debug, Clone)]
pub enum PathStep {
    Field(String),
    List,
    TypeCondition(Vec<String>),
}

/// One subgraph call, ready to send.
#[derive(Debug)]
pub struct FetchStep {
    pub subgraph: String,
    /// The operation text as a JSON string literal (quotes included).
    pub query_json: String,
    pub variable_usages: Vec<String>,
    /// Present for entity fetches: how to build each representation.
    pub requires: Option<SelectionSet>,
    pub input_rewrites: Vec<FetchRewrite>,
    pub output_rewrites: Vec<FetchRewrite>,
}

/// One `_entities` alias of a batched entity fetch.
#[derive(Debug)]
pub struct BatchAlias {
    pub alias: String,
    pub representations_variable: String,
    pub paths: Vec<Vec<PathStep>>,
    pub requires: SelectionSet,
    pub input_rewrites: Vec<FetchRewrite>,
    pub output_rewrites: Vec<FetchRewrite>,
}

#[derive(Debug)]
pub struct BatchStep {
    pub subgraph: String,
    pub query_json: String,
    pub variable_usages: Vec<String>,
    pub aliases: Vec<BatchAlias>,
}

#[derive(Debug)]
pub enum ExecNode {
    Fetch(FetchStep),
    Flatten {
        /// One path, kept as a list so it shares code with batched fetches.
        paths: Vec<Vec<PathStep>>,
        fetch: FetchStep,
    },
    Batch(BatchStep),
    Sequence(Vec<ExecNode>),
    Parallel(Vec<ExecNode>),
    Condition {
        variable: String,
        if_clause: Option<Box<ExecNode>>,
        else_clause: Option<Box<ExecNode>>,
    },
    /// A subscription: `primary` is opened on its subgraph, and `rest`
    /// completes each event it yields with fields from other subgraphs.
    Subscription {
        primary: FetchStep,
        rest: Option<Box<ExecNode>>,
    },
    Unsupported(&'static str),
}

/// A plan ready to execute.
#[derive(Debug)]
pub struct ExecutablePlan {
    pub root: Option<ExecNode>,
    /// The planner's rendering, for diagnostics.
    pub display: String,
}

impl ExecutablePlan {
    pub fn from_query_plan(plan: &QueryPlan) -> ExecutablePlan {
        ExecutablePlan {
            root: plan.node.as_ref().map(convert_root),
            display: plan.to_string(),
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn path_steps(path: &FlattenNodePath) -> Vec<PathStep> {
    path.as_slice()
        .iter()
        .map(|segment| match segment {
            FlattenNodePathSegment::Field(name) => PathStep::Field(name.clone()),
            FlattenNodePathSegment::List => PathStep::List,
            FlattenNodePathSegment::TypeCondition(types) => {
                PathStep::TypeCondition(types.iter().cloned().collect())
            }
        })
        .collect()
}

fn fetch_step(node: &FetchNode) -> FetchStep {
    FetchStep {
        subgraph: node.service_name.clone(),
        query_json: json_string(&node.operation.document_str),
        variable_usages: node.variable_usages.iter().flatten().cloned().collect(),
        requires: node.requires.clone(),
        input_rewrites: node.input_rewrites.clone().unwrap_or_default(),
        output_rewrites: node.output_rewrites.clone().unwrap_or_default(),
    }
}

/// The root: a subscription's primary fetch is taken out of the sequence it
/// heads, so that the rest can run once per event.
fn convert_root(node: &PlanNode) -> ExecNode {
    match node {
        PlanNode::Subscription(subscription) => ExecNode::Subscription {
            primary: fetch_step(&subscription.primary),
            rest: None,
        },
        PlanNode::Sequence(seq) => match seq.nodes.split_first() {
            Some((PlanNode::Subscription(subscription), rest)) => ExecNode::Subscription {
                primary: fetch_step(&subscription.primary),
                rest: (!rest.is_empty())
                    .then(|| Box::new(ExecNode::Sequence(rest.iter().map(convert).collect()))),
            },
            _ => convert(node),
        },
        _ => convert(node),
    }
}

fn convert(node: &PlanNode) -> ExecNode {
    match node {
        PlanNode::Fetch(fetch) => ExecNode::Fetch(fetch_step(fetch)),
        PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
            PlanNode::Fetch(fetch) => ExecNode::Flatten {
                paths: vec![path_steps(&flatten.path)],
                fetch: fetch_step(fetch),
            },
            _ => ExecNode::Unsupported("a flatten node around something other than a fetch"),
        },
        PlanNode::BatchFetch(batch) => ExecNode::Batch(BatchStep {
            subgraph: batch.service_name.clone(),
            query_json: json_string(&batch.operation.document_str),
            variable_usages: batch.variable_usages.iter().flatten().cloned().collect(),
            aliases: batch
                .entity_batch
                .aliases
                .iter()
                .map(|a| BatchAlias {
                    alias: a.alias.clone(),
                    representations_variable: a.representations_variable_name.clone(),
                    paths: a.merge_paths.iter().map(path_steps).collect(),
                    requires: a.requires.clone(),
                    input_rewrites: a.input_rewrites.clone().unwrap_or_default(),
                    output_rewrites: a.output_rewrites.clone().unwrap_or_default(),
                })
                .collect(),
        }),
        PlanNode::Sequence(seq) => ExecNode::Sequence(seq.nodes.iter().map(convert).collect()),
        PlanNode::Parallel(par) => ExecNode::Parallel(par.nodes.iter().map(convert).collect()),
        PlanNode::Condition(cond) => ExecNode::Condition {
            variable: cond.condition.clone(),
            if_clause: cond.if_clause.as_ref().map(|n| Box::new(convert(n))),
            else_clause: cond.else_clause.as_ref().map(|n| Box::new(convert(n))),
        },
        PlanNode::Defer(defer) => {
            let mut nodes = Vec::new();
            if let Some(primary) = &defer.primary.node {
                nodes.push(convert(primary));
            }
            for deferred in &defer.deferred {
                if let Some(node) = &deferred.node {
                    nodes.push(convert(node));
                }
            }
            ExecNode::Sequence(nodes)
        }
        PlanNode::Subscription(_) => ExecNode::Unsupported("a subscription below the root"),
    }
}
