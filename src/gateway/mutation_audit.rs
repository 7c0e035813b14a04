//! The record of every mutation the gateway forwards to a subgraph: before a
//! mutation's root fetch is sent, a [`MutationAudit`] is told who sends what
//! to which subgraph (and may refuse: a change that cannot be recorded is not
//! made); after it, how it ended. The gateway knows nothing of where the
//! record goes; the hub writes it to its ledger.

use futures::future::BoxFuture;
use graphql_tools::static_graphql::query::{Definition, OperationDefinition, Selection, Value};
use hive_router_query_planner::utils::parsing::safe_parse_operation_with_token_limit;
use serde_json::{Map, Value as Json};

use super::context::RequestContext;
use super::response::GraphQLError;

/// Most argument values listed for one forwarded operation; the rest are
/// counted, not listed, so a record stays small whatever the input.
pub const MAX_RECORDED_VALUES: usize = 256;

/// A mutation about to be sent to a subgraph.
pub struct ForwardedMutation<'a> {
    pub subgraph: &'a str,
    /// The operation text the subgraph receives.
    pub operation: &'a str,
    /// The variables sent with it.
    pub variables: &'a Map<String, Json>,
    pub context: &'a RequestContext,
}

/// One root field of a forwarded mutation and the values it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSet {
    pub field: String,
    /// Each leaf of each argument by its path (`input.address.postcode`,
    /// `names[1]`), variables resolved.
    pub values: Vec<(String, Json)>,
}

/// The root fields of a forwarded mutation, and how many values were left
/// out beyond [`MAX_RECORDED_VALUES`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldsSet {
    pub fields: Vec<FieldSet>,
    pub omitted_values: usize,
}

impl ForwardedMutation<'_> {
    /// What the operation sets. The text is the planner's, already
    /// validated; one that does not parse yields no fields.
    pub fn fields_set(&self) -> FieldsSet {
        let mut out = FieldsSet::default();
        let Ok(document) = safe_parse_operation_with_token_limit(self.operation, usize::MAX) else {
            return out;
        };
        let mut budget = MAX_RECORDED_VALUES;
        for definition in &document.definitions {
            let Definition::Operation(OperationDefinition::Mutation(mutation)) = definition else {
                continue;
            };
            for selection in &mutation.selection_set.items {
                let Selection::Field(field) = selection else {
                    continue;
                };
                if field.name.starts_with("__") {
                    continue;
                }
                let mut values = Vec::new();
                for (name, value) in &field.arguments {
                    let resolved = resolve(value, self.variables);
                    json_leaves(name.clone(), &resolved, &mut values, &mut budget, &mut out);
                }
                out.fields.push(FieldSet {
                    field: field.name.clone(),
                    values,
                });
            }
        }
        out
    }
}

/// An argument's value as JSON, variables replaced by their values.
fn resolve(value: &Value, variables: &Map<String, Json>) -> Json {
    match value {
        Value::Variable(name) => variables.get(name).cloned().unwrap_or(Json::Null),
        Value::Int(n) => n.as_i64().map_or(Json::Null, Json::from),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Enum(e) => Json::String(e.clone()),
        Value::Null => Json::Null,
        Value::List(items) => Json::Array(items.iter().map(|v| resolve(v, variables)).collect()),
        Value::Object(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), resolve(v, variables)))
                .collect(),
        ),
    }
}

fn json_leaves(
    path: String,
    value: &Json,
    values: &mut Vec<(String, Json)>,
    budget: &mut usize,
    out: &mut FieldsSet,
) {
    match value {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_leaves(format!("{path}[{i}]"), item, values, budget, out);
            }
        }
        Json::Object(fields) => {
            for (key, item) in fields {
                json_leaves(format!("{path}.{key}"), item, values, budget, out);
            }
        }
        leaf => push_leaf(path, leaf.clone(), values, budget, out),
    }
}

fn push_leaf(
    path: String,
    value: Json,
    values: &mut Vec<(String, Json)>,
    budget: &mut usize,
    out: &mut FieldsSet,
) {
    if *budget == 0 {
        out.omitted_values += 1;
    } else {
        *budget -= 1;
        values.push((path, value));
    }
}

/// How a forwarded mutation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MutationOutcome {
    /// The subgraph answered without errors.
    Applied,
    /// The subgraph answered with errors (their codes); it may have applied
    /// part of the operation.
    Refused(Vec<String>),
    /// No answer (unavailable, timed out, not GraphQL): whether anything
    /// changed is unknown.
    Failed(String),
}

/// What the audit returns before a call, handed back after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditTicket(pub u64);

/// Where forwarded mutations are recorded.
pub trait MutationAudit: Send + Sync {
    /// Records the intent. `Ok(None)` when this subgraph's changes are not
    /// recorded here (the hub's own subgraph ledgers its changes itself);
    /// `Err` refuses the call.
    fn before<'a>(
        &'a self,
        mutation: ForwardedMutation<'a>,
    ) -> BoxFuture<'a, Result<Option<AuditTicket>, GraphQLError>>;

    /// Records the outcome of the call `ticket` stands for.
    fn after<'a>(
        &'a self,
        ticket: AuditTicket,
        context: &'a RequestContext,
        outcome: MutationOutcome,
    ) -> BoxFuture<'a, ()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(operation: &str, variables: Json) -> FieldsSet {
        let context = RequestContext::anonymous();
        let variables = variables.as_object().cloned().unwrap_or_default();
        ForwardedMutation {
            subgraph: "s",
            operation,
            variables: &variables,
            context: &context,
        }
        .fields_set()
    }

    #[test]
    fn every_leaf_of_every_argument_is_listed_by_its_path() {
        let set = fields_of(
            r#"mutation($a: AddressInput!) { move(nino: "JK528194C", to: $a, tags: ["x", 2]) { ok } __typename }"#,
            serde_json::json!({ "a": { "line1": "1 High St", "postcode": "SW1A 1AA" } }),
        );
        assert_eq!(set.fields.len(), 1);
        let paths: Vec<&str> = set.fields[0]
            .values
            .iter()
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(
            paths,
            ["nino", "to.line1", "to.postcode", "tags[0]", "tags[1]"]
        );
        assert_eq!(set.fields[0].values[2].1, "SW1A 1AA");
        assert_eq!(set.omitted_values, 0);
    }

    #[test]
    fn values_beyond_the_budget_are_counted_not_listed() {
        let items: Vec<Json> = (0..MAX_RECORDED_VALUES + 10).map(Json::from).collect();
        let set = fields_of(
            "mutation($xs: [Int!]!) { a(xs: $xs) { ok } }",
            serde_json::json!({ "xs": items }),
        );
        assert_eq!(set.fields[0].values.len(), MAX_RECORDED_VALUES);
        assert_eq!(set.omitted_values, 10);
    }
}
