//! Picking the operation to run from a parsed document, and its kind.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, SelectionSet, VariableDefinition,
};

use super::response::GraphQLError;
use crate::error_code::ErrorCode;

/// Query, mutation or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

/// The parts of one operation definition the gateway uses.
pub struct SelectedOperation<'d> {
    pub kind: OperationKind,
    pub name: Option<&'d str>,
    pub variables: &'d [VariableDefinition],
    pub selection_set: &'d SelectionSet,
}

fn parts(op: &OperationDefinition) -> SelectedOperation<'_> {
    match op {
        OperationDefinition::SelectionSet(s) => SelectedOperation {
            kind: OperationKind::Query,
            name: None,
            variables: &[],
            selection_set: s,
        },
        OperationDefinition::Query(q) => SelectedOperation {
            kind: OperationKind::Query,
            name: q.name.as_deref(),
            variables: &q.variable_definitions,
            selection_set: &q.selection_set,
        },
        OperationDefinition::Mutation(m) => SelectedOperation {
            kind: OperationKind::Mutation,
            name: m.name.as_deref(),
            variables: &m.variable_definitions,
            selection_set: &m.selection_set,
        },
        OperationDefinition::Subscription(s) => SelectedOperation {
            kind: OperationKind::Subscription,
            name: s.name.as_deref(),
            variables: &s.variable_definitions,
            selection_set: &s.selection_set,
        },
    }
}

/// Chooses the operation named `operation_name`, or the only one.
pub fn select_operation<'d>(
    document: &'d Document,
    operation_name: Option<&str>,
) -> Result<SelectedOperation<'d>, GraphQLError> {
    let mut operations = document.definitions.iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(parts(op)),
        Definition::Fragment(_) => None,
    });
    match operation_name {
        Some(wanted) => operations
            .find(|op| op.name == Some(wanted))
            .ok_or_else(|| {
                GraphQLError::new(
                    format!("Unknown operation named \"{wanted}\"."),
                    ErrorCode::BadUserInput,
                )
            }),
        None => {
            let first = operations.next().ok_or_else(|| {
                GraphQLError::new(
                    "The document contains no operation.",
                    ErrorCode::GraphqlValidationFailed,
                )
            })?;
            if operations.next().is_some() {
                return Err(GraphQLError::new(
                    "Must provide operation name if query contains multiple operations.",
                    ErrorCode::GraphqlValidationFailed,
                ));
            }
            Ok(first)
        }
    }
}

/// The document's fragment definitions by name.
pub fn fragments_by_name(document: &Document) -> HashMap<&str, &FragmentDefinition> {
    document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect()
}
