//! Checking routing rules against a supergraph: the event and every path a
//! rule reads exist in `LifeEventInput`, the department is a subgraph, the
//! document is a valid mutation planned against that department alone,
//! every variable is supplied and its source's type fits. A supergraph
//! without `LifeEventInput` does not serve tell-us-once at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use graphql_tools::static_graphql::schema::{
    Definition, Document, InputValue, Type, TypeDefinition,
};

use super::event::LifeEventType;
use super::routes::{RouteError, RouteRule, VariableSource};
use crate::gateway::executor::plan::ExecNode;
use crate::gateway::prepare::prepare;
use crate::gateway::{OperationKind, Supergraph};

/// The input type every event is a field of.
pub const EVENT_INPUT_TYPE: &str = "LifeEventInput";

/// Rules that passed against one supergraph, by event type.
#[derive(Debug, Default)]
pub struct CheckedRoutes {
    /// The supergraph they were checked against.
    pub supergraph_hash: String,
    by_event: HashMap<LifeEventType, Vec<Arc<RouteRule>>>,
}

impl CheckedRoutes {
    /// The rules for one event type (one per department).
    pub fn for_event(&self, event: LifeEventType) -> &[Arc<RouteRule>] {
        self.by_event.get(&event).map_or(&[], Vec::as_slice)
    }
}

/// Checks every rule; the first failure names its rule.
///
/// With `skip_absent_departments` (the built-in rules), a rule for a
/// department the supergraph does not have is left out with a warning
/// instead of refused: a deployment need not run every department.
pub fn check_routes(
    rules: &[RouteRule],
    supergraph: &Supergraph,
    skip_absent_departments: bool,
) -> Result<Option<CheckedRoutes>, RouteError> {
    let schema = SchemaTypes::new(supergraph.api_schema());
    let Some(event_fields) = schema.input_fields(EVENT_INPUT_TYPE) else {
        return Ok(None);
    };
    let mut checked = CheckedRoutes {
        supergraph_hash: supergraph.hash().to_owned(),
        by_event: HashMap::new(),
    };
    for rule in rules {
        let event_type = LifeEventType::from_input_field(&rule.event)
            .filter(|_| event_fields.iter().any(|f| f.name == rule.event))
            .ok_or_else(|| {
                rule.error(format!(
                    "event `{}` is not a field of {EVENT_INPUT_TYPE}",
                    rule.event
                ))
            })?;
        if !supergraph
            .subgraphs()
            .iter()
            .any(|s| s.name == rule.department)
        {
            if skip_absent_departments {
                tracing::warn!(rule = %rule.name, department = %rule.department, "routing rule left out: the department is not in the supergraph");
                continue;
            }
            return Err(rule.error(format!(
                "department `{}` is not a subgraph of the supergraph",
                rule.department
            )));
        }
        let event_type_name = event_fields
            .iter()
            .find(|f| f.name == rule.event)
            .map(|f| named(&f.value_type).to_owned())
            .unwrap_or_default();
        let list = checked.by_event.entry(event_type).or_default();
        if list.iter().any(|r| r.department == rule.department) {
            return Err(rule.error(format!(
                "a second rule for event `{}` and department `{}`",
                rule.event, rule.department
            )));
        }
        let checker = RuleChecker {
            rule,
            schema: &schema,
            event_type_name: &event_type_name,
        };
        match &rule.document {
            Some(document) => checker.check_push(document, supergraph)?,
            None => checker.check_pull()?,
        }
        list.push(Arc::new(rule.clone()));
    }
    Ok(Some(checked))
}

/// The named type at the bottom of a type reference.
fn named(t: &Type) -> &str {
    match t {
        Type::NamedType(n) => n,
        Type::ListType(inner) | Type::NonNullType(inner) => named(inner),
    }
}

fn render(t: &Type) -> String {
    match t {
        Type::NamedType(n) => n.clone(),
        Type::ListType(inner) => format!("[{}]", render(inner)),
        Type::NonNullType(inner) => format!("{}!", render(inner)),
    }
}

/// The API schema's input objects and enums by name.
struct SchemaTypes<'a> {
    inputs: HashMap<&'a str, &'a [InputValue]>,
    enums: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> SchemaTypes<'a> {
    fn new(document: &'a Document) -> Self {
        let mut inputs = HashMap::new();
        let mut enums = HashMap::new();
        for definition in &document.definitions {
            match definition {
                Definition::TypeDefinition(TypeDefinition::InputObject(i)) => {
                    inputs.insert(i.name.as_str(), i.fields.as_slice());
                }
                Definition::TypeDefinition(TypeDefinition::Enum(e)) => {
                    enums.insert(
                        e.name.as_str(),
                        e.values.iter().map(|v| v.name.as_str()).collect(),
                    );
                }
                _ => {}
            }
        }
        SchemaTypes { inputs, enums }
    }

    fn input_fields(&self, name: &str) -> Option<&'a [InputValue]> {
        self.inputs.get(name).copied()
    }

    /// Can a value of type `source` be given where `target` is expected?
    fn fits(&self, source: &Type, target: &Type) -> Result<(), String> {
        let mismatch = || {
            Err(format!(
                "a {} cannot be given as {}",
                render(source),
                render(target)
            ))
        };
        match (source, target) {
            (Type::NonNullType(s), Type::NonNullType(t)) => self.fits(s, t),
            (_, Type::NonNullType(_)) => Err(format!(
                "a {} may be absent but {} is required",
                render(source),
                render(target)
            )),
            (Type::NonNullType(s), t) => self.fits(s, t),
            (Type::ListType(s), Type::ListType(t)) => self.fits(s, t),
            (Type::NamedType(s), Type::NamedType(t)) => {
                if s == t {
                    return Ok(());
                }
                if let (Some(sv), Some(tv)) =
                    (self.enums.get(s.as_str()), self.enums.get(t.as_str()))
                {
                    return match sv.iter().find(|v| !tv.contains(v)) {
                        None => Ok(()),
                        Some(v) => Err(format!("enum value {s}.{v} is not a value of {t}")),
                    };
                }
                if let (Some(sf), Some(tf)) = (self.input_fields(s), self.input_fields(t)) {
                    for field in sf {
                        let Some(target_field) = tf.iter().find(|f| f.name == field.name) else {
                            return Err(format!("{t} has no field {} (from {s})", field.name));
                        };
                        self.fits(&field.value_type, &target_field.value_type)
                            .map_err(|m| format!("{t}.{}: {m}", field.name))?;
                    }
                    for field in tf {
                        let required = matches!(field.value_type, Type::NonNullType(_))
                            && field.default_value.is_none();
                        if required && !sf.iter().any(|f| f.name == field.name) {
                            return Err(format!(
                                "{s} has nothing for the required {t}.{}",
                                field.name
                            ));
                        }
                    }
                    return Ok(());
                }
                mismatch()
            }
            _ => mismatch(),
        }
    }
}

struct RuleChecker<'a> {
    rule: &'a RouteRule,
    schema: &'a SchemaTypes<'a>,
    event_type_name: &'a str,
}

impl RuleChecker<'_> {
    /// The type of the event field at a dotted path.
    fn path_type(&self, path: &str) -> Result<Type, RouteError> {
        let mut current =
            Type::NonNullType(Box::new(Type::NamedType(self.event_type_name.to_owned())));
        let mut nullable = false;
        for segment in path.split('.') {
            let type_name = match &current {
                Type::NonNullType(inner) => match inner.as_ref() {
                    Type::NamedType(n) => n.clone(),
                    _ => String::new(),
                },
                Type::NamedType(n) => {
                    nullable = true;
                    n.clone()
                }
                Type::ListType(_) => String::new(),
            };
            let field = self
                .schema
                .input_fields(&type_name)
                .and_then(|fields| fields.iter().find(|f| f.name == segment))
                .ok_or_else(|| {
                    self.rule.error(format!(
                        "event field `{path}` does not exist ({} has no field `{segment}`)",
                        if type_name.is_empty() {
                            "a list"
                        } else {
                            &type_name
                        }
                    ))
                })?;
            current = field.value_type.clone();
        }
        if nullable {
            if let Type::NonNullType(inner) = current {
                current = *inner;
            }
        }
        Ok(current)
    }

    fn check_pull(&self) -> Result<(), RouteError> {
        for source in self.rule.variables.values() {
            self.check_source_paths(source)?;
        }
        Ok(())
    }

    fn check_source_paths(&self, source: &VariableSource) -> Result<(), RouteError> {
        match source {
            VariableSource::Path(path) => self.path_type(path).map(|_| ()),
            VariableSource::Object(members) => members
                .values()
                .try_for_each(|m| self.check_source_paths(m)),
        }
    }

    fn check_push(&self, document: &str, supergraph: &Supergraph) -> Result<(), RouteError> {
        let prepared = prepare(
            supergraph,
            document,
            None,
            &crate::gateway::RequestLimits::unlimited(),
            true,
        )
        .map_err(|errors| {
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            self.rule.error(format!(
                "the document does not fit the supergraph: {}",
                messages.join("; ")
            ))
        })?;
        if prepared.kind != OperationKind::Mutation {
            return Err(self.rule.error("the document must be a mutation"));
        }
        let mut subgraphs = Vec::new();
        if let Some(root) = prepared.plan.as_ref().and_then(|p| p.root.as_ref()) {
            fetched_subgraphs(root, &mut subgraphs);
        }
        if subgraphs.is_empty() || subgraphs.iter().any(|s| *s != self.rule.department) {
            return Err(self.rule.error(format!(
                "the mutation must be served by department `{}` alone, but it reaches {:?}",
                self.rule.department, subgraphs
            )));
        }
        let declared: BTreeMap<&str, &Type> = prepared
            .variable_definitions
            .iter()
            .map(|v| (v.name.as_str(), &v.var_type))
            .collect();
        let key_variable = self.rule.idempotency_key_variable.as_str();
        match declared.get(key_variable) {
            Some(t) if named(t) == "String" || named(t) == "ID" => {}
            Some(t) => {
                return Err(self.rule.error(format!(
                "variable ${key_variable} carries the idempotency key and must be a String, not {}",
                render(t)
            )))
            }
            None => {
                return Err(self.rule.error(format!(
                    "the document declares no ${key_variable} for the idempotency key"
                )))
            }
        }
        for (name, target) in &declared {
            if *name == key_variable {
                continue;
            }
            let Some(source) = self.rule.variables.get(*name) else {
                if matches!(target, Type::NonNullType(_)) {
                    return Err(self.rule.error(format!(
                        "variable ${name} is required but the rule gives it no source"
                    )));
                }
                continue;
            };
            self.check_source(name, source, target)?;
        }
        if let Some(extra) = self
            .rule
            .variables
            .keys()
            .find(|name| !declared.contains_key(name.as_str()))
        {
            return Err(self.rule.error(format!(
                "variables.{extra} names no variable of the document"
            )));
        }
        Ok(())
    }

    fn check_source(
        &self,
        at: &str,
        source: &VariableSource,
        target: &Type,
    ) -> Result<(), RouteError> {
        match source {
            VariableSource::Path(path) => {
                let source_type = self.path_type(path)?;
                self.schema.fits(&source_type, target).map_err(|m| {
                    self.rule
                        .error(format!("{at} from event field `{path}`: {m}"))
                })
            }
            VariableSource::Object(members) => {
                let type_name = named(target);
                let fields = match target {
                    Type::ListType(_) => None,
                    Type::NonNullType(inner) if matches!(**inner, Type::ListType(_)) => None,
                    _ => self.schema.input_fields(type_name),
                }
                .ok_or_else(|| {
                    self.rule.error(format!(
                        "{at} is built as an object but its type {} is not an input object",
                        render(target)
                    ))
                })?;
                for (member, member_source) in members {
                    let field = fields.iter().find(|f| f.name == *member).ok_or_else(|| {
                        self.rule.error(format!(
                            "{at}.{member}: {type_name} has no field `{member}`"
                        ))
                    })?;
                    self.check_source(&format!("{at}.{member}"), member_source, &field.value_type)?;
                }
                for field in fields {
                    let required = matches!(field.value_type, Type::NonNullType(_))
                        && field.default_value.is_none();
                    if required && !members.contains_key(&field.name) {
                        return Err(self.rule.error(format!(
                            "{at}.{}: the required field of {type_name} has no source",
                            field.name
                        )));
                    }
                }
                Ok(())
            }
        }
    }
}

fn fetched_subgraphs(node: &ExecNode, into: &mut Vec<String>) {
    let mut add = |name: &str| {
        if !into.iter().any(|s| s == name) {
            into.push(name.to_owned());
        }
    };
    match node {
        ExecNode::Fetch(f) | ExecNode::Flatten { fetch: f, .. } => add(&f.subgraph),
        ExecNode::Batch(b) => add(&b.subgraph),
        ExecNode::Sequence(nodes) | ExecNode::Parallel(nodes) => {
            nodes.iter().for_each(|n| fetched_subgraphs(n, into))
        }
        ExecNode::Condition {
            if_clause,
            else_clause,
            ..
        } => {
            for n in [if_clause, else_clause].into_iter().flatten() {
                fetched_subgraphs(n, into);
            }
        }
        ExecNode::Subscription { primary, rest } => {
            add(&primary.subgraph);
            if let Some(rest) = rest {
                fetched_subgraphs(rest, into);
            }
        }
        ExecNode::Unsupported(_) => {}
    }
}
