//! The client operation compiled for response shaping: every field with its
//! response key and declared type, fragments kept with their type conditions
//! (named fragments inlined), `@skip`/`@include` kept for evaluation per
//! request. Field collection per concrete object type happens here too.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Directive, Document, FragmentDefinition, Selection, SelectionSet, TypeCondition, Value,
};
use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value as Json};

use super::json_write;
use super::schema_index::{named_type, SchemaIndex, TypeKind};

/// Where a `@skip`/`@include` condition gets its boolean.
#[derive(Debug, Clone)]
pub enum BoolSource {
    Literal(bool),
    Variable(String),
}

#[derive(Debug, Clone)]
pub struct Condition {
    /// `true` for `@skip`, `false` for `@include`.
    pub skip: bool,
    pub source: BoolSource,
}

/// True when every condition lets the selection through.
pub fn conditions_hold(conditions: &[Condition], variables: &Map<String, Json>) -> bool {
    conditions.iter().all(|c| {
        let value = match &c.source {
            BoolSource::Literal(b) => *b,
            BoolSource::Variable(name) => {
                variables.get(name).and_then(Json::as_bool).unwrap_or(false)
            }
        };
        value != c.skip
    })
}

#[derive(Debug)]
pub struct FieldShape {
    pub response_key: String,
    /// `"response_key":`, ready to write.
    pub key_json: Box<[u8]>,
    pub name: String,
    /// Declared type in the public schema.
    pub ty: Type,
    /// The kind of the declared type's named type.
    pub kind: Option<TypeKind>,
    pub arguments: Vec<(String, Value)>,
    pub conditions: Vec<Condition>,
    pub selection: SelectionShape,
}

#[derive(Debug)]
pub struct FragmentShape {
    pub type_condition: Option<String>,
    pub conditions: Vec<Condition>,
    pub selection: SelectionShape,
}

#[derive(Debug)]
pub enum ShapeItem {
    Field(FieldShape),
    Fragment(FragmentShape),
}

#[derive(Debug, Default)]
pub struct SelectionShape {
    pub items: Vec<ShapeItem>,
}

impl SelectionShape {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("Cannot query field \"{field}\" on type \"{type_name}\".")]
    UnknownField { type_name: String, field: String },
    #[error("Unknown fragment \"{0}\".")]
    UnknownFragment(String),
    #[error("The operation nests fragments too deeply.")]
    TooDeep,
}

const MAX_DEPTH: usize = 128;

/// Compiles a validated selection set whose parent type is `parent`.
pub fn compile(
    document: &Document,
    selection_set: &SelectionSet,
    parent: &str,
    schema: &SchemaIndex,
) -> Result<SelectionShape, ShapeError> {
    let fragments = super::operation::fragments_by_name(document);
    let compiler = Compiler { fragments, schema };
    compiler.selection(selection_set, parent, 0)
}

struct Compiler<'a> {
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    schema: &'a SchemaIndex,
}

fn conditions(directives: &[Directive]) -> Vec<Condition> {
    directives
        .iter()
        .filter(|d| d.name == "skip" || d.name == "include")
        .filter_map(|d| {
            let value = d
                .arguments
                .iter()
                .find(|(n, _)| n == "if")
                .map(|(_, v)| v)?;
            let source = match value {
                Value::Boolean(b) => BoolSource::Literal(*b),
                Value::Variable(v) => BoolSource::Variable(v.clone()),
                _ => return None,
            };
            Some(Condition {
                skip: d.name == "skip",
                source,
            })
        })
        .collect()
}

impl Compiler<'_> {
    fn selection(
        &self,
        set: &SelectionSet,
        parent: &str,
        depth: usize,
    ) -> Result<SelectionShape, ShapeError> {
        if depth > MAX_DEPTH {
            return Err(ShapeError::TooDeep);
        }
        let mut items = Vec::with_capacity(set.items.len());
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    let ty = if field.name == "__typename" {
                        Type::NonNullType(Box::new(Type::NamedType("String".into())))
                    } else {
                        self.schema
                            .field_type(parent, &field.name)
                            .cloned()
                            .ok_or_else(|| ShapeError::UnknownField {
                                type_name: parent.to_string(),
                                field: field.name.clone(),
                            })?
                    };
                    let child = if field.selection_set.items.is_empty() {
                        SelectionShape::default()
                    } else {
                        self.selection(&field.selection_set, named_type(&ty), depth + 1)?
                    };
                    let response_key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                    let mut key_json = Vec::with_capacity(response_key.len() + 3);
                    json_write::key(&mut key_json, &response_key);
                    items.push(ShapeItem::Field(FieldShape {
                        key_json: key_json.into_boxed_slice(),
                        response_key,
                        name: field.name.clone(),
                        kind: self.schema.kind(named_type(&ty)),
                        ty,
                        arguments: field.arguments.clone(),
                        conditions: conditions(&field.directives),
                        selection: child,
                    }));
                }
                Selection::InlineFragment(fragment) => {
                    let type_condition = fragment
                        .type_condition
                        .as_ref()
                        .map(|TypeCondition::On(t)| t.clone());
                    let inner_parent = type_condition.as_deref().unwrap_or(parent);
                    items.push(ShapeItem::Fragment(FragmentShape {
                        selection: self.selection(
                            &fragment.selection_set,
                            inner_parent,
                            depth + 1,
                        )?,
                        type_condition,
                        conditions: conditions(&fragment.directives),
                    }));
                }
                Selection::FragmentSpread(spread) => {
                    let definition = self
                        .fragments
                        .get(spread.fragment_name.as_str())
                        .ok_or_else(|| ShapeError::UnknownFragment(spread.fragment_name.clone()))?;
                    let TypeCondition::On(on) = &definition.type_condition;
                    items.push(ShapeItem::Fragment(FragmentShape {
                        selection: self.selection(&definition.selection_set, on, depth + 1)?,
                        type_condition: Some(on.clone()),
                        conditions: conditions(&spread.directives)
                            .into_iter()
                            .chain(conditions(&definition.directives))
                            .collect(),
                    }));
                }
            }
        }
        Ok(SelectionShape { items })
    }
}

/// Fields grouped by response key, in first-seen order.
pub type CollectedFields<'s> = Vec<(&'s str, Vec<&'s FieldShape>)>;

/// Collects the fields that apply to an object whose concrete type is
/// `object_type` (or, when unknown, only fragments on `declared`).
pub fn collect_fields<'s>(
    shapes: &[&'s SelectionShape],
    object_type: Option<&str>,
    declared: &str,
    schema: &SchemaIndex,
    variables: &Map<String, Json>,
) -> CollectedFields<'s> {
    let mut out: CollectedFields<'s> = Vec::new();
    for shape in shapes {
        collect_into(shape, object_type, declared, schema, variables, &mut out);
    }
    out
}

fn collect_into<'s>(
    shape: &'s SelectionShape,
    object_type: Option<&str>,
    declared: &str,
    schema: &SchemaIndex,
    variables: &Map<String, Json>,
    out: &mut CollectedFields<'s>,
) {
    for item in &shape.items {
        match item {
            ShapeItem::Field(field) => {
                if !conditions_hold(&field.conditions, variables) {
                    continue;
                }
                match out
                    .iter_mut()
                    .find(|(key, _)| *key == field.response_key.as_str())
                {
                    Some((_, fields)) => fields.push(field),
                    None => out.push((field.response_key.as_str(), vec![field])),
                }
            }
            ShapeItem::Fragment(fragment) => {
                if !conditions_hold(&fragment.conditions, variables) {
                    continue;
                }
                let applies = match (&fragment.type_condition, object_type) {
                    (None, _) => true,
                    (Some(condition), Some(object)) => schema.satisfies(object, condition),
                    (Some(condition), None) => condition == declared,
                };
                if applies {
                    collect_into(
                        &fragment.selection,
                        object_type,
                        declared,
                        schema,
                        variables,
                        out,
                    );
                }
            }
        }
    }
}
