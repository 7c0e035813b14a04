//! Authorization by the schema's own directives, enforced before any
//! subgraph is called: `@authenticated`, `@requiresScopes(scopes:)` and
//! `@policy(policies:)` as Apollo Federation defines them (on fields and on
//! the types they return), plus the hub's rule that an anonymous caller
//! reaches only the root fields the configuration marks public.
//!
//! The work is split so that nothing per principal is ever cached:
//! preparing a document (cached) lists the fields that carry a requirement,
//! with their response paths ([`collect`]); each request then checks that
//! short list against its principal ([`Authorization::unauthorized`]). A
//! request that asks for a field it may not see has those fields removed
//! from its document ([`remove_fields`]) — the filtered document is prepared
//! and cached like any other, under its own text — or is refused whole when
//! the configuration says so.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use graphql_tools::static_graphql::query::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    TypeCondition, Value,
};
use graphql_tools::static_graphql::schema::{
    Definition as SchemaDefinition, Directive as SchemaDirective, Document as SchemaDocument,
    TypeDefinition, Value as SchemaValue,
};
use serde::{Deserialize, Serialize};

use super::response::{GraphQLError, PathSegment};
use super::schema_index::{named_type, type_parts, SchemaIndex};
use crate::auth::{Principal, PrincipalKind};
use crate::error_code::ErrorCode;

/// A named policy: conditions on the principal, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyRule {
    /// The principal's kind is one of these (empty: any kind).
    pub kinds: Vec<String>,
    /// The principal has every one of these scopes.
    pub scopes: Vec<String>,
    /// Each named claim equals the given value.
    pub claims: HashMap<String, serde_json::Value>,
}

impl PolicyRule {
    fn allows(&self, principal: &Principal) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == principal.kind.as_str()))
            && self.scopes.iter().all(|s| principal.has_scope(s))
            && self
                .claims
                .iter()
                .all(|(name, value)| principal.claims.get(name) == Some(value))
    }
}

/// The `[authorization]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorizationConfig {
    /// Root fields an anonymous caller may ask for, as `Query.hub`; `Query.*`
    /// for every query field.
    pub public: Vec<String>,
    /// The policies `@policy` names.
    pub policies: HashMap<String, PolicyRule>,
    /// Refuse a request whole when it asks for any field it may not see,
    /// instead of removing those fields and answering the rest.
    pub reject_unauthorized: bool,
}

impl Default for AuthorizationConfig {
    fn default() -> Self {
        let policy = |kinds: &[&str]| PolicyRule {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            ..PolicyRule::default()
        };
        AuthorizationConfig {
            public: [
                "Query.hub",
                "Query.ledgerCheckpoint",
                "Query.ledgerEntry",
                "Query.ledgerEntries",
                "Query.inclusionProof",
                "Query.consistencyProof",
            ]
            .map(str::to_string)
            .to_vec(),
            policies: HashMap::from([
                ("department".to_string(), policy(&["department", "agency"])),
                ("operator".to_string(), policy(&["operator"])),
                ("agency".to_string(), policy(&["agency"])),
                ("registrar".to_string(), policy(&["registrar"])),
                ("citizen".to_string(), policy(&["citizen"])),
                (
                    "government".to_string(),
                    policy(&["department", "agency", "frontend", "operator", "registrar"]),
                ),
            ]),
            reject_unauthorized: false,
        }
    }
}

/// What a field or type requires, read from its directives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    pub authenticated: bool,
    /// Any one group, all of its scopes.
    pub scopes: Vec<Vec<String>>,
    /// Any one group, all of its policies.
    pub policies: Vec<Vec<String>>,
}

impl Requirement {
    fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_empty() && self.policies.is_empty()
    }

    fn merge(&mut self, other: &Requirement) {
        self.authenticated |= other.authenticated;
        // Both must hold: AND of two ORs, kept as separate alternatives lists
        // would need a product; keep it exact by cross-multiplying (schemas
        // declare a handful of groups).
        self.scopes = and_groups(&self.scopes, &other.scopes);
        self.policies = and_groups(&self.policies, &other.policies);
    }
}

fn and_groups(a: &[Vec<String>], b: &[Vec<String>]) -> Vec<Vec<String>> {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_vec(),
        (_, true) => a.to_vec(),
        _ => a
            .iter()
            .flat_map(|x| {
                b.iter().map(move |y| {
                    let mut group = x.clone();
                    group.extend(y.iter().cloned());
                    group
                })
            })
            .collect(),
    }
}

/// Requirements by field coordinate and by type, for one supergraph.
#[derive(Debug, Default)]
pub struct RequirementIndex {
    fields: HashMap<(String, String), Requirement>,
    types: HashMap<String, Requirement>,
}

impl RequirementIndex {
    pub fn from_schema(document: &SchemaDocument) -> RequirementIndex {
        let mut index = RequirementIndex::default();
        for definition in &document.definitions {
            let SchemaDefinition::TypeDefinition(definition) = definition else {
                continue;
            };
            if matches!(definition, TypeDefinition::InputObject(_)) {
                continue;
            }
            let (name, directives, fields) = type_parts(definition);
            let name = name.to_string();
            let own = requirement_of(directives);
            if !own.is_empty() {
                index.types.insert(name.clone(), own);
            }
            for field in fields.into_iter().flatten() {
                let requirement = requirement_of(&field.directives);
                if !requirement.is_empty() {
                    index
                        .fields
                        .insert((name.clone(), field.name.clone()), requirement);
                }
            }
        }
        index
    }

    /// What asking for `parent.field` (returning `returns`) requires.
    fn of(&self, parent: &str, field: &str, returns: &str) -> Option<Requirement> {
        let on_field = self.fields.get(&(parent.to_string(), field.to_string()));
        let on_type = self.types.get(returns);
        match (on_field, on_type) {
            (None, None) => None,
            (Some(r), None) | (None, Some(r)) => Some(r.clone()),
            (Some(a), Some(b)) => {
                let mut merged = a.clone();
                merged.merge(b);
                Some(merged)
            }
        }
    }
}

fn requirement_of(directives: &[SchemaDirective]) -> Requirement {
    let mut requirement = Requirement::default();
    for directive in directives {
        match directive.name.as_str() {
            "authenticated" => requirement.authenticated = true,
            "requiresScopes" => requirement.scopes = groups(directive, "scopes"),
            "policy" => requirement.policies = groups(directive, "policies"),
            _ => {}
        }
    }
    requirement
}

fn groups(directive: &SchemaDirective, argument: &str) -> Vec<Vec<String>> {
    let Some((_, SchemaValue::List(outer))) = directive
        .arguments
        .iter()
        .find(|(name, _)| name == argument)
    else {
        return Vec::new();
    };
    outer
        .iter()
        .map(|inner| match inner {
            SchemaValue::List(items) => items
                .iter()
                .filter_map(|item| match item {
                    SchemaValue::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            SchemaValue::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

/// A field of a prepared operation that someone might not be allowed to see.
#[derive(Debug, Clone)]
pub struct GuardedField {
    pub path: Vec<String>,
    pub parent: String,
    pub field: String,
    /// A root field: an anonymous caller needs it to be public.
    pub root: bool,
    pub requirement: Option<Arc<Requirement>>,
}

/// Lists the operation's guarded fields (fragments expanded; the limits
/// have bounded the expansion already).
pub fn collect(
    document: &Document,
    root: &SelectionSet,
    root_type: &str,
    schema: &SchemaIndex,
    index: &RequirementIndex,
) -> Vec<GuardedField> {
    let fragments = super::operation::fragments_by_name(document);
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(
        root, root_type, true, &fragments, schema, index, &mut path, &mut out, 0,
    );
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(
    set: &SelectionSet,
    parent: &str,
    root: bool,
    fragments: &HashMap<&str, &FragmentDefinition>,
    schema: &SchemaIndex,
    index: &RequirementIndex,
    path: &mut Vec<String>,
    out: &mut Vec<GuardedField>,
    spread_depth: usize,
) {
    for item in &set.items {
        match item {
            Selection::Field(field) => {
                if field.name.starts_with("__") {
                    continue;
                }
                let returns = schema
                    .field_type(parent, &field.name)
                    .map(named_type)
                    .unwrap_or("");
                let key = field.alias.as_ref().unwrap_or(&field.name).clone();
                path.push(key);
                let requirement = index.of(parent, &field.name, returns).map(Arc::new);
                if root || requirement.is_some() {
                    out.push(GuardedField {
                        path: path.clone(),
                        parent: parent.to_string(),
                        field: field.name.clone(),
                        root,
                        requirement,
                    });
                }
                walk(
                    &field.selection_set,
                    returns,
                    false,
                    fragments,
                    schema,
                    index,
                    path,
                    out,
                    spread_depth,
                );
                path.pop();
            }
            Selection::InlineFragment(inline) => {
                let on = match &inline.type_condition {
                    Some(TypeCondition::On(on)) => on.as_str(),
                    None => parent,
                };
                walk(
                    &inline.selection_set,
                    on,
                    root,
                    fragments,
                    schema,
                    index,
                    path,
                    out,
                    spread_depth,
                );
            }
            Selection::FragmentSpread(spread) => {
                // Cycles were refused when the operation was measured; the
                // depth guard is a backstop.
                if spread_depth > 64 {
                    continue;
                }
                if let Some(fragment) = fragments.get(spread.fragment_name.as_str()) {
                    let TypeCondition::On(on) = &fragment.type_condition;
                    walk(
                        &fragment.selection_set,
                        on,
                        root,
                        fragments,
                        schema,
                        index,
                        path,
                        out,
                        spread_depth + 1,
                    );
                }
            }
        }
    }
}

/// The configuration's decisions.
pub struct Authorization {
    config: AuthorizationConfig,
    public_all: HashSet<String>,
}

impl Authorization {
    pub fn new(config: AuthorizationConfig) -> Authorization {
        let public_all = config
            .public
            .iter()
            .filter_map(|c| c.strip_suffix(".*").map(str::to_string))
            .collect();
        Authorization { config, public_all }
    }

    pub fn reject_unauthorized(&self) -> bool {
        self.config.reject_unauthorized
    }

    fn is_public(&self, parent: &str, field: &str) -> bool {
        self.config.public.iter().any(|c| c == "*")
            || self.public_all.contains(parent)
            || self
                .config
                .public
                .iter()
                .any(|c| c.split_once('.') == Some((parent, field)))
    }

    fn satisfies(&self, principal: &Principal, requirement: &Requirement) -> bool {
        if requirement.authenticated && principal.kind == PrincipalKind::Anonymous {
            return false;
        }
        let scopes_ok = requirement.scopes.is_empty()
            || requirement
                .scopes
                .iter()
                .any(|group| group.iter().all(|s| principal.has_scope(s)));
        let policies_ok = requirement.policies.is_empty()
            || requirement.policies.iter().any(|group| {
                group.iter().all(|name| {
                    self.config
                        .policies
                        .get(name)
                        .is_some_and(|rule| rule.allows(principal))
                })
            });
        scopes_ok && policies_ok
    }

    /// The guarded fields `principal` may not see.
    pub fn unauthorized<'g>(
        &self,
        guarded: &'g [GuardedField],
        principal: &Principal,
    ) -> Vec<&'g GuardedField> {
        // The hub's own delivery sees everything it routes.
        if principal.kind == PrincipalKind::Hub {
            return Vec::new();
        }
        guarded
            .iter()
            .filter(|g| {
                let public_ok = !g.root
                    || principal.kind != PrincipalKind::Anonymous
                    || self.is_public(&g.parent, &g.field);
                let requirement_ok = g
                    .requirement
                    .as_ref()
                    .is_none_or(|r| self.satisfies(principal, r));
                !(public_ok && requirement_ok)
            })
            .collect()
    }
}

/// One error per field removed, with its response path.
pub fn errors_for(fields: &[&GuardedField]) -> Vec<GraphQLError> {
    fields
        .iter()
        .map(|g| {
            GraphQLError::new(
                format!("Unauthorized field or type: {}.{}", g.parent, g.field),
                ErrorCode::UnauthorizedFieldOrType,
            )
            .with_path(g.path.iter().cloned().map(PathSegment::Key).collect())
        })
        .collect()
}

/// `document` without the fields at `coordinates` (parent type, field), and
/// without what their removal leaves empty or unused (selection sets,
/// fragments, variable definitions). `None` when nothing of the operation
/// is left.
pub fn remove_fields(
    document: &Document,
    coordinates: &HashSet<(String, String)>,
    schema: &SchemaIndex,
) -> Option<Document> {
    let mut document = document.clone();
    let fragment_types: HashMap<String, String> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => {
                let TypeCondition::On(on) = &f.type_condition;
                Some((f.name.clone(), on.clone()))
            }
            Definition::Operation(_) => None,
        })
        .collect();
    let mut empty: HashSet<String> = HashSet::new();
    // Fragments first, repeatedly: one left empty empties those that only spread it.
    loop {
        let before = empty.len();
        for definition in &mut document.definitions {
            if let Definition::Fragment(fragment) = definition {
                let on = fragment_types
                    .get(&fragment.name)
                    .cloned()
                    .unwrap_or_default();
                if !empty.contains(&fragment.name)
                    && !filter(
                        &mut fragment.selection_set,
                        &on,
                        coordinates,
                        &empty,
                        schema,
                    )
                {
                    empty.insert(fragment.name.clone());
                }
            }
        }
        if empty.len() == before {
            break;
        }
    }
    let mut operation_left = false;
    for definition in &mut document.definitions {
        if let Definition::Operation(op) = definition {
            let (root, set) = match op {
                OperationDefinition::SelectionSet(s) => (schema.query_type.clone(), s),
                OperationDefinition::Query(q) => (schema.query_type.clone(), &mut q.selection_set),
                OperationDefinition::Mutation(m) => (
                    schema.mutation_type.clone().unwrap_or_default(),
                    &mut m.selection_set,
                ),
                OperationDefinition::Subscription(s) => (
                    schema.subscription_type.clone().unwrap_or_default(),
                    &mut s.selection_set,
                ),
            };
            operation_left |= filter(set, &root, coordinates, &empty, schema);
        }
    }
    if !operation_left {
        return None;
    }
    document.definitions.retain(|d| match d {
        Definition::Fragment(f) => !empty.contains(&f.name),
        Definition::Operation(_) => true,
    });
    drop_unused(&mut document);
    Some(document)
}

/// Removes from `set` the fields at `coordinates` and spreads of `empty`
/// fragments; says whether anything is left.
fn filter(
    set: &mut SelectionSet,
    parent: &str,
    coordinates: &HashSet<(String, String)>,
    empty: &HashSet<String>,
    schema: &SchemaIndex,
) -> bool {
    set.items.retain_mut(|item| match item {
        Selection::Field(field) => {
            if coordinates.contains(&(parent.to_string(), field.name.clone())) {
                return false;
            }
            if field.selection_set.items.is_empty() {
                return true;
            }
            let returns = schema
                .field_type(parent, &field.name)
                .map(named_type)
                .unwrap_or("")
                .to_string();
            filter(
                &mut field.selection_set,
                &returns,
                coordinates,
                empty,
                schema,
            )
        }
        Selection::InlineFragment(inline) => {
            let on = match &inline.type_condition {
                Some(TypeCondition::On(on)) => on.clone(),
                None => parent.to_string(),
            };
            filter(&mut inline.selection_set, &on, coordinates, empty, schema)
        }
        Selection::FragmentSpread(spread) => !empty.contains(&spread.fragment_name),
    });
    !set.items.is_empty()
}

/// Drops fragments no longer spread and variable definitions no longer used.
fn drop_unused(document: &mut Document) {
    loop {
        let mut spread = HashSet::new();
        for definition in &document.definitions {
            let set = match definition {
                Definition::Fragment(f) => &f.selection_set,
                Definition::Operation(op) => operation_set(op),
            };
            spreads(set, &mut spread);
        }
        let before = document.definitions.len();
        document.definitions.retain(|d| match d {
            Definition::Fragment(f) => spread.contains(&f.name),
            Definition::Operation(_) => true,
        });
        if document.definitions.len() == before {
            break;
        }
    }
    let mut used = HashSet::new();
    for definition in &document.definitions {
        match definition {
            Definition::Fragment(f) => variables_in(&f.selection_set, &mut used),
            Definition::Operation(op) => variables_in(operation_set(op), &mut used),
        }
    }
    for definition in &mut document.definitions {
        if let Definition::Operation(op) = definition {
            let definitions = match op {
                OperationDefinition::SelectionSet(_) => continue,
                OperationDefinition::Query(q) => &mut q.variable_definitions,
                OperationDefinition::Mutation(m) => &mut m.variable_definitions,
                OperationDefinition::Subscription(s) => &mut s.variable_definitions,
            };
            definitions.retain(|v| used.contains(&v.name));
        }
    }
}

fn operation_set(op: &OperationDefinition) -> &SelectionSet {
    match op {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    }
}

fn spreads(set: &SelectionSet, out: &mut HashSet<String>) {
    for item in &set.items {
        match item {
            Selection::Field(f) => spreads(&f.selection_set, out),
            Selection::InlineFragment(i) => spreads(&i.selection_set, out),
            Selection::FragmentSpread(s) => {
                out.insert(s.fragment_name.clone());
            }
        }
    }
}

fn variables_in(set: &SelectionSet, out: &mut HashSet<String>) {
    let value = |v: &Value, out: &mut HashSet<String>| value_variables(v, out);
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                f.arguments.iter().for_each(|(_, v)| value(v, out));
                f.directives
                    .iter()
                    .flat_map(|d| &d.arguments)
                    .for_each(|(_, v)| value(v, out));
                variables_in(&f.selection_set, out);
            }
            Selection::InlineFragment(i) => {
                i.directives
                    .iter()
                    .flat_map(|d| &d.arguments)
                    .for_each(|(_, v)| value(v, out));
                variables_in(&i.selection_set, out);
            }
            Selection::FragmentSpread(s) => s
                .directives
                .iter()
                .flat_map(|d| &d.arguments)
                .for_each(|(_, v)| value(v, out)),
        }
    }
}

fn value_variables(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Variable(name) => {
            out.insert(name.clone());
        }
        Value::List(items) => items.iter().for_each(|v| value_variables(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(_, v)| value_variables(v, out)),
        _ => {}
    }
}
